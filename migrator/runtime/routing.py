"""The router interface and the in-process router that delivers events to local connections."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from .events import AgentEvent

EventSink = Callable[[AgentEvent], None]


class Registration:
    """A handle for one connection registered for one user; close() unregisters it."""

    __slots__ = ("user_id", "key", "_router")

    def __init__(self, router: InProcessEventRouter, user_id: str, key: int) -> None:
        self.user_id = user_id
        self.key = key
        self._router = router

    def close(self) -> None:
        """Stop delivering events to this connection; safe to call twice."""
        self._router.unregister(self)


@runtime_checkable
class EventRouter(Protocol):
    """Delivers each published event to the connections registered for its user only."""

    def register(self, user_id: str, sink: EventSink) -> Registration:
        """Register a local connection of ``user_id``; the sink must not block."""

    async def publish(self, event: AgentEvent) -> int:
        """Send an event towards its user's connections."""

    def connection_count(self, user_id: str | None = None) -> int:
        """Count local connections, of one user or of all."""

    async def start(self) -> None:
        """Acquire whatever the router needs before the first publish."""

    async def health(self) -> dict[str, Any]:
        """Report whether the router can deliver events: at least ``{"ok": bool}``."""

    async def aclose(self) -> None:
        """Release the router's resources."""


class InProcessEventRouter:
    """Routes events to connections in this process, keyed by user id."""

    def __init__(self) -> None:
        self._sinks: dict[str, dict[int, EventSink]] = {}
        self._keys = itertools.count(1)
        self.delivered = 0
        self.undeliverable = 0
        self.sink_errors = 0

    def register(self, user_id: str, sink: EventSink) -> Registration:
        """Register a connection of ``user_id`` and return its handle."""
        key = next(self._keys)
        self._sinks.setdefault(user_id, {})[key] = sink
        return Registration(self, user_id, key)

    def unregister(self, registration: Registration) -> None:
        """Remove one connection; other connections, of any user, are untouched."""
        sinks = self._sinks.get(registration.user_id)
        if sinks is None:
            return
        sinks.pop(registration.key, None)
        if not sinks:
            del self._sinks[registration.user_id]

    def deliver(self, event: AgentEvent) -> int:
        """Hand the event to every local connection of its user and return how many took it."""
        sinks = self._sinks.get(event.user_id)
        if not sinks:
            self.undeliverable += 1
            return 0
        count = 0
        for sink in tuple(sinks.values()):
            try:
                sink(event)
            except Exception:
                # One broken connection must not stop delivery to the user's other ones.
                self.sink_errors += 1
            else:
                count += 1
        self.delivered += count
        return count

    async def publish(self, event: AgentEvent) -> int:
        """Deliver the event locally; there is no other process to reach."""
        return self.deliver(event)

    def connection_count(self, user_id: str | None = None) -> int:
        """Count registered connections, of one user or of all."""
        if user_id is not None:
            return len(self._sinks.get(user_id, ()))
        return sum(len(s) for s in self._sinks.values())

    def user_count(self) -> int:
        """Count the users with at least one registered connection."""
        return len(self._sinks)

    def connections_per_user(self) -> list[int]:
        """Return, for each connected user, how many connections it has."""
        return [len(sinks) for sinks in self._sinks.values()]

    def finish_run(self, user_id: str, thread_id: str, run_id: str, last_sequence: int) -> None:
        """Nothing to record: in-process delivery cannot lose events."""

    async def start(self) -> None:
        """Nothing to acquire in-process."""

    async def health(self) -> dict[str, Any]:
        """In-process delivery is always available."""
        return {"ok": True}

    async def aclose(self) -> None:
        """Drop all registrations."""
        self._sinks.clear()
