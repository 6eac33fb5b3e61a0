"""Request-scoped sessions on a real SQLite file: isolation, cleanup and the pool."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from runtime_support import bounded
from sqlalchemy import Column, Integer, MetaData, String, Table, event, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from migrator.runtime import AgentInstanceFactory, Runtime, SessionConcurrencyError
from migrator.runtime.db import get_connection_pool_status, session_factory_engine

metadata = MetaData()
notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", String, nullable=False),
    Column("body", String, nullable=False),
)


class RecordingSession(AsyncSession):
    """An AsyncSession that remembers how often it was closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.close_calls = 0

    async def close(self) -> None:
        self.close_calls += 1
        await super().close()


class Boom(Exception):
    pass


@pytest.fixture
async def sessions(session_factory: async_sessionmaker) -> AsyncIterator[list[RecordingSession]]:
    """Every session the runtime opens during the test, in opening order."""
    engine = session_factory_engine(session_factory)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield []


@pytest.fixture
def maker(session_factory: async_sessionmaker) -> async_sessionmaker:
    """A sessionmaker on the test database whose sessions count their close() calls."""
    return async_sessionmaker(session_factory_engine(session_factory),
                              class_=RecordingSession, expire_on_commit=False)


@pytest.fixture
def db_factory(runtime: Runtime, maker: async_sessionmaker,
               sessions: list[RecordingSession]) -> AgentInstanceFactory:
    def open_session() -> RecordingSession:
        session = maker()
        sessions.append(session)
        return session

    return AgentInstanceFactory(Runtime(class_registry=runtime.registry,
                                        session_factory=open_session))


async def rows_of(maker: async_sessionmaker) -> list[tuple[str, str]]:
    async with maker() as session:
        result = await session.execute(select(notes.c.user_id, notes.c.body)
                                       .order_by(notes.c.id))
        return [tuple(row) for row in result]


async def test_concurrent_users_write_and_read_only_their_own_rows(
    db_factory: AgentInstanceFactory, maker: async_sessionmaker,
) -> None:
    async def work(user: str) -> list[str]:
        async with db_factory.user_execution_scope(user, f"t-{user}") as context:
            for n in range(3):
                await context.db_session.execute(notes.insert().values(user_id=user,
                                                                       body=f"{user}-{n}"))
                await asyncio.sleep(0)
            result = await context.db_session.execute(
                select(notes.c.body).where(notes.c.user_id == context.user_id))
            return [row.body for row in result]

    users = [f"user{i}" for i in range(20)]
    seen = await bounded(asyncio.gather(*(work(u) for u in users)), 60)
    for user, bodies in zip(users, seen):
        assert bodies == [f"{user}-{n}" for n in range(3)]
    assert len(await rows_of(maker)) == 60


async def test_one_users_failed_scope_does_not_touch_another_users_rows(
    db_factory: AgentInstanceFactory, maker: async_sessionmaker,
) -> None:
    alice_wrote = asyncio.Event()

    async def alice() -> None:
        async with db_factory.user_execution_scope("alice", "t1") as context:
            await context.db_session.execute(notes.insert().values(user_id="alice", body="a"))
            alice_wrote.set()
            raise Boom()

    async def bob() -> None:
        await alice_wrote.wait()
        async with db_factory.user_execution_scope("bob", "t2") as context:
            await context.db_session.execute(notes.insert().values(user_id="bob", body="b"))

    results = await bounded(asyncio.gather(alice(), bob(), return_exceptions=True), 60)
    assert isinstance(results[0], Boom) and results[1] is None
    assert await rows_of(maker) == [("bob", "b")]


async def test_no_session_is_shared_between_scopes(
    db_factory: AgentInstanceFactory, sessions: list[RecordingSession],
) -> None:
    barrier = asyncio.Barrier(10)

    async def work(i: int) -> tuple[int, int]:
        async with db_factory.user_execution_scope(f"user{i}", "t") as context:
            await context.db_session.execute(text("SELECT 1"))
            await barrier.wait()
            return id(context.db_session), id(context.db_session.wrapped)

    ids = await bounded(asyncio.gather(*(work(i) for i in range(10))), 60)
    assert len({guard for guard, _ in ids}) == 10
    assert len({raw for _, raw in ids}) == 10
    assert len(sessions) == 10


async def test_every_session_is_closed_after_success_error_and_cancel(
    db_factory: AgentInstanceFactory, maker: async_sessionmaker,
    sessions: list[RecordingSession],
) -> None:
    parked = 0
    all_parked = asyncio.Event()

    async def succeed(i: int) -> None:
        async with db_factory.user_execution_scope(f"ok{i}", "t") as context:
            await context.db_session.execute(notes.insert().values(user_id=f"ok{i}", body="x"))

    async def fail(i: int) -> None:
        async with db_factory.user_execution_scope(f"bad{i}", "t") as context:
            await context.db_session.execute(notes.insert().values(user_id=f"bad{i}", body="x"))
            raise Boom()

    async def park(i: int) -> None:
        nonlocal parked
        async with db_factory.user_execution_scope(f"park{i}", "t") as context:
            await context.db_session.execute(text("SELECT 1"))
            parked += 1
            if parked == 5:
                all_parked.set()
            await asyncio.Event().wait()

    parkers = [asyncio.create_task(park(i)) for i in range(5)]
    await bounded(all_parked.wait(), 60)
    assert get_connection_pool_status(maker)["active"] == 5
    outcomes = await bounded(asyncio.gather(*(succeed(i) for i in range(5)),
                                            *(fail(i) for i in range(5)),
                                            return_exceptions=True), 60)
    for task in parkers:
        task.cancel()
    cancelled = await bounded(asyncio.gather(*parkers, return_exceptions=True))
    assert all(isinstance(c, asyncio.CancelledError) for c in cancelled)
    assert sum(isinstance(o, Boom) for o in outcomes) == 5
    assert len(sessions) == 15
    assert all(s.close_calls == 1 and not s.in_transaction() for s in sessions)
    assert get_connection_pool_status(maker)["active"] == 0
    metrics = db_factory.get_factory_metrics()
    assert (metrics["sessions_opened"], metrics["sessions_closed"], metrics["open_sessions"],
            metrics["sessions_committed"], metrics["sessions_rolled_back"]) == (15, 15, 0, 5, 10)
    assert sorted(user for user, _ in await rows_of(maker)) == [f"ok{i}" for i in range(5)]


async def test_a_session_passed_in_is_committed_and_closed(
    db_factory: AgentInstanceFactory, maker: async_sessionmaker,
) -> None:
    session = maker()
    async with db_factory.user_execution_scope("alice", "t1", db_session=session) as context:
        assert context.db_session.wrapped is session
        await context.db_session.execute(notes.insert().values(user_id="alice", body="a"))
    assert session.close_calls == 1
    assert await rows_of(maker) == [("alice", "a")]


async def test_two_tasks_on_one_real_session_are_refused(
    db_factory: AgentInstanceFactory, maker: async_sessionmaker,
) -> None:
    entered, release = threading.Event(), threading.Event()

    def gate() -> int:
        entered.set()
        release.wait(30)
        return 1

    engine = session_factory_engine(maker)

    @event.listens_for(engine.sync_engine, "connect")
    def add_gate(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("gate", 0, gate)

    await engine.dispose()  # so the next connection is made with the gate function

    async with db_factory.user_execution_scope("alice", "t1") as context:
        slow = asyncio.create_task(context.db_session.scalar(text("SELECT gate()")),
                                   name="slow-query")
        try:
            assert await bounded(asyncio.to_thread(entered.wait, 30))
            with pytest.raises(SessionConcurrencyError, match="in use by task 'slow-query'"):
                await context.db_session.execute(text("SELECT 2"))
        finally:
            release.set()
        assert await bounded(slow) == 1
        assert await context.db_session.scalar(text("SELECT 3")) == 3
    assert get_connection_pool_status(maker)["active"] == 0


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(tmp_path: Any) -> None:
    from migrator.runtime.db import create_session_factory, dispose_session_factory, sqlite_url

    single = create_session_factory(sqlite_url(tmp_path / "one.sqlite3"), pool_size=1,
                                    max_overflow=0)
    try:
        async with session_factory_engine(single).begin() as connection:
            await connection.run_sync(metadata.create_all)
        session = single()
        await session.execute(notes.insert().values(user_id="alice", body="never committed"))
        await session.close()
        async with single() as again:
            # The pool's only connection: it came back with no transaction and no row.
            connection = await again.connection()
            raw = await connection.get_raw_connection()
            assert not raw.driver_connection.in_transaction
            assert (await again.execute(select(notes.c.body))).all() == []
    finally:
        await dispose_session_factory(single)


async def test_a_committed_scope_returns_its_connection_without_a_rollback(
    runtime: Runtime, session_factory: async_sessionmaker, sessions: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import aiosqlite

    rollbacks: list[str] = []
    original = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> None:
        rollbacks.append("rollback")
        await original(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    factory = AgentInstanceFactory(Runtime(class_registry=runtime.registry,
                                           session_factory=session_factory))
    async with factory.user_execution_scope("alice", "t1") as context:
        await context.db_session.execute(notes.insert().values(user_id="alice", body="a"))
    with pytest.raises(Boom):
        async with factory.user_execution_scope("bob", "t1") as context:
            await context.db_session.execute(notes.insert().values(user_id="bob", body="b"))
            raise Boom
    # The failed scope's rollback is its own; the committed one added none on return.
    assert rollbacks == ["rollback"]
    assert await rows_of(session_factory) == [("alice", "a")]
