"""The immutable per-request execution context and the "current context" lookup."""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import NoActiveScopeError
from .ids import (
    generate_request_id,
    generate_run_and_request_ids,
    generate_run_id,
    require_id,
)

if TYPE_CHECKING:
    from .emitter import UserWebSocketEmitter

_FIELD_NAMES = frozenset({"request_id", "db_session", "websocket_emitter", "metadata"})
# Shared by every context built without metadata: nothing holds its dict, so it stays empty.
_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


class ScopeLifecycle:
    """Whether the scope that owns a context has been cleaned up; set once, never unset."""

    __slots__ = ("cleaned",)

    def __init__(self) -> None:
        self.cleaned = False


@dataclasses.dataclass(frozen=True, eq=False)
class UserExecutionContext:
    """Everything one request of one user runs with; immutable and never shared."""

    user_id: str
    thread_id: str
    run_id: str = dataclasses.field(default_factory=generate_run_id)
    request_id: str = dataclasses.field(default_factory=generate_request_id)
    db_session: Any = None
    websocket_emitter: UserWebSocketEmitter | None = None
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    lifecycle: ScopeLifecycle = dataclasses.field(
        default_factory=ScopeLifecycle, repr=False
    )

    def __post_init__(self) -> None:
        require_id("user_id", self.user_id)
        require_id("thread_id", self.thread_id)
        require_id("run_id", self.run_id)
        require_id("request_id", self.request_id)
        # A private copy behind a read-only view, so the caller's dict cannot change it later.
        metadata = self.metadata
        object.__setattr__(self, "metadata",
                           MappingProxyType(dict(metadata)) if metadata else _NO_METADATA)

    @classmethod
    def from_request_supervisor(
        cls,
        user_id: str,
        thread_id: str,
        run_id: str | None = None,
        **extra: Any,
    ) -> UserExecutionContext:
        """Build a context for a request, generating run and request ids when absent.

        Keyword arguments naming a field (request_id, db_session, websocket_emitter,
        metadata) set it; any other keyword is stored in metadata.
        """
        fields = {k: extra.pop(k) for k in list(extra) if k in _FIELD_NAMES}
        metadata = dict(fields.pop("metadata", None) or {})
        metadata.update(extra)
        if fields.get("request_id") is None:
            if run_id is None:
                run_id, fields["request_id"] = generate_run_and_request_ids()
            else:
                fields["request_id"] = generate_request_id()
        return cls(
            user_id=user_id,
            thread_id=thread_id,
            run_id=generate_run_id() if run_id is None else run_id,
            metadata=metadata,
            **fields,
        )

    @property
    def is_cleaned(self) -> bool:
        """Tell whether the scope owning this context has finished its cleanup."""
        return self.lifecycle.cleaned

    @property
    def _is_cleaned(self) -> bool:
        """Alias kept for code written against the migration guide's troubleshooting."""
        return self.lifecycle.cleaned

    def summary(self) -> dict[str, Any]:
        """Return a JSON-friendly description of the context without its live objects."""
        return {
            "user_id": self.user_id,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "request_id": self.request_id,
            "has_db_session": self.db_session is not None,
            "has_websocket_emitter": self.websocket_emitter is not None,
            "metadata_keys": sorted(self.metadata),
        }


_current: contextvars.ContextVar[UserExecutionContext | None] = contextvars.ContextVar(
    "migrator_runtime_current_user_context", default=None
)


def current_user_context() -> UserExecutionContext | None:
    """Return the context of the execution scope the caller runs in, or None outside one."""
    return _current.get()


def require_user_context() -> UserExecutionContext:
    """Return the current context, raising NoActiveScopeError outside an execution scope."""
    context = _current.get()
    if context is None:
        raise NoActiveScopeError(
            "no user execution scope is active here; run this code inside "
            "`async with factory.user_execution_scope(...)` or pass the context explicitly"
        )
    return context


def enter_context(context: UserExecutionContext) -> contextvars.Token:
    """Make ``context`` current for the calling task and the tasks and threads it starts."""
    return _current.set(context)


def leave_context(token: contextvars.Token) -> None:
    """Undo enter_context, tolerating a scope exited from a different context."""
    try:
        _current.reset(token)
    except ValueError:
        # The scope was exited in another context copy; clearing is the safe fallback.
        _current.set(None)
