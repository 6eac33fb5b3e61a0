"""Counters a runtime keeps about its scopes, agents, sessions and events."""

from __future__ import annotations

from typing import Any


class RuntimeCounters:
    """Running totals for one runtime; every factory of that runtime adds to the same ones."""

    __slots__ = (
        "contexts_created",
        "contexts_succeeded",
        "contexts_failed",
        "contexts_cancelled",
        "contexts_cleaned",
        "stale_contexts_cleaned",
        "cleanup_errors",
        "instances_created",
        "sessions_opened",
        "sessions_closed",
        "sessions_committed",
        "sessions_rolled_back",
        "events_emitted",
        "events_dropped",
    )

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def snapshot(self) -> dict[str, int]:
        """Return the totals as a plain dict."""
        return {name: getattr(self, name) for name in self.__slots__}


def factory_metrics(
    counters: RuntimeCounters, *, active_contexts: int, configuration_status: str
) -> dict[str, Any]:
    """Build the dict get_factory_metrics() returns, with the guide's key names."""
    totals = counters.snapshot()
    return {
        "configuration_status": configuration_status,
        "active_contexts": active_contexts,
        "total_contexts_created": totals["contexts_created"],
        "total_contexts_cleaned": totals["contexts_cleaned"],
        "total_instances_created": totals["instances_created"],
        "cleanup_errors": totals["cleanup_errors"],
        "open_sessions": totals["sessions_opened"] - totals["sessions_closed"],
        **totals,
    }
