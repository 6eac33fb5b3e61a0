"""The websocket emitter bound to one user, thread and run."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from . import events
from .errors import EventPublishError
from .events import AgentEvent
from .metrics import RuntimeCounters
from .routing import EventRouter

logger = logging.getLogger("migrator.runtime.events")


class UserWebSocketEmitter:
    """Sends events of one run to one user; after close() every emit is dropped and counted."""

    __slots__ = ("user_id", "thread_id", "run_id", "_router", "_counters", "_sequence",
                 "_closed", "dropped_events", "sent_events")

    def __init__(
        self,
        user_id: str,
        thread_id: str,
        run_id: str,
        router: EventRouter,
        counters: RuntimeCounters | None = None,
    ) -> None:
        self.user_id = user_id
        self.thread_id = thread_id
        self.run_id = run_id
        self._router = router
        self._counters = counters if counters is not None else RuntimeCounters()
        self._sequence = 0
        self._closed = False
        self.dropped_events = 0
        self.sent_events = 0

    @property
    def closed(self) -> bool:
        """Tell whether the emitter's scope has ended."""
        return self._closed

    def close(self) -> None:
        """Stop sending; later emits are dropped so a finished run cannot reach anyone.

        The router is told the run's last sequence number, so a receiver that missed the
        end of the run can tell.
        """
        if self._closed:
            return
        self._closed = True
        finish_run = getattr(self._router, "finish_run", None)
        if finish_run is not None and self._sequence:
            finish_run(self.user_id, self.thread_id, self.run_id, self._sequence)

    async def emit(self, event_type: str, data: Mapping[str, Any] | None = None) -> bool:
        """Publish an event of this run, returning False when the emitter is closed."""
        if self._closed:
            self.dropped_events += 1
            self._counters.events_dropped += 1
            return False
        self._sequence += 1
        event = AgentEvent.of_run(self.user_id, self.thread_id, self.run_id, event_type,
                                  dict(data) if data else {}, self._sequence)
        try:
            await self._router.publish(event)
        except Exception as error:
            self._counters.events_publish_failed += 1
            logger.warning(
                "event not published: %s", error,
                extra={"event": "publish_failed", "user_id": self.user_id,
                       "run_id": self.run_id, "sequence": event.sequence,
                       "event_type": event_type, "error": type(error).__name__})
            raise EventPublishError(
                f"event {event_type!r} #{event.sequence} of run {self.run_id!r} was not "
                f"published: {error}") from error
        self.sent_events += 1
        self._counters.events_emitted += 1
        return True

    async def notify_agent_started(
        self, agent_name: str, data: Mapping[str, Any] | None = None
    ) -> bool:
        """Tell the user an agent began working."""
        return await self.emit(events.AGENT_STARTED, {"agent_name": agent_name, **(data or {})})

    async def notify_agent_thinking(
        self, agent_name: str, reasoning: str, step_number: int | None = None
    ) -> bool:
        """Share an agent's progress message with the user."""
        return await self.emit(
            events.AGENT_THINKING,
            {"agent_name": agent_name, "reasoning": reasoning, "step_number": step_number},
        )

    async def notify_tool_executing(
        self, agent_name: str, tool_name: str, parameters: Mapping[str, Any] | None = None
    ) -> bool:
        """Tell the user a tool call started."""
        return await self.emit(
            events.TOOL_EXECUTING,
            {"agent_name": agent_name, "tool_name": tool_name,
             "parameters": dict(parameters or {})},
        )

    async def notify_tool_completed(
        self, agent_name: str, tool_name: str, result: Any = None
    ) -> bool:
        """Tell the user a tool call finished."""
        return await self.emit(
            events.TOOL_COMPLETED,
            {"agent_name": agent_name, "tool_name": tool_name, "result": result},
        )

    async def notify_agent_completed(self, agent_name: str, result: Any = None) -> bool:
        """Tell the user an agent finished."""
        return await self.emit(
            events.AGENT_COMPLETED, {"agent_name": agent_name, "result": result}
        )

    async def notify_agent_error(self, agent_name: str, error: str | BaseException) -> bool:
        """Tell the user an agent failed."""
        return await self.emit(
            events.AGENT_ERROR, {"agent_name": agent_name, "error": str(error)}
        )
