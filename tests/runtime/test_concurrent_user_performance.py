"""1,000 concurrent scopes with failures and cancellations: everything is accounted for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from runtime_support import Recorder, bounded, wait_until
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from migrator.runtime import (
    AgentClassRegistry,
    AgentInstanceFactory,
    BaseAgent,
    InProcessEventRouter,
    Runtime,
    UserWebSocketEmitter,
)
from migrator.runtime.db import (
    create_session_factory,
    dispose_session_factory,
    get_connection_pool_status,
    session_factory_engine,
    sqlite_url,
)

SCOPES = 1000
USERS = 200
FAILING = range(0, SCOPES, 10)          # 10%
CANCELLED = range(5, SCOPES, 20)        # 5%, disjoint from FAILING

metadata = MetaData()
runs = Table("runs", metadata, Column("id", Integer, primary_key=True),
             Column("user_id", String), Column("run_id", String))


class Boom(Exception):
    pass


class LoadAgent(BaseAgent):
    """Writes one row, emits events, and fails or parks when told to."""

    def __init__(self, parked: asyncio.Queue[str]) -> None:
        super().__init__()
        self.parked = parked

    async def execute(self, request: str, run_id: str) -> None:
        await self.notify_event("agent_started")
        if request == "park":
            await self.db_session.execute(text("SELECT 1"))
            await self.notify_event("agent_thinking", {"parked": True})
            self.parked.put_nowait(run_id)
            await asyncio.Event().wait()
        await self.db_session.execute(runs.insert().values(user_id=self.user_id,
                                                           run_id=run_id))
        await self.notify_event("agent_thinking", {"written": True})
        if request == "fail":
            await self.notify_event("agent_error", {"error": "boom"})
            raise Boom(run_id)
        await self.notify_event("agent_completed")


@pytest.fixture
async def load_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker]:
    # Parked scopes each hold a connection, so the pool must outnumber them.
    maker = create_session_factory(sqlite_url(tmp_path / "load.sqlite3"),
                                   pool_size=len(CANCELLED) + 10, max_overflow=0,
                                   pool_timeout=60)
    async with session_factory_engine(maker).begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield maker
    await dispose_session_factory(maker)


async def test_thousand_scopes_with_failures_and_cancellations(
    load_sessions: async_sessionmaker,
) -> None:
    registry = AgentClassRegistry()
    registry.register("load", LoadAgent, "Load test agent")
    registry.freeze()
    router = InProcessEventRouter()
    parked: asyncio.Queue[str] = asyncio.Queue()
    runtime = Runtime(router=router, session_factory=load_sessions, class_registry=registry,
                      agent_dependencies={"parked": parked})
    factory = AgentInstanceFactory(runtime)
    sinks = {f"user-{u}": Recorder() for u in range(USERS)}
    for user, sink in sinks.items():
        router.register(user, sink)
    all_open = asyncio.Event()
    emitters: list[UserWebSocketEmitter] = []
    kind = {i: "fail" if i in FAILING else "park" if i in CANCELLED else "ok"
            for i in range(SCOPES)}

    async def scope(i: int) -> str:
        user = f"user-{i % USERS}"
        async with factory.user_execution_scope(user, f"thread-{i}", f"run-{i}") as context:
            emitters.append(context.websocket_emitter)
            if len(emitters) == SCOPES:
                all_open.set()
            await all_open.wait()
            agent = await factory.create_agent_instance("load", context)
            await agent.execute(kind[i], context.run_id)
        return context.run_id

    tasks = {i: asyncio.create_task(scope(i)) for i in range(SCOPES)}
    await bounded(all_open.wait(), 30)
    assert factory.get_factory_metrics()["active_contexts"] == SCOPES
    finishing = [t for i, t in tasks.items() if i not in CANCELLED]
    outcomes = await bounded(asyncio.gather(*finishing, return_exceptions=True), 60)
    await wait_until(lambda: parked.qsize() == len(CANCELLED), 30)
    for i in CANCELLED:
        tasks[i].cancel()
    cancelled = await bounded(asyncio.gather(*(tasks[i] for i in CANCELLED),
                                             return_exceptions=True))

    assert sum(isinstance(o, Boom) for o in outcomes) == len(FAILING)
    assert sum(isinstance(o, str) for o in outcomes) == SCOPES - len(FAILING) - len(CANCELLED)
    assert all(isinstance(c, asyncio.CancelledError) for c in cancelled)

    late = [await emitter.notify_agent_completed("late") for emitter in emitters]
    assert not any(late)

    succeeded = SCOPES - len(FAILING) - len(CANCELLED)
    metrics = factory.get_factory_metrics()
    assert metrics["active_contexts"] == 0
    assert factory.get_active_contexts_summary()["total_active_contexts"] == 0
    assert (metrics["contexts_created"], metrics["contexts_succeeded"],
            metrics["contexts_failed"], metrics["contexts_cancelled"],
            metrics["contexts_cleaned"]) == (SCOPES, succeeded, len(FAILING),
                                             len(CANCELLED), SCOPES)
    assert (metrics["instances_created"], metrics["cleanup_errors"]) == (SCOPES, 0)
    assert (metrics["sessions_opened"], metrics["sessions_closed"], metrics["open_sessions"],
            metrics["sessions_committed"], metrics["sessions_rolled_back"]) == (
        SCOPES, SCOPES, 0, succeeded, len(FAILING) + len(CANCELLED))
    emitted = 3 * (succeeded + len(FAILING)) + 2 * len(CANCELLED)
    assert (metrics["events_emitted"], metrics["events_dropped"]) == (emitted, SCOPES)
    assert get_connection_pool_status(load_sessions)["active"] == 0

    delivered = 0
    for user, sink in sinks.items():
        assert {e.user_id for e in sink.events} <= {user}
        by_run: dict[str, list[int]] = {}
        for event in sink.events:
            by_run.setdefault(event.run_id, []).append(event.sequence)
        for sequences in by_run.values():
            assert sequences == list(range(1, len(sequences) + 1))
        delivered += len(sink.events)
    assert delivered == emitted
    assert (router.undeliverable, router.sink_errors) == (0, 0)

    async with load_sessions() as session:
        rows = {tuple(r) for r in await session.execute(select(runs.c.user_id, runs.c.run_id))}
    assert rows == {(f"user-{i % USERS}", f"run-{i}") for i in range(SCOPES)
                    if kind[i] == "ok"}
