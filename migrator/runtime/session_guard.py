"""A proxy that refuses overlapping use of one database session by two tasks."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from .errors import SessionClosedError, SessionConcurrencyError

# The awaitable methods of SQLAlchemy's AsyncSession that touch the connection.
GUARDED_METHODS = frozenset({
    "execute", "scalar", "scalars", "get", "get_one", "merge", "refresh", "flush",
    "commit", "rollback", "close", "delete", "stream", "stream_scalars", "run_sync",
    "connection", "invalidate", "reset",
})


def _current_actor() -> object:
    """Identify the running task, or the thread when called outside an event loop."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    return task if task is not None else threading.current_thread()


def _describe(actor: object) -> str:
    if isinstance(actor, asyncio.Task):
        return f"task {actor.get_name()!r}"
    if isinstance(actor, threading.Thread):
        return f"thread {actor.name!r}"
    return repr(actor)


class GuardedSession:
    """Forwards everything to the wrapped session, but one task at a time."""

    __slots__ = ("wrapped", "_label", "_in_use_by", "_in_use_for", "_retired")

    def __init__(self, session: Any, label: str) -> None:
        self.wrapped = session
        self._label = label
        self._in_use_by: object | None = None
        self._in_use_for = ""
        self._retired = False

    def retire(self) -> None:
        """Refuse all further use; called when the owning scope ends."""
        self._retired = True

    @property
    def retired(self) -> bool:
        """Tell whether the owning scope has ended."""
        return self._retired

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.wrapped, name)
        if name in GUARDED_METHODS and callable(attribute):
            return self._guard(name, attribute)
        return attribute

    def __repr__(self) -> str:
        return f"<GuardedSession {self._label} {self.wrapped!r}>"

    def _guard(self, name: str, method: Any) -> Any:
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            if self._retired:
                raise SessionClosedError(
                    f"the database session of {self._label} was closed when its scope "
                    f"ended; {name}() must run inside `async with "
                    f"factory.user_execution_scope(...)`"
                )
            actor = _current_actor()
            holder = self._in_use_by
            if holder is not None and holder is not actor:
                raise SessionConcurrencyError(
                    f"the database session of {self._label} is in use by {_describe(holder)} "
                    f"({self._in_use_for}); {_describe(actor)} called {name}() at the same "
                    f"time. A session serves one task at a time: await the other task first, "
                    f"or give the concurrent work its own scope"
                )
            if holder is actor:
                return await method(*args, **kwargs)
            self._in_use_by, self._in_use_for = actor, f"{name}()"
            try:
                return await method(*args, **kwargs)
            finally:
                self._in_use_by, self._in_use_for = None, ""

        return guarded
