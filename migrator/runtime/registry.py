"""AgentClassRegistry: agent classes registered at startup, then frozen."""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .agent import BaseAgent
from .context import UserExecutionContext
from .emitter import UserWebSocketEmitter
from .errors import (
    DuplicateAgentError,
    NotAnAgentClassError,
    RegistryFrozenError,
    UnknownAgentError,
)
from .process_slot import ProcessSlot

# Class attributes with these names hold per-user state when they are set to anything.
_PER_USER_ATTRIBUTE_NAMES = frozenset({
    "db_session", "session", "user_context", "context", "websocket_emitter",
    "websocket_bridge", "emitter", "user_id", "thread_id", "run_id",
})


@dataclasses.dataclass(frozen=True)
class AgentRegistration:
    """One registered agent class and what the factory needs to build it."""

    name: str
    agent_class: type[BaseAgent]
    description: str
    constructor_parameters: frozenset[str]


class AgentClassRegistry:
    """Maps agent names to agent classes; classes only, never instances."""

    def __init__(self) -> None:
        self._entries: dict[str, AgentRegistration] | Mapping[str, AgentRegistration] = {}
        self._frozen = False

    def register(self, name: str, agent_class: type, description: str = "") -> None:
        """Register ``agent_class`` under ``name``; refused after freeze() and for duplicates."""
        if self._frozen:
            raise RegistryFrozenError(
                f"cannot register {name!r}: the agent class registry is frozen; "
                f"register every agent class at startup, before freeze()"
            )
        if not isinstance(name, str) or not name.strip():
            raise NotAnAgentClassError(f"agent name must be a non-empty string, got {name!r}")
        if not isinstance(agent_class, type):
            raise NotAnAgentClassError(
                f"register({name!r}, ...) got an instance of {type(agent_class).__name__}; "
                f"register the class itself, the factory creates one instance per request"
            )
        if not issubclass(agent_class, BaseAgent):
            raise NotAnAgentClassError(
                f"register({name!r}, {agent_class.__name__}) needs a BaseAgent subclass"
            )
        if name in self._entries:
            existing = self._entries[name].agent_class.__name__
            raise DuplicateAgentError(
                f"agent name {name!r} is already registered to {existing}"
            )
        assert isinstance(self._entries, dict)
        self._entries[name] = AgentRegistration(
            name=name,
            agent_class=agent_class,
            description=description,
            constructor_parameters=_keyword_parameters(agent_class),
        )

    def freeze(self) -> None:
        """Make the registry read-only; calling it again changes nothing."""
        if not self._frozen:
            self._entries = MappingProxyType(dict(self._entries))
            self._frozen = True

    def is_frozen(self) -> bool:
        """Tell whether freeze() has been called."""
        return self._frozen

    def get(self, name: str) -> type[BaseAgent]:
        """Return the class registered under ``name``."""
        return self.get_registration(name).agent_class

    def get_registration(self, name: str) -> AgentRegistration:
        """Return the full registration of ``name``, raising UnknownAgentError if absent."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise UnknownAgentError(
                f"no agent class registered as {name!r}; registered: {known}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def list_agent_names(self) -> list[str]:
        """Return the registered names in registration order."""
        return list(self._entries)

    def validate_dependencies(self) -> dict[str, list[str]]:
        """Report, per agent name, class attributes that would share per-user state."""
        problems: dict[str, list[str]] = {}
        for name, entry in self._entries.items():
            found = _class_level_user_state(entry.agent_class)
            if found:
                problems[name] = found
        return problems

    def get_registry_stats(self) -> dict[str, Any]:
        """Return counts and names for monitoring."""
        return {
            "total_agents": len(self._entries),
            "frozen": self._frozen,
            "agent_names": self.list_agent_names(),
            "descriptions": {n: e.description for n, e in self._entries.items()},
            "agents_with_class_level_state": sorted(self.validate_dependencies()),
        }


def _keyword_parameters(agent_class: type) -> frozenset[str]:
    """Names the class's constructor accepts by keyword, so the factory can pass dependencies."""
    try:
        signature = inspect.signature(agent_class)
    except (TypeError, ValueError):
        return frozenset()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(p.name for p in signature.parameters.values() if p.kind in kinds)


def _looks_like_session(value: object) -> bool:
    return all(callable(getattr(value, a, None)) for a in ("commit", "rollback", "close"))


def _class_level_user_state(agent_class: type) -> list[str]:
    """Describe class attributes of ``agent_class`` (and its bases) that hold per-user state."""
    found: list[str] = []
    for klass in agent_class.__mro__:
        if klass is BaseAgent or klass is object:
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("__") or value is None or isinstance(value, type):
                continue
            if inspect.isfunction(value) or isinstance(value, (property, classmethod,
                                                               staticmethod)):
                continue
            if isinstance(value, UserExecutionContext):
                reason = "a UserExecutionContext"
            elif isinstance(value, UserWebSocketEmitter):
                reason = "a UserWebSocketEmitter"
            elif _looks_like_session(value) and not isinstance(value, type):
                reason = "a database session"
            elif attr.lstrip("_") in _PER_USER_ATTRIBUTE_NAMES:
                reason = f"a {type(value).__name__} under a per-user name"
            else:
                continue
            found.append(
                f"{klass.__name__}.{attr} is {reason} at class level, shared by every user; "
                f"set it per instance from the user context instead"
            )
    return found


# A context may carry its own class registry (a test, or an app built with its own); without
# one, the process's registry stands: the split architecture's one class registry, filled at
# start-up (often in a coroutine run by asyncio.run, whose context changes do not outlive it)
# and frozen when a runtime starts, so it holds classes only, never per-user state.
_context_registry: contextvars.ContextVar[AgentClassRegistry | None] = contextvars.ContextVar(
    "migrator_runtime_class_registry", default=None)


_process_registry: ProcessSlot[AgentClassRegistry] = ProcessSlot(AgentClassRegistry)


def get_agent_class_registry() -> AgentClassRegistry:
    """Return the class registry of the current context, else the process's: filled at
    start-up, frozen when a runtime starts, then only read."""
    registry = _context_registry.get()
    if registry is None:
        registry = _process_registry.get()
        assert registry is not None  # the slot makes one on first use
    return registry
