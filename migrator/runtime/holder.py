"""The process's one slot for its configured Runtime, and the functions that use it."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

from .bridge import WebSocketBridge
from .config import Runtime, SessionFactory
from .context import UserExecutionContext
from .errors import DeprecatedFactoryAccessError
from .factory import AgentInstanceFactory
from .registry import AgentClassRegistry
from .routing import EventRouter

ARCHITECTURE_VARIABLE = "AGENT_REGISTRY_ARCHITECTURE"


class SingletonArchitectureWarning(UserWarning):
    """The legacy process-wide factory is in use through the rollback switch."""


class RuntimeHolder:
    """Holds the Runtime set by configure_agent_instance_factory; nothing else is process-wide.

    The runtime itself is frozen; the holder only records which one is installed, and
    the shared legacy factory while the rollback switch is on.
    """

    def __init__(self) -> None:
        self._runtime: Runtime | None = None
        self._legacy_factory: AgentInstanceFactory | None = None

    def get(self) -> Runtime | None:
        """Return the installed runtime, or None before configuration."""
        return self._runtime

    def install(self, runtime: Runtime) -> None:
        """Make ``runtime`` the process's runtime."""
        self._runtime = runtime
        self._legacy_factory = None

    def clear(self) -> Runtime | None:
        """Uninstall and return the runtime."""
        runtime, self._runtime, self._legacy_factory = self._runtime, None, None
        return runtime

    def legacy_factory(self) -> AgentInstanceFactory:
        """Return the one factory shared by every user, as before the split."""
        if self._legacy_factory is None:
            self._legacy_factory = AgentInstanceFactory(self._runtime)
        return self._legacy_factory


PROCESS_RUNTIME = RuntimeHolder()


def create_agent_instance_factory(
    user_context: UserExecutionContext, *, runtime: Runtime | None = None
) -> AgentInstanceFactory:
    """Return a factory for ``user_context``'s user on the configured or fallback runtime."""
    if not isinstance(user_context, UserExecutionContext):
        raise TypeError(
            f"create_agent_instance_factory needs a UserExecutionContext, "
            f"got {type(user_context).__name__}"
        )
    chosen = runtime or PROCESS_RUNTIME.get() or Runtime.unconfigured()
    return AgentInstanceFactory(chosen, bound_context=user_context)


async def configure_agent_instance_factory(
    *,
    websocket_bridge: WebSocketBridge | None = None,
    websocket_manager: EventRouter | None = None,
    session_factory: SessionFactory | None = None,
    agent_registry: Any = None,
    class_registry: AgentClassRegistry | None = None,
    agent_dependencies: Mapping[str, Any] | None = None,
) -> AgentInstanceFactory:
    """Set the process's router and session factory, start the router, return a factory.

    ``websocket_manager`` is the router holding connections; ``websocket_bridge`` is a
    WebSocketBridge over it. ``agent_registry`` keeps a legacy registry reachable during
    the transition and is otherwise unused.
    """
    runtime = Runtime.from_parts(
        websocket_bridge=websocket_bridge,
        websocket_manager=websocket_manager,
        session_factory=session_factory,
        class_registry=class_registry,
        agent_dependencies=agent_dependencies or {},
        legacy_registry=agent_registry,
    )
    await runtime.start()
    PROCESS_RUNTIME.install(runtime)
    return AgentInstanceFactory(runtime)


async def shutdown_agent_instance_factory() -> None:
    """Stop the configured runtime's router and uninstall it."""
    runtime = PROCESS_RUNTIME.clear()
    if runtime is not None:
        await runtime.aclose()


def is_singleton_architecture() -> bool:
    """Tell whether the rollback switch selects the legacy shared factory."""
    return os.environ.get(ARCHITECTURE_VARIABLE, "").strip().lower() == "singleton"


def get_agent_instance_factory() -> AgentInstanceFactory:
    """Refuse, unless the rollback switch is on; then return the legacy shared factory."""
    if is_singleton_architecture():
        warnings.warn(
            f"{ARCHITECTURE_VARIABLE}=singleton: returning the legacy factory shared by all "
            f"users; this is a rollback mode, unset it to restore per-request isolation",
            SingletonArchitectureWarning,
            stacklevel=2,
        )
        return PROCESS_RUNTIME.legacy_factory()
    raise DeprecatedFactoryAccessError(
        "get_agent_instance_factory() returned one factory shared by every user and is "
        "no longer available; build one per request with "
        "create_agent_instance_factory(user_context), where user_context = "
        "UserExecutionContext.from_request_supervisor(user_id=..., thread_id=..., "
        f"run_id=...). To roll back temporarily set {ARCHITECTURE_VARIABLE}=singleton"
    )
