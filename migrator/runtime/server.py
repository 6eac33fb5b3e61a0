"""Running the ASGI app under uvicorn on a socket the runtime binds itself."""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from .connection import ABORT_EXTENSION
from .settings import RuntimeSettings


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free ephemeral port.

    The protocol is named (IPPROTO_TCP) because asyncio only sets TCP_NODELAY on accepted
    sockets whose protocol says TCP; without it every keep-alive response waits ~40 ms on
    Nagle's algorithm and the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class AbortableWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, plus a scope extension that cuts the connection off.

    A client that stops reading fills the send buffer; a close frame then never leaves and
    uvicorn waits on the buffer forever. The extension lets the app drop such a client.
    """

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The app's task is created but has not run yet, so it sees the extension.
        self.scope["extensions"][ABORT_EXTENSION] = self.transport.abort


def uvicorn_config(app: Any, *, log_level: str = "warning",
                   settings: RuntimeSettings | None = None,
                   log_config: Any = uvicorn.config.LOGGING_CONFIG,
                   ws_compression: bool = False) -> uvicorn.Config:
    """Return the uvicorn settings the runtime uses.

    Websocket compression is off unless asked for: events are small JSON documents, and
    deflating each one cost more CPU per event than the rest of its delivery.
    """
    settings = settings or RuntimeSettings()
    return uvicorn.Config(app, log_level=log_level, lifespan="on", ws=AbortableWebSocketProtocol,
                          timeout_graceful_shutdown=settings.shutdown_grace,
                          timeout_keep_alive=settings.keep_alive_timeout,
                          log_config=log_config, ws_per_message_deflate=ws_compression)


class BackgroundServer:
    """Serves an app in the current event loop; ``async with`` waits until it accepts."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0,
                 *, startup_timeout: float = 15.0, settings: RuntimeSettings | None = None,
                 log_level: str = "warning",
                 log_config: Any = uvicorn.config.LOGGING_CONFIG) -> None:
        self._socket = bind_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(uvicorn_config(app, settings=settings, log_level=log_level,
                                                     log_config=log_config))
        self._startup_timeout = startup_timeout
        self._task: asyncio.Task[None] | None = None

    @property
    def server(self) -> uvicorn.Server:
        """The uvicorn server (its ``server_state.connections`` are the open connections)."""
        return self._server

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def __aenter__(self) -> BackgroundServer:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        await asyncio.wait_for(self._started(self._task), self._startup_timeout)
        return self

    async def _started(self, task: asyncio.Task[None]) -> None:
        while not self._server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn exited before it started serving")
            await asyncio.sleep(0.01)

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, self._startup_timeout)
        self._socket.close()
