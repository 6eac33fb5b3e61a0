"""One event-stream websocket: its bounded outbox, its sender, and the ways it ends."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from .auth import Principal
from .events import AgentEvent
from .metrics import RuntimeCounters
from .settings import RuntimeSettings

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
# Scope extension the runtime's uvicorn protocol adds: drops a connection without flushing.
ABORT_EXTENSION = "migrator.transport.abort"
# How long an evicted client has to finish the closing handshake before it is cut off.
CLOSE_GRACE = 2.0

logger = logging.getLogger("migrator.runtime.websocket")


class Outbox:
    """Serialised events waiting for one socket, bounded in bytes; overflow evicts the socket."""

    def __init__(self, max_bytes: int, counters: RuntimeCounters) -> None:
        self._texts: collections.deque[tuple[str, int]] = collections.deque()
        self._ready = asyncio.Event()
        self._max_bytes = max_bytes
        self._counters = counters
        self.queued_bytes = 0
        self.overflowed = False

    def put(self, event: AgentEvent) -> None:
        """Queue an event without blocking the publisher; past the bound, drop and overflow."""
        if self.overflowed:
            self._counters.websocket_events_dropped += 1
            return
        text = event.to_json()
        size = len(text.encode())
        if self.queued_bytes + size > self._max_bytes:
            self.overflowed = True
            self._counters.websocket_events_dropped += 1 + len(self._texts)
            self._texts.clear()
            self.queued_bytes = 0
        else:
            self._texts.append((text, size))
            self.queued_bytes += size
        self._ready.set()

    async def get(self) -> str | None:
        """Wait for the next event's text; None once the outbox has overflowed."""
        while not self._texts and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        text, size = self._texts.popleft()
        self.queued_bytes -= size
        return text


class EventStream:
    """Serves one accepted socket until the client leaves, falls behind, or its token expires."""

    def __init__(self, websocket: WebSocket, principal: Principal, outbox: Outbox,
                 settings: RuntimeSettings, counters: RuntimeCounters) -> None:
        self.websocket = websocket
        self.principal = principal
        self.outbox = outbox
        self.settings = settings
        self.counters = counters

    async def serve(self) -> str:
        """Run until the socket ends; return why: disconnected, evicted or expired."""
        tasks = {
            asyncio.ensure_future(self._receive()): "disconnected",
            asyncio.ensure_future(self._send()): "evicted",
        }
        if self.principal.expires_at is not None:
            tasks[asyncio.ensure_future(self._expire(self.principal.expires_at))] = "expired"
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return tasks[done.pop()]

    async def _receive(self) -> None:
        # Clients send nothing the server needs; reading keeps close frames flowing.
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    async def _send(self) -> None:
        try:
            while True:
                text = await self.outbox.get()
                if text is None:
                    await self._evict("backlog", "event backlog exceeded")
                    return
                try:
                    await _within(self.websocket.send_text(text), self.settings.send_timeout)
                except asyncio.TimeoutError:
                    self.counters.websocket_events_dropped += 1
                    await self._evict("send_timeout", "client not reading")
                    return
                self.counters.websocket_events_sent += 1
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client is gone; the receiver sees the disconnect and ends the stream.
            await asyncio.Event().wait()

    async def _expire(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        self.counters.websocket_closed_token_expired += 1
        logger.info("websocket closed: token expired",
                    extra={"event": "token_expired", "user_id": self.principal.user_id})
        await self._close(POLICY_VIOLATION, "token expired")

    async def _evict(self, reason: str, message: str) -> None:
        if reason == "backlog":
            self.counters.websocket_clients_evicted_backlog += 1
        else:
            self.counters.websocket_clients_evicted_send_timeout += 1
        logger.warning("websocket client evicted: %s", message,
                       extra={"event": "client_evicted", "reason": reason,
                              "user_id": self.principal.user_id,
                              "queued_bytes": self.outbox.queued_bytes})
        await self._close(TRY_AGAIN_LATER, message)

    async def _close(self, code: int, reason: str) -> None:
        """Send a close frame if the socket can take one, and cut off a peer that never answers."""
        with contextlib.suppress(Exception):
            await _within(self.websocket.close(code=code, reason=reason), 1.0)
        abort = self.websocket.scope.get("extensions", {}).get(ABORT_EXTENSION)
        if abort is not None:
            # A client that reads nothing never drains the buffer, so close() alone would
            # keep its socket (and the queued bytes) forever.
            asyncio.get_running_loop().call_later(CLOSE_GRACE, abort)


async def _within(awaitable: Any, seconds: float) -> Any:
    """Await with a deadline; asyncio.timeout (3.11+) avoids wait_for's task per send."""
    timeout = getattr(asyncio, "timeout", None)
    if timeout is None:
        return await asyncio.wait_for(awaitable, seconds)
    async with timeout(seconds):
        return await awaitable
