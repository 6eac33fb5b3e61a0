"""Counters and timing histograms a runtime keeps; the Prometheus endpoint reads them."""

from __future__ import annotations

import bisect
from typing import Any

# Upper bounds, in seconds, of the timing histograms' buckets.
TIME_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    """Counts observations per bucket, as Prometheus histograms do (cumulated on export)."""

    __slots__ = ("bounds", "counts", "total", "count")

    def __init__(self, bounds: tuple[float, ...] = TIME_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Record one observation."""
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.count += 1

    def cumulative(self) -> list[tuple[float, int]]:
        """Return (upper bound, observations at or below it), ending with +Inf."""
        running, result = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts):
            running += count
            result.append((bound, running))
        return result


class RuntimeCounters:
    """Running totals for one runtime; every factory and connection of it adds to these."""

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
        "events_publish_failed",
        "websocket_connections_opened",
        "websocket_connections_closed",
        "websocket_events_sent",
        "websocket_events_dropped",
        "websocket_clients_evicted_backlog",
        "websocket_clients_evicted_send_timeout",
        "websocket_closed_token_expired",
        "websocket_gaps_reported",
        "auth_refused",
        "cross_user_events_rejected",
        "runs_cancelled_by_client",
        "context_creation_seconds",
        "context_cleanup_seconds",
    )
    HISTOGRAMS = frozenset({"context_creation_seconds", "context_cleanup_seconds"})

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, Histogram() if name in self.HISTOGRAMS else 0)

    def snapshot(self) -> dict[str, int]:
        """Return the counter totals (not the histograms) as a plain dict."""
        return {name: getattr(self, name) for name in self.__slots__
                if name not in self.HISTOGRAMS}


def factory_metrics(
    counters: RuntimeCounters, *, active_contexts: int, configuration_status: str
) -> dict[str, Any]:
    """Build the dict get_factory_metrics() returns, with the guide's key names."""
    totals = counters.snapshot()
    creation, cleanup = counters.context_creation_seconds, counters.context_cleanup_seconds
    return {
        "configuration_status": configuration_status,
        "active_contexts": active_contexts,
        "total_contexts_created": totals["contexts_created"],
        "total_contexts_cleaned": totals["contexts_cleaned"],
        "total_instances_created": totals["instances_created"],
        "cleanup_errors": totals["cleanup_errors"],
        "open_sessions": totals["sessions_opened"] - totals["sessions_closed"],
        "context_creation_time_ms": _mean_ms(creation),
        "context_cleanup_time_ms": _mean_ms(cleanup),
        **totals,
    }


def _mean_ms(histogram: Histogram) -> float:
    return round(histogram.total / histogram.count * 1000, 4) if histogram.count else 0.0
