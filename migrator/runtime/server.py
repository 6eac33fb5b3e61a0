"""Running the ASGI app under uvicorn on a socket the runtime binds itself."""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Any

import uvicorn


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free ephemeral port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, *, log_level: str = "warning") -> uvicorn.Config:
    """Return the uvicorn settings the runtime uses."""
    return uvicorn.Config(app, log_level=log_level, lifespan="on", ws="websockets-sansio",
                          timeout_graceful_shutdown=5)


class BackgroundServer:
    """Serves an app in the current event loop; ``async with`` waits until it accepts."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0,
                 *, startup_timeout: float = 15.0) -> None:
        self._socket = bind_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(uvicorn_config(app))
        self._startup_timeout = startup_timeout
        self._task: asyncio.Task[None] | None = None

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
