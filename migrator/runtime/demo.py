"""Demo agents served by ``python -m migrator.runtime serve`` and used by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .agent import BaseAgent
from .errors import InvalidContextError
from .registry import AgentClassRegistry

_CREATE_RUNS = ("CREATE TABLE IF NOT EXISTS demo_runs (run_id TEXT PRIMARY KEY,"
                " user_id TEXT NOT NULL, message TEXT NOT NULL)")
_INSERT_RUN = "INSERT INTO demo_runs VALUES (?, ?, ?)"


class DemoAgentError(Exception):
    """Raised on purpose by EchoAgent when a request asks it to fail."""


def _options(request: Any) -> tuple[str, int, float, bool, bool]:
    if isinstance(request, Mapping):
        try:
            return (
                str(request.get("message", "")),
                max(0, int(request.get("steps", 1))),
                max(0.0, float(request.get("pause_ms", 0))) / 1000,
                bool(request.get("fail", False)),
                bool(request.get("record", False)),
            )
        except (TypeError, ValueError) as error:
            raise InvalidContextError(f"bad demo request: {error}") from None
    return str(request), 1, 0.0, False, False


async def _record(session: Any, user_id: str, run_id: str, message: str) -> None:
    """Write the run to the request's database session, committed when its scope ends.

    Plain SQL on the session's connection (qmark style, as SQLite takes it), so this core
    module needs no SQLAlchemy import. The table is created by the first write that finds
    it missing, inside that write's transaction, not checked for on every run.
    """
    connection = await session.connection()
    row = (run_id, user_id, message)
    try:
        await connection.exec_driver_sql(_INSERT_RUN, row)
    except Exception as error:
        if "no such table" not in str(error):
            raise
        await connection.exec_driver_sql(_CREATE_RUNS)
        await connection.exec_driver_sql(_INSERT_RUN, row)


class EchoAgent(BaseAgent):
    """Streams started, thinking steps, a tool call and completed, then echoes the message."""

    async def execute(self, request: Any, run_id: str) -> dict[str, Any]:
        """Run the demo on a message, or on a mapping with message/steps/pause_ms/fail/record
        (record: write a row through the request's database session)."""
        message, steps, pause, fail, record = _options(request)
        emitter = self.websocket_emitter
        await emitter.notify_agent_started(self.name, {"message": message})
        for step in range(1, steps + 1):
            await asyncio.sleep(pause)
            await emitter.notify_agent_thinking(self.name, f"step {step} of {steps}", step)
        await emitter.notify_tool_executing(self.name, "echo", {"text": message})
        if fail:
            raise DemoAgentError(f"{self.name} was asked to fail")
        await emitter.notify_tool_completed(self.name, "echo", message)
        result = {"echo": message, "user_id": self.user_id, "run_id": run_id}
        await emitter.notify_agent_completed(self.name, result)
        if record and self.db_session is not None:
            # Last, so the write lock is held only until the scope commits, not while
            # events are published.
            await _record(self.db_session, self.user_id, run_id, message)
        return result


def expected_event_count(steps: int) -> int:
    """Return how many events a successful EchoAgent run with ``steps`` emits."""
    return steps + 4


def demo_registry() -> AgentClassRegistry:
    """Return a frozen registry holding the demo agents."""
    registry = AgentClassRegistry()
    registry.register("echo", EchoAgent, "Streams a few events and echoes the message")
    registry.freeze()
    return registry
