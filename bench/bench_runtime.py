"""Benchmark of the reference runtime; run by hand: ``python bench/bench_runtime.py``.

Prints one table: the median of each figure over several runs, with the min-max range.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migrator.runtime import (  # noqa: E402
    AgentClassRegistry,
    AgentInstanceFactory,
    BaseAgent,
    InProcessEventRouter,
    Runtime,
    UserExecutionContext,
    UserWebSocketEmitter,
)

MODEL_CALL_SECONDS = 0.05
REQUESTS_PER_USER = 10


class BenchAgent(BaseAgent):
    """Emits three events around a simulated model call."""

    async def execute(self, request: float, run_id: str) -> None:
        await self.notify_event("agent_started")
        await asyncio.sleep(request)
        await self.notify_event("agent_thinking")
        await self.notify_event("agent_completed")


def new_factory(users: int = 0) -> AgentInstanceFactory:
    registry = AgentClassRegistry()
    registry.register("bench", BenchAgent, "Benchmark agent")
    registry.freeze()
    router = InProcessEventRouter()
    for user in range(users):
        router.register(f"user-{user}", lambda event: None)
    return AgentInstanceFactory(Runtime(router=router, class_registry=registry))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def context_creation_us(n: int = 50_000) -> tuple[float, float]:
    clock = time.perf_counter_ns
    create = UserExecutionContext.from_request_supervisor
    samples = []
    for i in range(n):
        start = clock()
        create("user-1", "thread-1")
        samples.append((clock() - start) / 1000)
    return percentile(samples, 0.5), percentile(samples, 0.99)


async def scope_cycle_us(n: int = 20_000) -> tuple[float, float]:
    factory = new_factory()
    clock = time.perf_counter_ns
    samples = []
    for i in range(n):
        start = clock()
        async with factory.user_execution_scope("user-1", "thread-1") as context:
            await factory.create_agent_instance("bench", context)
        samples.append((clock() - start) / 1000)
    return percentile(samples, 0.5), percentile(samples, 0.99)


async def throughput(users: int) -> tuple[float, float, float]:
    """Return requests per second, the ratio to perfect scaling of one user's rate, and the
    CPU time per request (microseconds) of the whole process."""
    factory = new_factory(users)

    async def user(index: int) -> None:
        for _ in range(REQUESTS_PER_USER):
            async with factory.user_execution_scope(f"user-{index}", "thread") as context:
                agent = await factory.create_agent_instance("bench", context)
                await agent.execute(MODEL_CALL_SECONDS, context.run_id)

    return await _timed(users, user)


async def throughput_without_runtime(users: int) -> tuple[float, float, float]:
    """The same users and simulated model calls with no runtime at all: the ceiling that
    the event loop and the machine set on the scaling ratio."""
    async def user(index: int) -> None:
        for _ in range(REQUESTS_PER_USER):
            await asyncio.sleep(MODEL_CALL_SECONDS)

    return await _timed(users, user)


async def runtime_time_per_request(users: int) -> dict[str, float]:
    """Time each runtime call of the throughput workload (medians, in microseconds).

    A pass of its own, since the clock reads add to the requests they time. The agent's
    events are sent here directly, as BenchAgent.execute sends them.
    """
    factory = new_factory(users)
    clock = time.perf_counter_ns
    parts: dict[str, list[float]] = {
        "build scope": [], "enter scope": [], "create agent": [], "event": [],
        "exit scope": []}

    async def user(index: int) -> None:
        for _ in range(REQUESTS_PER_USER):
            t0 = clock()
            scope = factory.user_execution_scope(f"user-{index}", "thread")
            t1 = clock()
            context = await scope.__aenter__()
            t2 = clock()
            agent = await factory.create_agent_instance("bench", context)
            t3 = clock()
            await agent.notify_event("agent_started")
            t4 = clock()
            await asyncio.sleep(MODEL_CALL_SECONDS)
            t5 = clock()
            await agent.notify_event("agent_thinking")
            t6 = clock()
            await agent.notify_event("agent_completed")
            t7 = clock()
            await scope.__aexit__(None, None, None)
            t8 = clock()
            parts["build scope"].append(t1 - t0)
            parts["enter scope"].append(t2 - t1)
            parts["create agent"].append(t3 - t2)
            parts["event"].extend((t4 - t3, t6 - t5, t7 - t6))
            parts["exit scope"].append(t8 - t7)

    await asyncio.gather(*(user(i) for i in range(users)))
    medians = {name: statistics.median(ns) / 1000 for name, ns in parts.items()}
    medians["one request (sum)"] = sum(medians.values()) + 2 * medians["event"]
    return medians


async def _timed(users: int, user: Callable[[int], Awaitable[None]]) -> tuple[float, float, float]:
    start, cpu_start = time.perf_counter(), time.process_time()
    await asyncio.gather(*(user(i) for i in range(users)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rate = users * REQUESTS_PER_USER / elapsed
    ideal = users / MODEL_CALL_SECONDS
    return rate, rate / ideal, cpu / (users * REQUESTS_PER_USER) * 1e6


async def retained_bytes_per_open_scope(n: int = 2_000) -> float:
    """Return the memory held per open scope (context, emitter, agent, bookkeeping)."""
    factory = new_factory(n)
    go, release, all_open = asyncio.Event(), asyncio.Event(), asyncio.Event()
    opened = 0

    async def hold(index: int) -> None:
        nonlocal opened
        await go.wait()
        async with factory.user_execution_scope(f"user-{index}", "thread") as context:
            await factory.create_agent_instance("bench", context)
            opened += 1
            if opened == n:
                all_open.set()
            await release.wait()

    tracemalloc.start()
    # The tasks exist and wait before the baseline, so only the scopes are counted.
    tasks = [asyncio.create_task(hold(i)) for i in range(n)]
    await asyncio.sleep(0)
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    go.set()
    await all_open.wait()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    release.set()
    await asyncio.gather(*tasks)
    return (after - before) / n


async def surviving_objects(n: int = 100_000) -> int:
    factory = new_factory()

    async def one(index: int) -> None:
        async with factory.user_execution_scope(f"user-{index % 100}", "thread") as context:
            await factory.create_agent_instance("bench", context)

    for batch in range(0, n, 100):
        await asyncio.gather(*(one(i) for i in range(batch, batch + 100)))
    gc.collect()
    kinds = (UserExecutionContext, BaseAgent, UserWebSocketEmitter)
    return sum(1 for obj in gc.get_objects() if isinstance(obj, kinds)) + len(
        factory.runtime.tracker)


def summarise(values: list[float], fmt: Callable[[float], str]) -> str:
    return f"{fmt(statistics.median(values))}  ({fmt(min(values))} - {fmt(max(values))})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = max(3, args.runs)
    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    for run in range(runs):
        print(f"run {run + 1}/{runs}", file=sys.stderr, flush=True)
        p50, p99 = context_creation_us()
        add("context creation p50 (us)", p50)
        add("context creation p99 (us)", p99)
        p50, p99 = asyncio.run(scope_cycle_us())
        add("scope enter + create agent + exit p50 (us)", p50)
        add("scope enter + create agent + exit p99 (us)", p99)
        for users in (1, 10, 100, 1000):
            rate, ratio, cpu = asyncio.run(throughput(users))
            add(f"throughput, {users} users (req/s)", rate)
            add(f"scaling ratio, {users} users", ratio)
        add("CPU per request, 1000 users (us)", cpu)
        rate, ratio, cpu = asyncio.run(throughput_without_runtime(1000))
        add("scaling ratio without the runtime, 1000 users", ratio)
        add("CPU per request without the runtime, 1000 users (us)", cpu)
        for part, us in asyncio.run(runtime_time_per_request(1000)).items():
            add(f"in the runtime, 1000 users: {part} p50 (us)", us)
        add("retained memory per open scope (KiB)",
            asyncio.run(retained_bytes_per_open_scope()) / 1024)
        add("objects surviving 100,000 scopes", asyncio.run(surviving_objects()))

    formats: dict[str, Callable[[float], str]] = {
        "ratio": lambda v: f"{v:.3f}",
        "req/s": lambda v: f"{v:,.0f}",
        "objects": lambda v: f"{v:.0f}",
    }
    width = max(len(name) for name in rows)
    print(f"{'measure'.ljust(width)}  median  (min - max) over {runs} runs")
    for name, values in rows.items():
        fmt = next((f for key, f in formats.items() if key in name), lambda v: f"{v:.1f}")
        print(f"{name.ljust(width)}  {summarise(values, fmt)}")


if __name__ == "__main__":
    main()
