"""The receiving side of Redis routing: check each message, track sequences, deliver locally."""

from __future__ import annotations

import logging

from .events import AgentEvent
from .routing import InProcessEventRouter
from .sequences import Gap, RunSequences

# Type of the control message that closes a run; receivers never pass it to sockets.
RUN_END = "run_end"

logger = logging.getLogger("migrator.runtime.redis")


class EventReceiver:
    """Turns messages from the user channels into deliveries, gap reports and counts."""

    def __init__(self, channel_prefix: str) -> None:
        self.channel_prefix = channel_prefix
        self.local = InProcessEventRouter()
        self.sequences = RunSequences()
        self.received = 0
        self.rejected = 0
        self.duplicates = 0
        self.gaps = 0
        self.events_missing = 0

    def dispatch(self, channel: bytes | str, data: bytes | str, *, expect_start: bool) -> None:
        """Handle one message of ``channel``; ``expect_start``: see RunSequences.observe."""
        if isinstance(channel, bytes):
            channel = channel.decode()
        try:
            event = AgentEvent.from_json(data)
        except (ValueError, KeyError, TypeError):
            self.rejected += 1
            return
        if not (isinstance(event.user_id, str) and isinstance(event.run_id, str)
                and type(event.sequence) is int):
            self.rejected += 1
            return
        if channel != self.channel_prefix + event.user_id:
            # Never deliver an event whose body names a different user than its channel.
            self.rejected += 1
            logger.error("event rejected: its body names another user than its channel",
                         extra={"event": "cross_user_rejected", "channel": channel})
            return
        if event.type == RUN_END:
            self.report(self.sequences.finish(event.user_id, event.thread_id, event.run_id,
                                              event.sequence, expect_start=expect_start))
            return
        if self.sequences.is_duplicate(event):
            self.duplicates += 1
            return
        self.report(self.sequences.observe(event, expect_start=expect_start))
        self.received += 1
        self.local.deliver(event)

    def run_ended(self, user_id: str, thread_id: str, run_id: str, last_sequence: int) -> None:
        """Record a run's end read back after reconnecting."""
        self.report(self.sequences.finish(user_id, thread_id, run_id, last_sequence))

    def report(self, gap: Gap | None) -> None:
        """Count a gap, log it and tell the user's local connections."""
        if gap is None:
            return
        self.gaps += 1
        self.events_missing += gap.missing
        logger.warning("events %d-%d of run %s never arrived", gap.first, gap.last, gap.run_id,
                       extra={"event": "gap", "user_id": gap.user_id, "run_id": gap.run_id,
                              "missing": gap.missing})
        self.local.deliver(gap.to_event())
