"""UserExecutionContext: immutability, id validation, generated ids, the current context."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from runtime_support import bounded

from migrator.runtime import (
    AgentInstanceFactory,
    InvalidContextError,
    NoActiveScopeError,
    UserExecutionContext,
    current_user_context,
    require_user_context,
)
from migrator.runtime.ids import PLACEHOLDER_IDS


def test_context_is_frozen() -> None:
    context = UserExecutionContext("alice", "t1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.user_id = "bob"  # type: ignore[misc]


def test_metadata_is_a_read_only_copy() -> None:
    source = {"plan": "pro"}
    context = UserExecutionContext("alice", "t1", metadata=source)
    source["plan"] = "free"
    assert context.metadata["plan"] == "pro"
    with pytest.raises(TypeError):
        context.metadata["plan"] = "free"  # type: ignore[index]


def test_from_request_supervisor_generates_run_and_request_ids() -> None:
    first = UserExecutionContext.from_request_supervisor("alice", "t1")
    second = UserExecutionContext.from_request_supervisor("alice", "t1")
    assert first.run_id.startswith("run_") and first.request_id.startswith("req_")
    assert first.run_id != second.run_id and first.request_id != second.request_id


def test_from_request_supervisor_keeps_given_ids_and_extra_metadata() -> None:
    context = UserExecutionContext.from_request_supervisor(
        user_id="alice", thread_id="t1", run_id="run-1", request_id="req-1",
        metadata={"a": 1}, source="websocket")
    assert (context.run_id, context.request_id) == ("run-1", "req-1")
    assert dict(context.metadata) == {"a": 1, "source": "websocket"}


@pytest.mark.parametrize("field", ["user_id", "thread_id", "run_id", "request_id"])
@pytest.mark.parametrize("value", ["", "None", "null", "undefined", "   ", " NULL "])
def test_placeholder_ids_are_refused(field: str, value: str) -> None:
    ids = {"user_id": "alice", "thread_id": "t1", "run_id": "r1", "request_id": "q1"}
    ids[field] = value
    with pytest.raises(InvalidContextError, match=field):
        UserExecutionContext(**ids)


def test_non_string_ids_are_refused() -> None:
    with pytest.raises(InvalidContextError, match="user_id must be a string"):
        UserExecutionContext(None, "t1")  # type: ignore[arg-type]


@given(st.text(min_size=1).filter(lambda s: s.strip().lower() not in PLACEHOLDER_IDS))
def test_any_real_id_is_accepted(user_id: str) -> None:
    assert UserExecutionContext(user_id, "t1").user_id == user_id


async def test_current_context_inside_scope_threads_and_child_tasks(
    factory: AgentInstanceFactory,
) -> None:
    assert current_user_context() is None
    async with factory.user_execution_scope("alice", "t1") as context:
        assert current_user_context() is context
        assert await asyncio.to_thread(current_user_context) is context
        assert await bounded(asyncio.create_task(asyncio.sleep(0, current_user_context())))\
            is context

        async def child() -> UserExecutionContext | None:
            await asyncio.sleep(0)
            return current_user_context()

        assert await bounded(asyncio.create_task(child())) is context
    assert current_user_context() is None


async def test_concurrent_scopes_see_their_own_current_context(
    factory: AgentInstanceFactory,
) -> None:
    async def run(user: str) -> str:
        async with factory.user_execution_scope(user, "t"):
            await asyncio.sleep(0)
            seen = require_user_context().user_id
            await asyncio.sleep(0)
            return seen

    users = [f"user{i}" for i in range(30)]
    assert await bounded(asyncio.gather(*(run(u) for u in users))) == users


def test_require_user_context_outside_a_scope_says_what_to_do() -> None:
    with pytest.raises(NoActiveScopeError, match="user_execution_scope"):
        require_user_context()


def test_summary_has_the_guides_keys() -> None:
    summary = UserExecutionContext("alice", "t1", "r1").summary()
    assert summary["has_websocket_emitter"] is False
    assert summary["run_id"] == "r1"


def test_startup_run_by_asyncio_run_configures_the_process() -> None:
    """Start-up code run with asyncio.run (its own context) registers and configures for the
    whole process, as the migrated services do."""
    from migrator.runtime import create_agent_instance_factory, get_agent_class_registry, holder, registry
    from migrator.runtime.demo import EchoAgent
    from migrator.runtime.holder import configure_agent_instance_factory, shutdown_agent_instance_factory

    async def startup() -> None:
        get_agent_class_registry().register("helper", EchoAgent, "helps")
        await configure_agent_instance_factory()

    own = registry._context_registry.set(None)
    try:
        asyncio.run(startup())
        assert get_agent_class_registry().is_frozen()
        assert "helper" in get_agent_class_registry().list_agent_names()
        context = UserExecutionContext.from_request_supervisor(user_id="u-1", thread_id="t-1")
        assert create_agent_instance_factory(context).runtime is holder.configured_runtime()
    finally:
        asyncio.run(shutdown_agent_instance_factory())
        registry._context_registry.reset(own)
        registry._process_registry.swap(None)
