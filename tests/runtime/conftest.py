"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from migrator.runtime import (
    ARCHITECTURE_VARIABLE,
    PROCESS_RUNTIME,
    AgentClassRegistry,
    AgentInstanceFactory,
    Runtime,
)
from migrator.runtime.demo import EchoAgent
from runtime_support import StatefulAgent


@pytest.fixture(autouse=True)
def isolated_process_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run each test with no process runtime installed and the rollback switch off."""
    monkeypatch.delenv(ARCHITECTURE_VARIABLE, raising=False)
    saved = PROCESS_RUNTIME.clear()
    yield
    PROCESS_RUNTIME.clear()
    if saved is not None:
        PROCESS_RUNTIME.install(saved)


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
