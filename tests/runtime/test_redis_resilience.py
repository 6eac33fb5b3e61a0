"""Redis killed and restarted under load: every event is delivered or reported, never lost quietly."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as redis
from runtime_support import SECRET, WAIT, Recorder, RedisProcess, bounded, wait_until

from migrator.runtime import (
    AgentEvent,
    Runtime,
    RuntimeSettings,
    TokenSigner,
    UserWebSocketEmitter,
)
from migrator.runtime.asgi import create_app
from migrator.runtime.demo import demo_registry
from migrator.runtime.metrics import RuntimeCounters
from migrator.runtime.redis_router import RedisEventRouter
from migrator.runtime.server import BackgroundServer

FAST = RuntimeSettings(redis_publish_timeout=10.0, health_timeout=0.5)


def accounted(events: list[AgentEvent], run_id: str) -> tuple[list[int], list[int]]:
    """Return (sequences delivered, sequences reported missing) for one run, in order."""
    delivered = [e.sequence for e in events if e.run_id == run_id and e.type != "gap"]
    missing = [n for e in events if e.run_id == run_id and e.type == "gap"
               for n in range(e.data["first_missing"], e.data["last_missing"] + 1)]
    return delivered, missing


@pytest.fixture
async def routers(restartable_redis: RedisProcess) -> AsyncIterator[list[RedisEventRouter]]:
    prefix = f"test:{uuid.uuid4().hex}"
    made = [RedisEventRouter(restartable_redis.url, channel_prefix=prefix, settings=FAST,
                             client_name=f"router-{i}") for i in range(2)]
    for router in made:
        await bounded(router.start())
    yield made
    for router in made:
        await bounded(router.aclose(), 20)


async def test_a_run_survives_redis_being_killed_and_restarted(
    routers: list[RedisEventRouter], restartable_redis: RedisProcess,
) -> None:
    publisher, subscriber = routers
    here, there = Recorder(), Recorder()
    publisher.register("alice", here)
    subscriber.register("alice", there)
    counters = RuntimeCounters()
    emitter = UserWebSocketEmitter("alice", "t1", "run-1", publisher, counters)

    async def run() -> None:
        for step in range(1, 61):
            await emitter.notify_agent_thinking("echo", "...", step)
            await asyncio.sleep(0.01)
        emitter.close()

    running = asyncio.create_task(run())
    await wait_until(lambda: len(there.events) >= 10)
    await asyncio.to_thread(restartable_redis.kill)
    await asyncio.sleep(0.3)
    assert await asyncio.to_thread(restartable_redis.start)
    await bounded(running, 30)

    assert (counters.events_emitted, counters.events_publish_failed) == (60, 0)
    assert publisher.reconnects >= 1 and subscriber.reconnects >= 1
    for recorder in (here, there):
        await wait_until(lambda r=recorder: sorted(sum(accounted(r.events, "run-1"), []))
                         == list(range(1, 61)))
        delivered, _ = accounted(recorder.events, "run-1")
        assert delivered == sorted(delivered)
    await wait_until(lambda: publisher.subscribed and subscriber.subscribed)


async def _kill_subscription(url: str, name: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        for entry in await client.client_list(_type="pubsub"):
            if entry.get("name") == name:
                await client.client_kill_filter(_id=entry["id"])
                return
        raise AssertionError(f"no pubsub connection named {name}")
    finally:
        await client.aclose()


async def test_a_subscriber_reports_what_it_missed_while_disconnected(
    restartable_redis: RedisProcess,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    publisher = RedisEventRouter(restartable_redis.url, channel_prefix=prefix, settings=FAST,
                                 client_name="publisher")
    # Slow to come back, so whole runs start and end while it is away.
    subscriber = RedisEventRouter(restartable_redis.url, channel_prefix=prefix, settings=FAST,
                                  client_name="subscriber", reconnect_pause=1.5)
    await bounded(publisher.start())
    await bounded(subscriber.start())
    try:
        inbox = Recorder()
        subscriber.register("alice", inbox)
        spanning = UserWebSocketEmitter("alice", "t1", "spanning", publisher)
        for step in range(3):
            await spanning.notify_agent_thinking("echo", "...", step)
        await wait_until(lambda: len(inbox.events) == 3)

        await _kill_subscription(restartable_redis.url, "subscriber")
        await wait_until(lambda: not subscriber.subscribed)
        for step in range(3):
            await spanning.notify_agent_thinking("echo", "...", step)
        spanning.close()
        unseen = UserWebSocketEmitter("alice", "t2", "unseen", publisher)
        for step in range(5):
            await unseen.notify_agent_thinking("echo", "...", step)
        unseen.close()
        assert not subscriber.subscribed, "the run must finish while the subscriber is away"

        await wait_until(lambda: subscriber.gaps == 2)
        assert accounted(inbox.events, "spanning") == ([1, 2, 3], [4, 5, 6])
        assert accounted(inbox.events, "unseen") == ([], [1, 2, 3, 4, 5])
        assert subscriber.events_missing == 8
        gap = next(e for e in inbox.events if e.type == "gap")
        assert (gap.user_id, gap.sequence) == ("alice", 0)
    finally:
        await bounded(publisher.aclose(), 20)
        await bounded(subscriber.aclose(), 20)


async def test_gap_in_the_middle_of_a_run_is_found_by_sequence(
    routers: list[RedisEventRouter], restartable_redis: RedisProcess,
) -> None:
    publisher, subscriber = routers
    inbox = Recorder()
    subscriber.register("alice", inbox)
    raw = redis.Redis.from_url(restartable_redis.url)
    try:
        for sequence in (1, 2, 5, 5, 6):
            event = AgentEvent("alice", "t", "r", "agent_thinking", {}, sequence)
            await raw.publish(subscriber.channel("alice"), event.to_json())
    finally:
        await raw.aclose()
    await wait_until(lambda: subscriber.received == 4)
    assert accounted(inbox.events, "r") == ([1, 2, 5, 6], [3, 4])
    assert subscriber.duplicates == 1


async def test_publishing_with_redis_down_fails_loudly_and_health_says_so(
    restartable_redis: RedisProcess,
) -> None:
    settings = RuntimeSettings(redis_publish_timeout=0.3, health_timeout=0.5)
    router = RedisEventRouter(restartable_redis.url, channel_prefix=f"test:{uuid.uuid4().hex}",
                              settings=settings)
    runtime = Runtime(router=router, class_registry=demo_registry())
    signer = TokenSigner(SECRET)
    headers = {"Authorization": f"Bearer {signer.issue('alice')}"}
    async with BackgroundServer(create_app(runtime, signer, settings=settings)) as server, \
            httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
        assert (await http.get("/readyz")).status_code == 200
        await asyncio.to_thread(restartable_redis.kill)
        await wait_until(lambda: not router.subscribed)
        ready, health = await http.get("/readyz"), await http.get("/healthz")
        assert (ready.status_code, health.status_code) == (503, 200)
        assert health.json()["status"] == "degraded"
        assert health.json()["events"]["ok"] is False
        failed = await http.post("/runs", headers=headers, json={"thread_id": "t"})
        assert failed.status_code == 503
        assert "not delivered to Redis" in failed.json()["error"]
        counters = runtime.tracker.counters
        assert (counters.events_emitted, counters.events_publish_failed) == (0, 1)
        assert counters.contexts_failed == 1

        assert await asyncio.to_thread(restartable_redis.start)
        await wait_until(lambda: router.subscribed)
        assert (await http.get("/readyz")).status_code == 200
        ok = await http.post("/runs", headers=headers, json={"thread_id": "t"})
        assert ok.status_code == 200, ok.text
        metrics = (await http.get("/metrics")).text
    assert "migrator_runtime_events_publish_failed_total 1.0" in metrics
    assert "migrator_runtime_redis_reconnects_total 1.0" in metrics


async def test_the_connection_pool_is_sized_from_settings(
    restartable_redis: RedisProcess,
) -> None:
    settings = RuntimeSettings(redis_max_connections=3)
    router = RedisEventRouter(restartable_redis.url, channel_prefix=f"test:{uuid.uuid4().hex}",
                              settings=settings, client_name="pooled")
    await bounded(router.start())
    inbox = Recorder()
    router.register("alice", inbox)
    try:
        emitters = [UserWebSocketEmitter("alice", "t", f"run-{i}", router) for i in range(300)]
        await bounded(asyncio.gather(*(e.notify_agent_started("echo") for e in emitters)))
        await wait_until(lambda: len(inbox.events) == 300)
        client = redis.Redis.from_url(restartable_redis.url)
        try:
            mine = [c for c in await client.client_list() if c.get("name") == "pooled"]
        finally:
            await client.aclose()
        assert 1 < len(mine) <= 3
    finally:
        await bounded(router.aclose())
