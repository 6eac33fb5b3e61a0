"""Fixtures shared by the runtime tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from runtime_support import RedisProcess, StatefulAgent

from migrator.runtime import (
    ARCHITECTURE_VARIABLE,
    AgentClassRegistry,
    AgentInstanceFactory,
    Runtime,
)
from migrator.runtime.demo import EchoAgent


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
              (registry._context_registry, registry._context_registry.set(registry.AgentClassRegistry()))]
    process_default = holder._process_installation.swap(None)
    yield
    holder._process_installation.swap(process_default)
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


@pytest.fixture(scope="session")
def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not found on PATH; .ci/run installs it")
    return binary


@pytest.fixture(scope="session")
def redis_url(redis_binary: str) -> Iterator[str]:
    """A throwaway redis-server on an ephemeral 127.0.0.1 port, shared by the session."""
    server = RedisProcess.start_on_free_port(redis_binary)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def restartable_redis(redis_binary: str) -> Iterator[RedisProcess]:
    """A redis-server of this test alone, which the test may kill and start again."""
    server = RedisProcess.start_on_free_port(redis_binary)
    try:
        yield server
    finally:
        server.stop()
