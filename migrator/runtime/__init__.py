"""The reference runtime: per-request agents, user-bound events and request-scoped sessions.

Importing this package needs only the standard library. The server, database and Redis
parts load their third-party packages when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from .adapter import RegistryAdapter
from .agent import BaseAgent
from .auth import Principal, Verifier
from .bridge import WebSocketBridge
from .config import Runtime, ScopeTracker
from .context import (
    UserExecutionContext,
    current_user_context,
    require_user_context,
)
from .emitter import UserWebSocketEmitter
from .errors import (
    AgentNotBoundError,
    AgentRuntimeError,
    DeprecatedFactoryAccessError,
    DuplicateAgentError,
    EventPublishError,
    ExpiredTokenError,
    InvalidContextError,
    NoActiveScopeError,
    NotAnAgentClassError,
    RegistryFrozenError,
    RouterMismatchError,
    SessionClosedError,
    SessionConcurrencyError,
    SettingsError,
    TokenError,
    UnknownAgentError,
    UserContextMismatchError,
)
from .events import AgentEvent
from .factory import AgentInstanceFactory
from .holder import (
    ARCHITECTURE_VARIABLE,
    SingletonArchitectureWarning,
    configure_agent_instance_factory,
    configured_runtime,
    create_agent_instance_factory,
    get_agent_instance_factory,
    shutdown_agent_instance_factory,
    using_runtime,
)
from .ids import generate_request_id, generate_run_id
from .registry import AgentClassRegistry, get_agent_class_registry
from .routing import EventRouter, InProcessEventRouter, Registration
from .scope import UserExecutionScope
from .settings import RuntimeSettings
from .tokens import TokenSigner

# Names whose modules import third-party packages, loaded on first access.
_LAZY = {
    "RedisEventRouter": "redis_router",
    "create_session_factory": "db",
    "sqlite_url": "db",
    "dispose_session_factory": "db",
    "get_connection_pool_status": "db",
    "create_app": "asgi",
    "JWTVerifier": "jwt_auth",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ARCHITECTURE_VARIABLE",
    "AgentClassRegistry",
    "AgentEvent",
    "AgentInstanceFactory",
    "AgentNotBoundError",
    "AgentRuntimeError",
    "BaseAgent",
    "DeprecatedFactoryAccessError",
    "DuplicateAgentError",
    "EventPublishError",
    "EventRouter",
    "ExpiredTokenError",
    "InProcessEventRouter",
    "InvalidContextError",
    "JWTVerifier",
    "NoActiveScopeError",
    "NotAnAgentClassError",
    "Principal",
    "Registration",
    "RegistryAdapter",
    "RegistryFrozenError",
    "RouterMismatchError",
    "Runtime",
    "RuntimeSettings",
    "ScopeTracker",
    "SessionClosedError",
    "SessionConcurrencyError",
    "SettingsError",
    "SingletonArchitectureWarning",
    "TokenError",
    "TokenSigner",
    "UnknownAgentError",
    "UserContextMismatchError",
    "UserExecutionContext",
    "UserExecutionScope",
    "UserWebSocketEmitter",
    "Verifier",
    "WebSocketBridge",
    "configure_agent_instance_factory",
    "configured_runtime",
    "create_agent_instance_factory",
    "current_user_context",
    "generate_request_id",
    "generate_run_id",
    "get_agent_class_registry",
    "get_agent_instance_factory",
    "require_user_context",
    "shutdown_agent_instance_factory",
    "using_runtime",
]
