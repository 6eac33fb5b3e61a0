"""Renderers of a run's results: tables for people, JSON, SARIF and GitHub annotations for tools.

Each renderer's module is imported when first used, so a run pays only for its own format.
"""

from __future__ import annotations

import importlib
from typing import Any

_RENDERERS = {
    "render_github": "migrator.report.github",
    "render_json": "migrator.report.json_report",
    "render_sarif": "migrator.report.sarif",
}

__all__ = sorted(_RENDERERS)


def __getattr__(name: str) -> Any:
    if name not in _RENDERERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_RENDERERS[name]), name)
