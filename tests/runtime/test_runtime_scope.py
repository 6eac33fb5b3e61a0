"""user_execution_scope cleanup, metrics, summaries and stale-context cleanup."""

from __future__ import annotations

import asyncio
import re

import pytest
from runtime_support import Recorder, bounded

from migrator.runtime import (
    AgentInstanceFactory,
    Runtime,
    SessionClosedError,
    SessionConcurrencyError,
)


class FakeSession:
    """Records lifecycle calls; ``gate`` lets a test hold execute() open."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail_commit = False

    async def execute(self, statement: str) -> str:
        self.calls.append(f"execute:{statement}")
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        return statement

    async def commit(self) -> None:
        self.calls.append("commit")
        if self.fail_commit:
            raise RuntimeError("commit failed")

    async def rollback(self) -> None:
        self.calls.append("rollback")

    async def close(self) -> None:
        self.calls.append("close")


class Boom(Exception):
    pass


async def test_success_commits_and_closes(runtime: Runtime) -> None:
    session = FakeSession()
    factory = AgentInstanceFactory(runtime)
    async with factory.user_execution_scope("alice", "t1", db_session=session) as context:
        await context.db_session.execute("insert")
    assert session.calls == ["execute:insert", "commit", "close"]
    assert context.is_cleaned and context._is_cleaned
    assert context.websocket_emitter.closed


async def test_error_rolls_back_closes_and_propagates(runtime: Runtime) -> None:
    session = FakeSession()
    factory = AgentInstanceFactory(runtime)
    with pytest.raises(Boom):
        async with factory.user_execution_scope("alice", "t1", db_session=session):
            raise Boom()
    assert session.calls == ["rollback", "close"]
    metrics = factory.get_factory_metrics()
    assert (metrics["contexts_failed"], metrics["active_contexts"]) == (1, 0)


async def test_failed_commit_rolls_back_and_raises(runtime: Runtime) -> None:
    session = FakeSession()
    session.fail_commit = True
    factory = AgentInstanceFactory(runtime)
    with pytest.raises(RuntimeError, match="commit failed"):
        async with factory.user_execution_scope("alice", "t1", db_session=session):
            pass
    assert session.calls == ["commit", "rollback", "close"]
    assert factory.get_factory_metrics()["contexts_failed"] == 1


async def test_cancellation_rolls_back_and_closes(runtime: Runtime) -> None:
    session = FakeSession()
    factory = AgentInstanceFactory(runtime)
    inside = asyncio.Event()

    async def body() -> None:
        async with factory.user_execution_scope("alice", "t1", db_session=session):
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(body())
    await bounded(inside.wait())
    assert factory.get_factory_metrics()["active_contexts"] == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bounded(task)
    assert session.calls == ["rollback", "close"]
    metrics = factory.get_factory_metrics()
    assert (metrics["contexts_cancelled"], metrics["active_contexts"],
            metrics["open_sessions"]) == (1, 0, 0)


async def test_emits_after_the_scope_are_dropped_and_counted(runtime: Runtime) -> None:
    sink = Recorder()
    runtime.router.register("alice", sink)
    factory = AgentInstanceFactory(runtime)
    async with factory.user_execution_scope("alice", "t1") as context:
        agent = await factory.create_agent_instance("echo", context)
        assert await agent.notify_event("agent_thinking", {"n": 1}) is True
    assert await agent.notify_event("agent_thinking", {"n": 2}) is False
    assert await context.websocket_emitter.notify_agent_completed("echo") is False
    assert [e.data["n"] for e in sink.events] == [1]
    assert context.websocket_emitter.dropped_events == 2
    assert factory.get_factory_metrics()["events_dropped"] == 2


async def test_session_is_refused_after_the_scope(runtime: Runtime) -> None:
    session = FakeSession()
    async with AgentInstanceFactory(runtime).user_execution_scope(
            "alice", "t1", db_session=session) as context:
        pass
    with pytest.raises(SessionClosedError, match="closed when its scope ended"):
        await context.db_session.execute("late")
    assert "execute:late" not in session.calls


async def test_two_tasks_using_one_session_at_once_are_refused(runtime: Runtime) -> None:
    session = FakeSession()
    session.gate = asyncio.Event()
    async with AgentInstanceFactory(runtime).user_execution_scope(
            "alice", "t1", db_session=session) as context:
        first = asyncio.create_task(context.db_session.execute("first"), name="first")
        await bounded(session.entered.wait())
        with pytest.raises(SessionConcurrencyError, match="in use by task 'first'"):
            await context.db_session.execute("second")
        session.gate.set()
        assert await bounded(first) == "first"
        assert await context.db_session.execute("third") == "third"
    assert "execute:second" not in session.calls


async def test_active_contexts_summary_lists_open_scopes(factory: AgentInstanceFactory) -> None:
    async with factory.user_execution_scope("alice", "ta", "run-a") as a, \
            factory.user_execution_scope("bob", "tb", "run-b") as b:
        summary = factory.get_active_contexts_summary()
        assert summary["total_active_contexts"] == 2
        assert summary["contexts"][a.request_id]["run_id"] == "run-a"
        assert summary["contexts"][b.request_id]["has_websocket_emitter"] is True
    assert factory.get_active_contexts_summary() == {"total_active_contexts": 0,
                                                      "contexts": {}}


async def test_cleanup_inactive_contexts_closes_stale_scopes_once(runtime: Runtime) -> None:
    session = FakeSession()
    factory = AgentInstanceFactory(runtime)
    release = asyncio.Event()
    inside = asyncio.Event()

    async def stuck() -> None:
        async with factory.user_execution_scope("alice", "t1", db_session=session) as ctx:
            inside.set()
            await release.wait()
            assert ctx.websocket_emitter.closed

    task = asyncio.create_task(stuck())
    await bounded(inside.wait())
    assert await factory.cleanup_inactive_contexts(max_age_seconds=3600) == 0
    assert await factory.cleanup_inactive_contexts(max_age_seconds=0) == 1
    assert session.calls == ["rollback", "close"]
    assert factory.get_factory_metrics()["active_contexts"] == 0
    release.set()
    await bounded(task)
    assert session.calls == ["rollback", "close"]
    metrics = factory.get_factory_metrics()
    assert (metrics["stale_contexts_cleaned"], metrics["contexts_succeeded"],
            metrics["total_contexts_cleaned"]) == (1, 1, 1)


async def test_metrics_are_shared_by_factories_of_one_runtime(runtime: Runtime) -> None:
    first, second = AgentInstanceFactory(runtime), AgentInstanceFactory(runtime)
    async with first.user_execution_scope("alice", "t1"):
        assert second.get_factory_metrics()["active_contexts"] == 1


async def test_scope_cannot_be_entered_twice(factory: AgentInstanceFactory) -> None:
    scope = factory.user_execution_scope("alice", "t1")
    async with scope:
        with pytest.raises(RuntimeError, match="only once"):
            await scope.__aenter__()


async def test_every_scope_gets_fresh_random_ids(factory: AgentInstanceFactory) -> None:
    seen: set[str] = set()
    for run_id in (None, None, "run-given"):
        async with factory.user_execution_scope("alice", "t1", run_id) as context:
            seen.update((context.run_id, context.request_id))
        assert re.fullmatch(r"req_[0-9a-f]{32}", context.request_id)
        if run_id is None:
            assert re.fullmatch(r"run_[0-9a-f]{32}", context.run_id)
        else:
            assert context.run_id == run_id
    assert len(seen) == 6
