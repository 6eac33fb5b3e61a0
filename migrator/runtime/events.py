"""The event record that travels from an agent to its user's connections."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from typing import Any

AGENT_STARTED = "agent_started"
AGENT_THINKING = "agent_thinking"
TOOL_EXECUTING = "tool_executing"
TOOL_COMPLETED = "tool_completed"
AGENT_COMPLETED = "agent_completed"
AGENT_ERROR = "agent_error"


@dataclasses.dataclass(frozen=True)
class AgentEvent:
    """One event of one run, addressed to exactly one user."""

    user_id: str
    thread_id: str
    run_id: str
    type: str
    data: Mapping[str, Any]
    sequence: int
    timestamp: float = dataclasses.field(default_factory=time.time)

    @classmethod
    def of_run(cls, user_id: str, thread_id: str, run_id: str, event_type: str,
               data: Mapping[str, Any], sequence: int) -> AgentEvent:
        """Build an event stamped now: the same frozen event as the constructor's, faster.

        Every emit builds one, and the frozen constructor, which sets each field through
        object.__setattr__, took half of an in-process emit; the fields go straight into
        the new instance's dict instead.
        """
        event = object.__new__(cls)
        fields = event.__dict__
        fields["user_id"] = user_id
        fields["thread_id"] = thread_id
        fields["run_id"] = run_id
        fields["type"] = event_type
        fields["data"] = data
        fields["sequence"] = sequence
        fields["timestamp"] = time.time()
        return event

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a plain dict, the shape sent over the wire."""
        return {
            "user_id": self.user_id,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "type": self.type,
            "data": dict(self.data),
            "sequence": self.sequence,
            "timestamp": self.timestamp,
        }

    def to_json(self) -> str:
        """Serialise the event; values that JSON cannot hold are turned into strings."""
        return json.dumps(self.to_dict(), default=str, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> AgentEvent:
        """Parse an event produced by to_json."""
        raw = json.loads(text)
        return cls(
            user_id=raw["user_id"],
            thread_id=raw["thread_id"],
            run_id=raw["run_id"],
            type=raw["type"],
            data=raw["data"],
            sequence=raw["sequence"],
            timestamp=raw["timestamp"],
        )
