"""BaseAgent, the class every registered agent derives from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .emitter import UserWebSocketEmitter
from .errors import AgentNotBoundError

if TYPE_CHECKING:
    from .bridge import WebSocketBridge
    from .context import UserExecutionContext


class BaseAgent:
    """An agent instance serving exactly one user context; created by AgentInstanceFactory."""

    def __init__(self) -> None:
        self.name: str = type(self).__name__
        self.user_context: UserExecutionContext | None = None
        self._websocket_emitter: UserWebSocketEmitter | None = None

    def bind(
        self, name: str, user_context: UserExecutionContext, emitter: UserWebSocketEmitter
    ) -> None:
        """Attach the agent to its user; called once by the factory."""
        self.name = name
        self.user_context = user_context
        self._websocket_emitter = emitter

    @property
    def websocket_emitter(self) -> UserWebSocketEmitter:
        """The emitter of this agent's user, thread and run."""
        emitter = getattr(self, "_websocket_emitter", None)
        if emitter is None:
            raise AgentNotBoundError(
                f"{type(self).__name__} has no user context; create it with "
                f"`await factory.create_agent_instance(name, user_context)`"
            )
        return emitter

    @property
    def context(self) -> UserExecutionContext:
        """The user context the agent was created for."""
        context = getattr(self, "user_context", None)
        if context is None:
            raise AgentNotBoundError(
                f"{type(self).__name__} has no user context; create it with "
                f"`await factory.create_agent_instance(name, user_context)`"
            )
        return context

    @property
    def user_id(self) -> str:
        """The id of the user this agent serves."""
        return self.context.user_id

    @property
    def thread_id(self) -> str:
        """The thread of the request this agent serves."""
        return self.context.thread_id

    @property
    def run_id(self) -> str:
        """The run this agent belongs to."""
        return self.context.run_id

    @property
    def db_session(self) -> Any:
        """The request-scoped database session, or None when the runtime has no database."""
        return self.context.db_session

    async def notify_event(self, event_type: str, data: Mapping[str, Any] | None = None) -> bool:
        """Send an event to this agent's user only."""
        payload = {"agent_name": self.name, **data} if data else {"agent_name": self.name}
        return await self.websocket_emitter.emit(event_type, payload)

    def set_websocket_bridge(self, bridge: WebSocketBridge, run_id: str) -> None:
        """Rebind the agent's events to ``run_id`` of its own user through ``bridge``."""
        context = self.context
        self._websocket_emitter = bridge.create_emitter(
            context.user_id, context.thread_id, run_id
        )

    async def execute(self, request: Any, run_id: str) -> Any:
        """Run the agent on one request; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute(request, run_id)")
