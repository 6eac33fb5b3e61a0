"""Helpers shared by the runtime tests (imported by module name, not collected)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from migrator.runtime import AgentEvent, BaseAgent

T = TypeVar("T")

# Every wait in these tests is bounded by this many seconds.
WAIT = 10.0


class StatefulAgent(BaseAgent):
    """Keeps per-instance notes, to show that instances never share them."""

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    async def execute(self, request: str, run_id: str) -> list[str]:
        self.notes.append(f"{self.user_id}:{request}")
        await self.notify_event("agent_started", {"request": request})
        return list(self.notes)


class Recorder:
    """An event sink that records what one connection received."""

    def __init__(self) -> None:
        self.events: list[AgentEvent] = []

    def __call__(self, event: AgentEvent) -> None:
        self.events.append(event)


async def bounded(awaitable: Awaitable[T], timeout: float = WAIT) -> T:
    """Await with the suite's upper bound, so a hang fails instead of blocking CI."""
    return await asyncio.wait_for(awaitable, timeout)


SECRET = b"test-secret-0123456789abcdef"
# The serve command verifies HS256 JWTs, whose keys must be at least 32 bytes.
JWT_SECRET = "jwt-test-secret-0123456789abcdef-0123"


def jwt_for(user_id: str, ttl_seconds: float = 300.0) -> str:
    """A token the serve command started with --secret JWT_SECRET accepts."""
    from migrator.runtime.jwt_auth import JWTVerifier

    return JWTVerifier(JWT_SECRET).issue(user_id, ttl_seconds)


async def receive_events(websocket: object, count: int, timeout: float = WAIT) -> list[dict]:
    """Receive exactly ``count`` JSON messages, each within the bound."""
    import json

    return [json.loads(await bounded(websocket.recv(), timeout)) for _ in range(count)]


async def receives_nothing(websocket: object, wait: float = 0.5) -> bool:
    """Return True when nothing arrives on the socket for ``wait`` seconds."""
    try:
        message = await asyncio.wait_for(websocket.recv(), wait)
    except asyncio.TimeoutError:
        return True
    raise AssertionError(f"expected no message, received {message!r}")


async def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll ``predicate`` until it holds, failing after ``timeout`` seconds."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def connect_events(ws_url: str, token: str, **options: object) -> object:
    """Open the event stream of ``ws_url`` authenticated by ``token`` (as a subprotocol)."""
    from websockets.asyncio.client import connect

    from migrator.runtime.auth import client_subprotocols

    options.setdefault("open_timeout", WAIT)
    return await bounded(connect(f"{ws_url}/ws", subprotocols=client_subprotocols(token),
                                 **options))


class SilentClient:
    """A websocket client on a raw socket that completes the handshake, then never reads."""

    def __init__(self, sock: object) -> None:
        self.sock = sock

    @classmethod
    async def connect(cls, host: str, port: int, token: str) -> SilentClient:
        import base64
        import os
        import socket

        from migrator.runtime.auth import client_subprotocols

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await bounded(loop.sock_connect(sock, (host, port)))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: {', '.join(client_subprotocols(token))}\r\n\r\n")
        await bounded(loop.sock_sendall(sock, request.encode()))
        response = b""
        while b"\r\n\r\n" not in response:
            response += await bounded(loop.sock_recv(sock, 1))
        if not response.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"handshake refused: {response!r}")
        return cls(sock)

    def close(self) -> None:
        self.sock.close()


class RedisProcess:
    """A redis-server child process on 127.0.0.1, killable and restartable on its port."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start_on_free_port(cls, binary: str) -> RedisProcess:
        for _attempt in range(5):
            server = cls(binary, _free_port())
            if server.start():
                return server
        raise RuntimeError("could not start redis-server on a free port")

    def start(self, timeout: float = 10.0) -> bool:
        """Start the server; False if it did not answer (e.g. the port was taken)."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if _answers_ping(self.port):
                return True
            time.sleep(0.02)
        self.stop()
        return False

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False
