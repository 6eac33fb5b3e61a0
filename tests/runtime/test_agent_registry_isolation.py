"""Fresh agents per request, no state shared between users, freeze rules, the old getter."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from runtime_support import Recorder, StatefulAgent, bounded

from migrator.runtime import (
    ARCHITECTURE_VARIABLE,
    AgentClassRegistry,
    AgentInstanceFactory,
    BaseAgent,
    DeprecatedFactoryAccessError,
    DuplicateAgentError,
    NotAnAgentClassError,
    RegistryAdapter,
    RegistryFrozenError,
    Runtime,
    SingletonArchitectureWarning,
    UnknownAgentError,
    UserContextMismatchError,
    UserExecutionContext,
    UserWebSocketEmitter,
    configure_agent_instance_factory,
    create_agent_instance_factory,
    get_agent_class_registry,
    get_agent_instance_factory,
)
from migrator.runtime.demo import EchoAgent


async def test_each_request_gets_a_fresh_instance(factory: AgentInstanceFactory) -> None:
    async with factory.user_execution_scope("alice", "t1") as context:
        first = await factory.create_agent_instance("stateful", context)
        second = await factory.create_agent_instance("stateful", context)
    assert first is not second
    assert first.notes is not second.notes
    assert first.user_context is context and second.user_context is context


async def test_instance_state_does_not_leak_between_users(factory: AgentInstanceFactory) -> None:
    async def run(user: str) -> list[str]:
        async with factory.user_execution_scope(user, f"thread-{user}") as context:
            agent = await factory.create_agent_instance("stateful", context)
            await agent.execute("first", context.run_id)
            await asyncio.sleep(0)
            return await agent.execute("second", context.run_id)

    results = await bounded(asyncio.gather(*(run(f"user{i}") for i in range(20))))
    for i, notes in enumerate(results):
        assert notes == [f"user{i}:first", f"user{i}:second"]


async def test_agent_emitter_is_bound_to_its_own_user_thread_and_run(
    factory: AgentInstanceFactory,
) -> None:
    async with factory.user_execution_scope("alice", "ta", "run-a") as a, \
            factory.user_execution_scope("bob", "tb", "run-b") as b:
        agent_a = await factory.create_agent_instance("echo", a)
        agent_b = await factory.create_agent_instance("echo", b)
    assert (agent_a.websocket_emitter.user_id, agent_a.websocket_emitter.thread_id,
            agent_a.websocket_emitter.run_id) == ("alice", "ta", "run-a")
    assert (agent_b.websocket_emitter.user_id, agent_b.websocket_emitter.run_id) == (
        "bob", "run-b")
    assert agent_a.websocket_emitter is not agent_b.websocket_emitter


async def test_agents_of_one_bare_context_share_one_sequence(
    factory: AgentInstanceFactory,
) -> None:
    sink = Recorder()
    factory.runtime.router.register("alice", sink)
    context = UserExecutionContext.from_request_supervisor("alice", "t1")
    first = await factory.create_agent_instance("stateful", context)
    second = await factory.create_agent_instance("stateful", context)
    await first.execute("a", context.run_id)
    await second.execute("b", context.run_id)
    assert [e.sequence for e in sink.events] == [1, 2]


async def test_bound_factory_refuses_another_users_context() -> None:
    alice = UserExecutionContext.from_request_supervisor("alice", "t1")
    bob = UserExecutionContext.from_request_supervisor("bob", "t2")
    factory = create_agent_instance_factory(alice)
    with pytest.raises(UserContextMismatchError, match="'alice'.*'bob'"):
        await factory.create_agent_instance("echo", bob)
    with pytest.raises(UserContextMismatchError):
        factory.user_execution_scope("bob", "t2")


async def test_emitter_of_another_user_in_a_context_is_refused(
    factory: AgentInstanceFactory,
) -> None:
    emitter = UserWebSocketEmitter("bob", "t", "r", factory.runtime.router)
    context = UserExecutionContext("alice", "t", "r", websocket_emitter=emitter)
    with pytest.raises(UserContextMismatchError, match="bob"):
        await factory.create_agent_instance("echo", context)


def test_register_after_freeze_is_refused() -> None:
    registry = AgentClassRegistry()
    registry.register("echo", EchoAgent, "Echoes")
    registry.freeze()
    assert registry.is_frozen()
    with pytest.raises(RegistryFrozenError, match="frozen"):
        registry.register("late", StatefulAgent, "Too late")
    assert registry.list_agent_names() == ["echo"]


def test_registering_an_instance_is_refused() -> None:
    registry = AgentClassRegistry()
    with pytest.raises(NotAnAgentClassError, match="register the class itself"):
        registry.register("echo", EchoAgent(), "An instance")


def test_registering_a_non_agent_class_is_refused() -> None:
    with pytest.raises(NotAnAgentClassError, match="BaseAgent subclass"):
        AgentClassRegistry().register("dict", dict, "Not an agent")


def test_duplicate_names_are_refused() -> None:
    registry = AgentClassRegistry()
    registry.register("echo", EchoAgent, "Echoes")
    with pytest.raises(DuplicateAgentError, match="EchoAgent"):
        registry.register("echo", StatefulAgent, "Again")


def test_unknown_name_lists_the_registered_ones(registry: AgentClassRegistry) -> None:
    with pytest.raises(UnknownAgentError, match="registered: echo, stateful"):
        registry.get("triage")


def test_get_returns_the_class_and_stats_describe_the_registry(
    registry: AgentClassRegistry,
) -> None:
    assert registry.get("echo") is EchoAgent
    stats = registry.get_registry_stats()
    assert stats["total_agents"] == 2 and stats["frozen"] is True
    assert stats["agent_names"] == ["echo", "stateful"]


def test_validate_dependencies_reports_class_level_user_state() -> None:
    class LeakyAgent(BaseAgent):
        user_context = UserExecutionContext("alice", "t1")
        websocket_emitter = None
        shared_emitter = UserWebSocketEmitter("alice", "t", "r", router=None)  # type: ignore

    class SessionAgent(BaseAgent):
        class _Session:
            async def commit(self) -> None: ...
            async def rollback(self) -> None: ...
            async def close(self) -> None: ...

        db = _Session()

    registry = AgentClassRegistry()
    registry.register("leaky", LeakyAgent, "")
    registry.register("session", SessionAgent, "")
    registry.register("clean", StatefulAgent, "")
    problems = registry.validate_dependencies()
    assert set(problems) == {"leaky", "session"}
    assert any("LeakyAgent.user_context" in p for p in problems["leaky"])
    assert any("LeakyAgent.shared_emitter" in p for p in problems["leaky"])
    assert all("websocket_emitter" not in p for p in problems["leaky"])
    assert any("database session" in p for p in problems["session"])


def test_process_registry_is_one_object() -> None:
    assert get_agent_class_registry() is get_agent_class_registry()


def test_deprecated_getter_names_the_replacement() -> None:
    with pytest.raises(DeprecatedFactoryAccessError,
                       match=r"create_agent_instance_factory\(user_context\)"):
        get_agent_instance_factory()


def test_deprecated_getter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        get_agent_instance_factory()


async def test_rollback_switch_returns_a_shared_factory_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ARCHITECTURE_VARIABLE, "singleton")
    configured = await configure_agent_instance_factory()
    with pytest.warns(SingletonArchitectureWarning, match="rollback"):
        first = get_agent_instance_factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingletonArchitectureWarning)
        second = get_agent_instance_factory()
    assert first is second
    assert first.bound_user_id is None
    assert first.runtime is configured.runtime
    async with first.user_execution_scope("alice", "t1") as context:
        assert context.user_id == "alice"


def test_rollback_switch_without_configuration_says_what_to_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ARCHITECTURE_VARIABLE, "singleton")
    with pytest.warns(SingletonArchitectureWarning), \
            pytest.raises(DeprecatedFactoryAccessError, match="configure_agent_instance_factory"):
        get_agent_instance_factory()


def test_rollback_switch_off_for_other_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ARCHITECTURE_VARIABLE, "split")
    with pytest.raises(DeprecatedFactoryAccessError):
        get_agent_instance_factory()


async def test_registry_adapter_returns_fresh_instances(factory: AgentInstanceFactory) -> None:
    context = UserExecutionContext.from_request_supervisor("alice", "t1")
    adapter = RegistryAdapter(factory, context)
    first, second = await adapter.get("stateful"), await adapter.get("stateful")
    assert first is not second
    assert first.user_context is context
    assert adapter.list_agent_names() == ["echo", "stateful"]


async def test_factory_without_configuration_is_usable_at_once() -> None:
    context = UserExecutionContext.from_request_supervisor("alice", "t1")
    factory = create_agent_instance_factory(context)
    metrics = factory.get_factory_metrics()
    assert metrics["configuration_status"].startswith("unconfigured")
    assert metrics["bound_user_id"] == "alice"
    assert factory.runtime.session_factory is None
    async with factory.user_execution_scope("alice", "t1", context.run_id) as scoped:
        assert scoped.db_session is None
        assert await scoped.websocket_emitter.notify_agent_started("echo") is True


async def test_agent_dependencies_reach_constructors_that_ask() -> None:
    class ToolAgent(BaseAgent):
        def __init__(self, llm_manager: object, tool_dispatcher: object = None) -> None:
            super().__init__()
            self.llm_manager = llm_manager

    tools = AgentClassRegistry()
    tools.register("tool", ToolAgent, "")
    llm = object()
    runtime = Runtime(class_registry=tools, agent_dependencies={"llm_manager": llm, "x": 1})
    factory = AgentInstanceFactory(runtime)
    context = UserExecutionContext.from_request_supervisor("alice", "t1")
    agent = await factory.create_agent_instance("tool", context)
    assert agent.llm_manager is llm
    assert runtime.counters.instances_created == 1
