"""configure_agent_instance_factory sets the process runtime that new factories use."""

from __future__ import annotations

import pytest
from runtime_support import Recorder
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from migrator.runtime import (
    AgentClassRegistry,
    InProcessEventRouter,
    RouterMismatchError,
    UserExecutionContext,
    WebSocketBridge,
    configure_agent_instance_factory,
    configured_runtime,
    create_agent_instance_factory,
    shutdown_agent_instance_factory,
)


async def test_configured_parts_reach_per_request_factories(
    registry: AgentClassRegistry, session_factory: async_sessionmaker,
) -> None:
    router = InProcessEventRouter()
    inbox = Recorder()
    router.register("alice", inbox)
    legacy = object()
    returned = await configure_agent_instance_factory(
        agent_registry=legacy, websocket_bridge=WebSocketBridge(router),
        websocket_manager=router, session_factory=session_factory, class_registry=registry)
    runtime = configured_runtime()
    assert runtime is not None and returned.runtime is runtime
    assert runtime.legacy_registry is legacy

    context = UserExecutionContext.from_request_supervisor("alice", "t1")
    factory = create_agent_instance_factory(context)
    assert factory.runtime is runtime
    assert factory.get_factory_metrics()["configuration_status"] == (
        "configured: InProcessEventRouter, database")
    async with factory.user_execution_scope("alice", "t1", context.run_id) as scoped:
        assert await scoped.db_session.scalar(text("SELECT 41 + 1")) == 42
        agent = await factory.create_agent_instance("echo", scoped)
        await agent.execute("hi", scoped.run_id)
    assert [e.type for e in inbox.events][-1] == "agent_completed"
    assert returned.get_factory_metrics()["sessions_closed"] == 1

    await shutdown_agent_instance_factory()
    assert configured_runtime() is None
    assert create_agent_instance_factory(context).runtime.configured is False


async def test_bridge_and_manager_on_different_routers_are_refused() -> None:
    with pytest.raises(RouterMismatchError, match="different routers"):
        await configure_agent_instance_factory(
            websocket_bridge=WebSocketBridge(InProcessEventRouter()),
            websocket_manager=InProcessEventRouter())
    assert configured_runtime() is None


async def test_configure_without_arguments_uses_an_in_process_router() -> None:
    factory = await configure_agent_instance_factory()
    assert isinstance(factory.runtime.router, InProcessEventRouter)
    assert factory.runtime.session_factory is None
    assert factory.runtime.bridge.router is factory.runtime.router
