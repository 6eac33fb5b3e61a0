"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from migrator.runtime import (
    ARCHITECTURE_VARIABLE,
    AgentClassRegistry,
    AgentInstanceFactory,
    Runtime,
)
from migrator.runtime.demo import EchoAgent
from runtime_support import StatefulAgent


@pytest.fixture(autouse=True)
def isolated_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run each test with no configured runtime, a fresh class registry, the rollback
    switch off and no MIGRATOR_RUNTIME_* limits from the environment."""
    from migrator.runtime import holder, registry

    monkeypatch.delenv(ARCHITECTURE_VARIABLE, raising=False)
    for name in list(os.environ):
        if name.startswith("MIGRATOR_RUNTIME_"):
            monkeypatch.delenv(name)
    tokens = [(holder._installed, holder._installed.set(None)),
              (registry._context_registry, registry._context_registry.set(None))]
    yield
    for variable, token in reversed(tokens):
        variable.reset(token)


@pytest.fixture
def registry() -> AgentClassRegistry:
    registry = AgentClassRegistry()
    registry.register("echo", EchoAgent, "Echoes")
    registry.register("stateful", StatefulAgent, "Keeps notes")
    registry.freeze()
    return registry


@pytest.fixture
def runtime(registry: AgentClassRegistry) -> Runtime:
    return Runtime(class_registry=registry)


@pytest.fixture
def factory(runtime: Runtime) -> AgentInstanceFactory:
    return AgentInstanceFactory(runtime)


@pytest.fixture
async def session_factory(tmp_path: Path) -> AsyncIterator[object]:
    from migrator.runtime.db import create_session_factory, dispose_session_factory, sqlite_url

    factory = create_session_factory(sqlite_url(tmp_path / "runtime.sqlite3"),
                                     pool_size=20, max_overflow=80)
    yield factory
    await dispose_session_factory(factory)


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


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Start a throwaway redis-server on an ephemeral 127.0.0.1 port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not found on PATH; install it to run the Redis tests")
    for _attempt in range(5):
        port = _free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            if _answers_ping(port):
                break
            time.sleep(0.05)
        if process.poll() is None and _answers_ping(port):
            break
        # Another process took the port between probe and start; try a new one.
        process.kill()
        process.wait(10)
    else:
        raise RuntimeError("could not start redis-server on a free port")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
