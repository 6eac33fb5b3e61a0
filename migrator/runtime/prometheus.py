"""The Prometheus view of a runtime (an extra: ``prometheus_client``).

Values are read from the runtime's own counters at scrape time, into a registry that
belongs to one app: nothing is registered in prometheus_client's process-wide default.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .config import Runtime
from .metrics import Histogram

PREFIX = "migrator_runtime_"

# Stable names (without prefix and without the _total suffix counters get) and their help.
COUNTERS = {
    "contexts_created": "User execution contexts created.",
    "contexts_cleaned": "User execution contexts cleaned up.",
    "contexts_finished": "Scopes ended, by outcome (succeeded, failed, cancelled, stale).",
    "context_cleanup_errors": "Errors while settling or closing a scope's session.",
    "agent_instances_created": "Agent instances created by factories.",
    "db_sessions_finished": "Request sessions ended, by result (committed, rolled_back).",
    "events_emitted": "Events handed to the event router.",
    "events_dropped": "Events emitted after their scope ended, never delivered.",
    "events_publish_failed": "Events the router could not publish; their runs failed.",
    "events_undeliverable": "Events that found no connection of their user in this process.",
    "websocket_events_sent": "Events written to websockets.",
    "websocket_events_dropped": "Events discarded for a websocket that was evicted.",
    "websocket_evictions": "Websockets closed for falling behind, by reason (backlog, send_timeout).",
    "websocket_token_expired_closes": "Websockets closed (1008) because their token expired.",
    "auth_refused": "Connections and requests refused by the verifier.",
    "cross_user_events_rejected": "Events or requests refused for naming another user.",
    "runs_cancelled_by_client": "Runs cancelled because their HTTP client went away.",
    "redis_reconnects": "Times the Redis subscription was lost and restored.",
    "redis_gaps": "Sequence gaps found by this process's Redis subscriber.",
    "redis_events_missing": "Events published but never received by this process.",
    "redis_publish_retries": "Publishes retried (Redis error, or nobody subscribed).",
    "redis_publish_failures": "Publishes given up after the publish timeout.",
}
GAUGES = {
    "contexts_active": "Scopes open now.",
    "db_sessions_open": "Request database sessions open now.",
    "websocket_connections": "Websockets connected to this process.",
    "websocket_users": "Users with at least one websocket on this process.",
    "websocket_connections_per_user_max": "Most websockets held by one user on this process.",
    "redis_up": "1 while this process's Redis subscription is up, else 0.",
}
HISTOGRAMS = {
    "context_creation_seconds": "Time to open a scope and build its context.",
    "context_cleanup_seconds": "Time to settle, close and forget a scope.",
}


def metric_names() -> set[str]:
    """Every series name the endpoint can expose (counters with _total, histograms with parts)."""
    names = {f"{PREFIX}{n}_total" for n in COUNTERS} | {PREFIX + n for n in GAUGES}
    for name in HISTOGRAMS:
        names |= {f"{PREFIX}{name}{part}" for part in ("_bucket", "_sum", "_count")}
    return names


class RuntimeCollector:
    """Reads one runtime (its counters, scopes, router and pool) when scraped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Any]:
        runtime = self.runtime
        c = runtime.tracker.counters
        router = runtime.router
        local = getattr(router, "local", router)
        redis_stats = {name: getattr(router, attr, 0) for name, attr in (
            ("redis_reconnects", "reconnects"), ("redis_gaps", "gaps"),
            ("redis_events_missing", "events_missing"),
            ("redis_publish_retries", "publish_retries"),
            ("redis_publish_failures", "publish_failures"))}
        simple = {
            "contexts_created": c.contexts_created,
            "contexts_cleaned": c.contexts_cleaned,
            "context_cleanup_errors": c.cleanup_errors,
            "agent_instances_created": c.instances_created,
            "events_emitted": c.events_emitted,
            "events_dropped": c.events_dropped,
            "events_publish_failed": c.events_publish_failed,
            "events_undeliverable": getattr(local, "undeliverable", 0),
            "websocket_events_sent": c.websocket_events_sent,
            "websocket_events_dropped": c.websocket_events_dropped,
            "websocket_token_expired_closes": c.websocket_closed_token_expired,
            "auth_refused": c.auth_refused,
            "cross_user_events_rejected": c.cross_user_events_rejected
            + getattr(router, "rejected", 0),
            "runs_cancelled_by_client": c.runs_cancelled_by_client,
            **redis_stats,
        }
        for name, value in simple.items():
            yield _counter(name, value)
        yield _counter("contexts_finished", None, "outcome", {
            "succeeded": c.contexts_succeeded, "failed": c.contexts_failed,
            "cancelled": c.contexts_cancelled, "stale": c.stale_contexts_cleaned})
        yield _counter("db_sessions_finished", None, "result", {
            "committed": c.sessions_committed, "rolled_back": c.sessions_rolled_back})
        yield _counter("websocket_evictions", None, "reason", {
            "backlog": c.websocket_clients_evicted_backlog,
            "send_timeout": c.websocket_clients_evicted_send_timeout})
        per_user = local.connections_per_user() if hasattr(local, "connections_per_user") \
            else []
        gauges = {
            "contexts_active": len(runtime.tracker),
            "db_sessions_open": c.sessions_opened - c.sessions_closed,
            "websocket_connections": router.connection_count(),
            "websocket_users": len(per_user),
            "websocket_connections_per_user_max": max(per_user, default=0),
            "redis_up": int(getattr(router, "subscribed", True)),
        }
        for name, value in gauges.items():
            gauge = GaugeMetricFamily(PREFIX + name, GAUGES[name])
            gauge.add_metric([], value)
            yield gauge
        for name in HISTOGRAMS:
            yield _histogram(name, getattr(c, name))


def _counter(name: str, value: int | None, label: str = "",
             by_label: dict[str, int] | None = None) -> CounterMetricFamily:
    family = CounterMetricFamily(PREFIX + name, COUNTERS[name],
                                 labels=[label] if label else None)
    if by_label is None:
        family.add_metric([], value)
    else:
        for key, count in by_label.items():
            family.add_metric([key], count)
    return family


def _histogram(name: str, histogram: Histogram) -> HistogramMetricFamily:
    family = HistogramMetricFamily(PREFIX + name, HISTOGRAMS[name])
    buckets = [("+Inf" if bound == float("inf") else repr(bound), count)
               for bound, count in histogram.cumulative()]
    family.add_metric([], buckets, histogram.total)
    return family


def metrics_registry(runtime: Runtime) -> CollectorRegistry:
    """Return a registry of its own holding the runtime's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    return registry


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    """Return the text exposition and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
