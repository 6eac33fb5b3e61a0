"""Demo agents served by ``python -m migrator.runtime serve`` and used by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .agent import BaseAgent
from .registry import AgentClassRegistry


class DemoAgentError(Exception):
    """Raised on purpose by EchoAgent when a request asks it to fail."""


def _options(request: Any) -> tuple[str, int, float, bool]:
    if isinstance(request, Mapping):
        return (
            str(request.get("message", "")),
            max(0, int(request.get("steps", 1))),
            max(0.0, float(request.get("pause_ms", 0))) / 1000,
            bool(request.get("fail", False)),
        )
    return str(request), 1, 0.0, False


class EchoAgent(BaseAgent):
    """Streams started, thinking steps, a tool call and completed, then echoes the message."""

    async def execute(self, request: Any, run_id: str) -> dict[str, Any]:
        """Run the demo on a message or on a mapping with message/steps/pause_ms/fail."""
        message, steps, pause, fail = _options(request)
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
