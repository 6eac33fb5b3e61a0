"""The JSON document, version 1 (DESIGN section 6)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import migrator
from migrator.report.data import ReportData

VERSION = 1


def document(data: ReportData, root: str = ".", extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": VERSION,
        "tool": {"name": "migrator", "version": migrator.__version__},
        "root": root,
        "findings": [_finding(data, index) for index in range(len(data.findings))],
        "errors": [{"path": e.path, "message": e.message or ""} for e in data.errors],
        "summary": dict(data.summary),
    }
    if extra:
        doc.update(extra)
    return doc


def _finding(data: ReportData, index: int) -> dict[str, Any]:
    item = data.findings[index].as_json()
    safety = data.safety_of(index)
    if safety is not None or "safety" in item:
        item.setdefault("safety", safety)
    fingerprint = data.fingerprint(index)
    if fingerprint is not None:
        item["fingerprint"] = fingerprint
    return item


def render_json(data: ReportData, extra: Mapping[str, Any] | None = None) -> str:
    return json.dumps(document(data, extra=extra), indent=2) + "\n"
