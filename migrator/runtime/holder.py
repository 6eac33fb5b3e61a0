"""The configured Runtime of the current context, and the guide's functions that use it."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from .bridge import WebSocketBridge
from .config import Runtime, SessionFactory
from .context import UserExecutionContext
from .errors import DeprecatedFactoryAccessError
from .factory import AgentInstanceFactory
from .process_slot import ProcessSlot
from .registry import AgentClassRegistry
from .routing import EventRouter

ARCHITECTURE_VARIABLE = "AGENT_REGISTRY_ARCHITECTURE"


class SingletonArchitectureWarning(UserWarning):
    """The legacy process-wide factory is in use through the rollback switch."""


@dataclasses.dataclass(frozen=True)
class Installation:
    """A configured runtime and the one legacy factory of the rollback switch."""

    runtime: Runtime
    legacy_factory: AgentInstanceFactory


# An app sets its runtime for the requests it serves (`using_runtime`); tasks inherit the
# value of the context that created them. Start-up code that configures the factory (often a
# coroutine run by asyncio.run, whose context changes do not outlive it) also sets the
# process's default, which contexts without a runtime of their own use.
_installed: contextvars.ContextVar[Installation | None] = contextvars.ContextVar(
    "migrator_runtime_installation", default=None)


_process_installation: ProcessSlot[Installation] = ProcessSlot()


def _current() -> Installation | None:
    installation = _installed.get()
    return installation if installation is not None else _process_installation.get()


def configured_runtime() -> Runtime | None:
    """Return the runtime configured in the current context (else at start-up), or None."""
    installation = _current()
    return None if installation is None else installation.runtime


@contextlib.contextmanager
def using_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Make ``runtime`` the configured one inside the block (and in tasks started there)."""
    token = _installed.set(Installation(runtime, AgentInstanceFactory(runtime)))
    try:
        yield runtime
    finally:
        _installed.reset(token)


def create_agent_instance_factory(
    user_context: UserExecutionContext, *, runtime: Runtime | None = None
) -> AgentInstanceFactory:
    """Return a factory for ``user_context``'s user on the configured or fallback runtime."""
    if not isinstance(user_context, UserExecutionContext):
        raise TypeError(
            f"create_agent_instance_factory needs a UserExecutionContext, "
            f"got {type(user_context).__name__}"
        )
    chosen = runtime or configured_runtime() or Runtime.unconfigured()
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
    """Configure this context: build and start a runtime (freezing its class registry), make
    it the one create_agent_instance_factory uses here and in tasks started later, and
    return a factory.

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
    installation = Installation(runtime, AgentInstanceFactory(runtime))
    _installed.set(installation)
    _process_installation.swap(installation)
    return AgentInstanceFactory(runtime)


async def shutdown_agent_instance_factory() -> None:
    """Stop the runtime configured in this context (else at start-up) and uninstall it."""
    installation = _current()
    _installed.set(None)
    if installation is not None and _process_installation.get() is installation:
        _process_installation.swap(None)
    if installation is not None:
        await installation.runtime.aclose()


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
        installation = _current()
        if installation is None:
            raise DeprecatedFactoryAccessError(
                f"{ARCHITECTURE_VARIABLE}=singleton needs a configured runtime to share: "
                f"await configure_agent_instance_factory(...) at startup first")
        return installation.legacy_factory
    raise DeprecatedFactoryAccessError(
        "get_agent_instance_factory() returned one factory shared by every user and is "
        "no longer available; build one per request with "
        "create_agent_instance_factory(user_context), where user_context = "
        "UserExecutionContext.from_request_supervisor(user_id=..., thread_id=..., "
        f"run_id=...). To roll back temporarily set {ARCHITECTURE_VARIABLE}=singleton"
    )
