"""Per-run sequence tracking on the receiving side, to notice events that never arrived."""

from __future__ import annotations

import collections
import dataclasses

from .events import AgentEvent

GAP = "gap"


@dataclasses.dataclass
class RunProgress:
    """What a receiver has seen of one run."""

    user_id: str
    thread_id: str
    last_sequence: int


@dataclasses.dataclass(frozen=True)
class Gap:
    """Events ``first``..``last`` of a run that were published but never received."""

    user_id: str
    thread_id: str
    run_id: str
    first: int
    last: int

    @property
    def missing(self) -> int:
        """How many events are missing."""
        return self.last - self.first + 1

    def to_event(self) -> AgentEvent:
        """The ``gap`` event sent to the run's user; sequence 0 marks it as not of the run."""
        return AgentEvent(user_id=self.user_id, thread_id=self.thread_id, run_id=self.run_id,
                          type=GAP, data={"first_missing": self.first,
                                          "last_missing": self.last, "missing": self.missing},
                          sequence=0)


class RunSequences:
    """Remembers the last sequence seen per open run (bounded), and runs seen to the end."""

    def __init__(self, max_runs: int = 100_000) -> None:
        self._open: collections.OrderedDict[str, RunProgress] = collections.OrderedDict()
        self._finished: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._max_runs = max_runs

    def __len__(self) -> int:
        return len(self._open)

    def is_duplicate(self, event: AgentEvent) -> bool:
        """Tell whether an event of this run was already seen (a publish retried after a
        lost reply can arrive twice)."""
        if event.run_id in self._finished:
            return True
        progress = self._open.get(event.run_id)
        return progress is not None and event.sequence <= progress.last_sequence

    def observe(self, event: AgentEvent, *, expect_start: bool) -> Gap | None:
        """Record an event; return the gap before it, if any.

        ``expect_start`` says whether a run first seen past sequence 1 lost its beginning
        (true once the receiver has been subscribed through the whole run).
        """
        progress = self._open.get(event.run_id)
        if progress is None:
            if event.run_id in self._finished:
                return None
            self._remember(event.run_id, RunProgress(event.user_id, event.thread_id, 0))
            progress = self._open[event.run_id]
            if not expect_start:
                progress.last_sequence = event.sequence - 1
        else:
            self._open.move_to_end(event.run_id)
        gap = None
        if event.sequence > progress.last_sequence + 1:
            gap = Gap(progress.user_id, progress.thread_id, event.run_id,
                      progress.last_sequence + 1, event.sequence - 1)
        progress.last_sequence = max(progress.last_sequence, event.sequence)
        return gap

    def finish(self, user_id: str, thread_id: str, run_id: str, last_sequence: int,
               *, expect_start: bool = True) -> Gap | None:
        """Record a run's end; return the events at its end (or all) that never arrived."""
        if run_id in self._finished:
            return None
        progress = self._open.pop(run_id, None)
        self._finished[run_id] = None
        while len(self._finished) > self._max_runs:
            self._finished.popitem(last=False)
        if progress is None:
            if not expect_start:
                return None
            progress = RunProgress(user_id, thread_id, 0)
        if last_sequence > progress.last_sequence:
            return Gap(progress.user_id, progress.thread_id, run_id,
                       progress.last_sequence + 1, last_sequence)
        return None

    def _remember(self, run_id: str, progress: RunProgress) -> None:
        self._open[run_id] = progress
        while len(self._open) > self._max_runs:
            self._open.popitem(last=False)
