"""The JSON document, version 1 (DESIGN section 6)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import migrator
from migrator.results import RunResult

VERSION = 1


def document(result: RunResult, root: str = ".", extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": VERSION,
        "tool": {"name": "migrator", "version": migrator.__version__},
        "root": root,
        "findings": [finding.as_json() for finding in result.findings],
        "errors": [{"path": r.path, "message": r.message or ""} for r in result.errors],
        "summary": result.summary(),
    }
    if extra:
        doc.update(extra)
    return doc


def render_json(result: RunResult, extra: Mapping[str, Any] | None = None) -> str:
    return json.dumps(document(result, extra=extra), indent=2) + "\n"
