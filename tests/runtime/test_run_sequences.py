"""Receiving-side sequence tracking: gaps, duplicates, run ends, and its memory bound."""

from __future__ import annotations

from migrator.runtime import AgentEvent
from migrator.runtime.sequences import RunSequences


def event(run_id: str, sequence: int) -> AgentEvent:
    return AgentEvent("alice", "t", run_id, "agent_thinking", {}, sequence)


def test_a_skipped_sequence_is_a_gap_and_a_repeat_is_a_duplicate() -> None:
    runs = RunSequences()
    assert runs.observe(event("r", 1), expect_start=True) is None
    gap = runs.observe(event("r", 4), expect_start=True)
    assert gap is not None and (gap.first, gap.last, gap.missing) == (2, 3, 2)
    assert runs.is_duplicate(event("r", 4))
    assert not runs.is_duplicate(event("r", 5))


def test_a_run_first_seen_late_is_a_gap_only_when_its_start_was_expected() -> None:
    assert RunSequences().observe(event("r", 3), expect_start=False) is None
    gap = RunSequences().observe(event("r", 3), expect_start=True)
    assert gap is not None and (gap.first, gap.last) == (1, 2)


def test_the_end_of_a_run_reports_its_missing_tail_once() -> None:
    runs = RunSequences()
    runs.observe(event("r", 1), expect_start=True)
    gap = runs.finish("alice", "t", "r", 3)
    assert gap is not None and (gap.first, gap.last) == (2, 3)
    assert runs.finish("alice", "t", "r", 3) is None
    assert runs.is_duplicate(event("r", 2))
    assert len(runs) == 0


def test_a_run_ended_unseen_is_wholly_missing_unless_it_predates_the_receiver() -> None:
    assert RunSequences().finish("alice", "t", "r", 2, expect_start=False) is None
    gap = RunSequences().finish("alice", "t", "r", 2)
    assert gap is not None and (gap.first, gap.last) == (1, 2)
    event_of_gap = gap.to_event()
    assert (event_of_gap.type, event_of_gap.sequence, event_of_gap.data["missing"]) == (
        "gap", 0, 2)


def test_tracking_is_bounded() -> None:
    runs = RunSequences(max_runs=10)
    for n in range(100):
        runs.observe(event(f"r{n}", 1), expect_start=True)
        runs.finish("alice", "t", f"done{n}", 1, expect_start=False)
    assert len(runs) == 10
