"""The shipped Prometheus rules are well-formed and watch only series the runtime exposes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import migrator.runtime
from migrator.runtime.prometheus import PREFIX, metric_names

RULES = Path(migrator.runtime.__file__).parent / "prometheus-rules.yml"


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_is_an_alert_with_severity_and_summary() -> None:
    loaded = rules()
    assert len(loaded) >= 10
    names = [rule["alert"] for rule in loaded]
    assert len(names) == len(set(names))
    for rule in loaded:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_expressions_refer_only_to_exposed_series() -> None:
    exposed = metric_names()
    used = set()
    for rule in rules():
        used |= set(re.findall(rf"\b{PREFIX}[a-z_]+", rule["expr"]))
    assert used, "the rules watch nothing"
    assert used <= exposed, sorted(used - exposed)


def test_the_guides_concerns_are_all_watched() -> None:
    expressions = " ".join(rule["expr"] for rule in rules())
    for series in ("cross_user_events_rejected_total", "contexts_active",
                   "context_cleanup_errors_total", "redis_events_missing_total",
                   "redis_up", "websocket_evictions_total", "db_sessions_open",
                   "context_creation_seconds_bucket"):
        assert PREFIX + series in expressions, series
