"""Renderers of a run's results: tables for people, JSON, SARIF and GitHub annotations for tools."""

from __future__ import annotations

from migrator.report.github import render_github
from migrator.report.json_report import render_json
from migrator.report.sarif import render_sarif

__all__ = ["render_github", "render_json", "render_sarif"]
