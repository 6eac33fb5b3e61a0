"""UserExecutionScope: opens a user's context and always cleans it up."""

from __future__ import annotations

import asyncio
import contextvars
import enum
from collections.abc import Mapping
from time import monotonic, perf_counter
from types import TracebackType
from typing import Any

from .config import Runtime
from .context import UserExecutionContext, enter_context, leave_context
from .emitter import UserWebSocketEmitter
from .ids import generate_request_id, generate_run_and_request_ids
from .session_guard import GuardedSession


class Outcome(enum.Enum):
    """How a scope's body ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STALE = "stale"


class UserExecutionScope:
    """Async context manager yielding a fresh context; cleanup runs on success, error and cancel."""

    __slots__ = ("_runtime", "_user_id", "_thread_id", "_run_id", "_request_id",
                 "_given_session", "_metadata", "_session", "_emitter", "_token", "_cleaned",
                 "context", "started_at")

    def __init__(
        self,
        runtime: Runtime,
        user_id: str,
        thread_id: str,
        run_id: str | None,
        db_session: Any = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self._runtime = runtime
        self._user_id = user_id
        self._thread_id = thread_id
        if run_id is None:
            self._run_id, self._request_id = generate_run_and_request_ids()
        else:
            self._run_id, self._request_id = run_id, generate_request_id()
        self._given_session = db_session
        self._metadata = metadata
        self._session: Any = None
        self._emitter: UserWebSocketEmitter | None = None
        self._token: contextvars.Token | None = None
        self._cleaned = False
        self.context: UserExecutionContext | None = None
        self.started_at = 0.0

    async def __aenter__(self) -> UserExecutionContext:
        if self.context is not None:
            raise RuntimeError("a user execution scope can be entered only once")
        began = perf_counter()
        runtime = self._runtime
        user_id, thread_id, run_id = self._user_id, self._thread_id, self._run_id
        counters = runtime.tracker.counters
        session = self._given_session
        if session is None and runtime.session_factory is not None:
            session = runtime.session_factory()
        emitter = UserWebSocketEmitter(user_id, thread_id, run_id, runtime.router, counters)
        try:
            # Positional: keywords make the frozen dataclass's __init__ a third slower.
            context = UserExecutionContext(
                user_id, thread_id, run_id, self._request_id,
                None if session is None else GuardedSession(
                    session, f"user {user_id!r} run {run_id!r}"),
                emitter,
                self._metadata,
            )
        except BaseException:
            if session is not None and self._given_session is None:
                await session.close()
            raise
        if session is not None:
            counters.sessions_opened += 1
        self._session, self._emitter, self.context = session, emitter, context
        self.started_at = monotonic()
        runtime.tracker.add(self)
        self._token = enter_context(context)
        counters.context_creation_seconds.observe(perf_counter() - began)
        return context

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            leave_context(self._token)
            self._token = None
        if exc_type is None:
            outcome = Outcome.SUCCEEDED
        elif issubclass(exc_type, asyncio.CancelledError):
            outcome = Outcome.CANCELLED
        else:
            outcome = Outcome.FAILED
        began = perf_counter()
        if self._session is None:
            if self._claim_cleanup(outcome):
                self._finish(outcome)
        else:
            # Shielded so that a second cancellation cannot leave the session open.
            await asyncio.shield(self._cleanup(outcome))
        self._runtime.tracker.counters.context_cleanup_seconds.observe(perf_counter() - began)

    @property
    def age_seconds(self) -> float:
        """Seconds since the scope was entered."""
        return monotonic() - self.started_at

    async def force_cleanup(self) -> bool:
        """Clean up a scope whose body is still running; returns False if already clean."""
        if self._cleaned:
            return False
        await self._cleanup(Outcome.STALE)
        return True

    def _claim_cleanup(self, outcome: Outcome) -> bool:
        """Return True for the first caller; later callers only have their outcome counted."""
        if self._cleaned:
            self._count_outcome(outcome)
            return False
        self._cleaned = True
        if self._emitter is not None:
            self._emitter.close()
        if self._session is not None and self.context is not None:
            self.context.db_session.retire()
        return True

    async def _cleanup(self, outcome: Outcome) -> None:
        """Settle and close the session, then forget the scope."""
        if not self._claim_cleanup(outcome):
            return
        session, counters = self._session, self._runtime.tracker.counters
        if session is None:
            self._finish(outcome)
            return
        commit_error: BaseException | None = None
        try:
            if outcome is Outcome.SUCCEEDED:
                try:
                    await session.commit()
                    counters.sessions_committed += 1
                except Exception as error:
                    commit_error = error
                    await session.rollback()
                    counters.sessions_rolled_back += 1
            else:
                await session.rollback()
                counters.sessions_rolled_back += 1
        except Exception:
            counters.cleanup_errors += 1
        finally:
            try:
                await session.close()
            except Exception:
                counters.cleanup_errors += 1
            counters.sessions_closed += 1
            self._finish(Outcome.FAILED if commit_error is not None else outcome)
        if commit_error is not None:
            raise commit_error

    def _finish(self, outcome: Outcome) -> None:
        runtime = self._runtime
        runtime.tracker.discard(self)
        runtime.tracker.counters.contexts_cleaned += 1
        if self.context is not None:
            self.context.lifecycle.cleaned = True
            runtime.bridge.forget_run(self.context.run_id)
        self._count_outcome(outcome)

    def _count_outcome(self, outcome: Outcome) -> None:
        counters = self._runtime.tracker.counters
        if outcome is Outcome.SUCCEEDED:
            counters.contexts_succeeded += 1
        elif outcome is Outcome.FAILED:
            counters.contexts_failed += 1
        elif outcome is Outcome.CANCELLED:
            counters.contexts_cancelled += 1
        else:
            counters.stale_contexts_cleaned += 1
