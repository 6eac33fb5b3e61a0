"""Runtime: the delivery and database parts that factories of one process share."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .bridge import WebSocketBridge
from .errors import RouterMismatchError
from .metrics import RuntimeCounters
from .registry import AgentClassRegistry, get_agent_class_registry
from .routing import EventRouter, InProcessEventRouter

if TYPE_CHECKING:
    from .scope import UserExecutionScope

SessionFactory = Callable[[], Any]


class ScopeTracker:
    """The open scopes of one runtime and the counters of everything that happened."""

    def __init__(self) -> None:
        self.counters = RuntimeCounters()
        self._active: dict[int, UserExecutionScope] = {}

    def add(self, scope: UserExecutionScope) -> None:
        """Record a scope that has just opened."""
        self._active[id(scope)] = scope
        self.counters.contexts_created += 1

    def discard(self, scope: UserExecutionScope) -> None:
        """Forget a scope that has been cleaned up."""
        self._active.pop(id(scope), None)

    def active(self) -> list[UserExecutionScope]:
        """Return the open scopes, oldest first."""
        return list(self._active.values())

    def __len__(self) -> int:
        return len(self._active)


@dataclasses.dataclass(frozen=True, eq=False)
class Runtime:
    """The router, optional session factory and class registry a process runs with."""

    router: EventRouter = dataclasses.field(default_factory=InProcessEventRouter)
    session_factory: SessionFactory | None = None
    class_registry: AgentClassRegistry | None = None
    agent_dependencies: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    legacy_registry: Any = None
    configured: bool = True
    tracker: ScopeTracker = dataclasses.field(default_factory=ScopeTracker, repr=False)
    bridge: WebSocketBridge = dataclasses.field(init=False, repr=False)
    created_at: float = dataclasses.field(default_factory=time.time, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "agent_dependencies",
                           MappingProxyType(dict(self.agent_dependencies)))
        object.__setattr__(self, "bridge", WebSocketBridge(self.router, self.tracker.counters))
        if self.class_registry is None:
            # Captured now, so requests served from other threads use the same registry.
            object.__setattr__(self, "class_registry", get_agent_class_registry())

    @classmethod
    def unconfigured(cls) -> Runtime:
        """Return the fallback: an in-process router of its own and no database."""
        return cls(configured=False)

    @classmethod
    def from_parts(
        cls,
        *,
        websocket_bridge: WebSocketBridge | None = None,
        websocket_manager: EventRouter | None = None,
        **options: Any,
    ) -> Runtime:
        """Build a runtime from the guide's configure arguments, checking they agree."""
        router = websocket_manager
        if websocket_bridge is not None:
            if router is not None and websocket_bridge.router is not router:
                raise RouterMismatchError(
                    "websocket_bridge and websocket_manager route through different routers; "
                    "pass one of them, or a bridge built on the manager"
                )
            router = websocket_bridge.router
        return cls(router=router or InProcessEventRouter(), **options)

    @property
    def counters(self) -> RuntimeCounters:
        """The runtime's running totals."""
        return self.tracker.counters

    @property
    def registry(self) -> AgentClassRegistry:
        """The class registry agents are created from."""
        assert self.class_registry is not None
        return self.class_registry

    @property
    def configuration_status(self) -> str:
        """Say whether the runtime was configured or is the fallback."""
        if not self.configured:
            return "unconfigured: in-process router, no database"
        database = "database" if self.session_factory is not None else "no database"
        return f"configured: {type(self.router).__name__}, {database}"

    async def start(self) -> None:
        """Freeze the class registry, so nothing registers while serving, and start the router."""
        self.registry.freeze()
        await self.router.start()

    async def aclose(self) -> None:
        """Stop the router."""
        await self.router.aclose()
