"""Typed errors raised by the runtime, each with a message that says what to do."""

from __future__ import annotations


class AgentRuntimeError(Exception):
    """Base class of every error the runtime raises on purpose."""


class InvalidContextError(AgentRuntimeError, ValueError):
    """An execution context was given an empty, placeholder or malformed identifier."""


class RegistryFrozenError(AgentRuntimeError, RuntimeError):
    """A class registry was changed after it was frozen."""


class DuplicateAgentError(AgentRuntimeError, ValueError):
    """An agent name was registered twice."""


class NotAnAgentClassError(AgentRuntimeError, TypeError):
    """Something other than a BaseAgent subclass was registered."""


class UnknownAgentError(AgentRuntimeError, LookupError):
    """An agent name is not in the class registry."""


class UserContextMismatchError(AgentRuntimeError, PermissionError):
    """A factory bound to one user was asked to act for another."""


class DeprecatedFactoryAccessError(AgentRuntimeError, ValueError):
    """The process-wide factory getter was called while the split architecture is active."""


class AgentNotBoundError(AgentRuntimeError, RuntimeError):
    """An agent was used without a user context, so it has nowhere to send events."""


class NoActiveScopeError(AgentRuntimeError, LookupError):
    """Code asked for the current user context outside any execution scope."""


class SessionConcurrencyError(AgentRuntimeError, RuntimeError):
    """Two tasks used one scope's database session at the same time."""


class SessionClosedError(AgentRuntimeError, RuntimeError):
    """A scope's database session was used after the scope ended."""


class RouterMismatchError(AgentRuntimeError, ValueError):
    """The websocket bridge and websocket manager given to configure do not share a router."""


class TokenError(AgentRuntimeError, PermissionError):
    """A connection token is missing, malformed, forged or expired."""


class ExpiredTokenError(TokenError):
    """A connection token was genuine but has expired."""


class SettingsError(AgentRuntimeError, ValueError):
    """A limit was given a value that is not a positive number."""


class EventPublishError(AgentRuntimeError, RuntimeError):
    """An event could not be handed to the event transport; it was not delivered."""
