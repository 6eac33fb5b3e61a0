"""AgentInstanceFactory: fresh agents per request, each bound to one user context."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from .agent import BaseAgent
from .config import Runtime
from .context import UserExecutionContext
from .emitter import UserWebSocketEmitter
from .errors import UserContextMismatchError
from .metrics import factory_metrics
from .scope import UserExecutionScope


class AgentInstanceFactory:
    """Creates agents and execution scopes on one runtime, optionally for one user only."""

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        bound_context: UserExecutionContext | None = None,
    ) -> None:
        self.runtime = runtime if runtime is not None else Runtime.unconfigured()
        self.bound_context = bound_context
        # Agents built from a context without an emitter share one, so sequences stay per run.
        self._emitters: weakref.WeakKeyDictionary[UserExecutionContext, UserWebSocketEmitter] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def bound_user_id(self) -> str | None:
        """The only user this factory serves, or None for a factory that serves any user."""
        return None if self.bound_context is None else self.bound_context.user_id

    @property
    def websocket_bridge(self) -> Any:
        """The bridge the runtime's emitters publish through."""
        return self.runtime.bridge

    def _check_user(self, user_id: str, action: str) -> None:
        if self.bound_context is None:
            return
        bound = self.bound_context.user_id
        if user_id != bound:
            self.runtime.tracker.counters.cross_user_events_rejected += 1
            raise UserContextMismatchError(
                f"this factory was created for user {bound!r} and cannot {action} for "
                f"user {user_id!r}; call create_agent_instance_factory(user_context) per user"
            )

    def user_execution_scope(
        self,
        user_id: str,
        thread_id: str,
        run_id: str | None = None,
        db_session: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> UserExecutionScope:
        """Return an async context manager that yields a fresh context and cleans it up."""
        self._check_user(user_id, "open a scope")
        return UserExecutionScope(self.runtime, user_id, thread_id, run_id, db_session, metadata)

    async def create_agent_instance(
        self, agent_name: str, user_context: UserExecutionContext
    ) -> BaseAgent:
        """Return a new agent of ``agent_name`` bound to ``user_context`` and its emitter."""
        if not isinstance(user_context, UserExecutionContext):
            raise TypeError(
                f"create_agent_instance needs a UserExecutionContext, "
                f"got {type(user_context).__name__}"
            )
        self._check_user(user_context.user_id, "create agents")
        runtime = self.runtime
        registration = runtime.registry.get_registration(agent_name)
        emitter = self._emitter_for(user_context)
        if registration.constructor_parameters:
            dependencies = runtime.agent_dependencies
            agent = registration.agent_class(**{
                k: dependencies[k] for k in registration.constructor_parameters
                if k in dependencies})
        else:
            agent = registration.agent_class()
        agent.bind(agent_name, user_context, emitter)
        runtime.tracker.counters.instances_created += 1
        return agent

    def _emitter_for(self, context: UserExecutionContext) -> UserWebSocketEmitter:
        emitter = context.websocket_emitter
        if emitter is not None:
            if (emitter.run_id != context.run_id or emitter.user_id != context.user_id
                    or emitter.thread_id != context.thread_id):
                raise UserContextMismatchError(
                    f"the context's emitter is bound to user {emitter.user_id!r} run "
                    f"{emitter.run_id!r}, not to the context's user {context.user_id!r} run "
                    f"{context.run_id!r}"
                )
            return emitter
        emitter = self._emitters.get(context)
        if emitter is None:
            emitter = UserWebSocketEmitter(
                context.user_id, context.thread_id, context.run_id,
                self.runtime.router, self.runtime.tracker.counters,
            )
            self._emitters[context] = emitter
        return emitter

    def get_factory_metrics(self) -> dict[str, Any]:
        """Return the runtime's counters under the guide's metric names."""
        runtime = self.runtime
        metrics = factory_metrics(
            runtime.tracker.counters,
            active_contexts=len(runtime.tracker),
            configuration_status=runtime.configuration_status,
        )
        metrics["bound_user_id"] = self.bound_user_id
        return metrics

    def get_active_contexts_summary(self) -> dict[str, Any]:
        """Describe every open scope of the runtime, keyed by request id."""
        contexts: dict[str, dict[str, Any]] = {}
        for scope in self.runtime.tracker.active():
            if scope.context is not None:
                summary = scope.context.summary()
                summary["age_seconds"] = round(scope.age_seconds, 3)
                contexts[scope.context.request_id] = summary
        return {"total_active_contexts": len(contexts), "contexts": contexts}

    async def cleanup_inactive_contexts(self, max_age_seconds: float = 300.0) -> int:
        """Force cleanup of scopes open longer than ``max_age_seconds``; returns how many."""
        cleaned = 0
        for scope in self.runtime.tracker.active():
            if scope.age_seconds >= max_age_seconds and await scope.force_cleanup():
                cleaned += 1
        return cleaned
