"""What a machine-readable report shows: findings with their fingerprints, errors and totals.

A run's results and a merge of shard reports both become this, so each format has one renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from migrator.results import FileError, Finding, RunResult


class Replacement(msgspec.Struct, frozen=True):
    """One edit of a fix: lines `start`..`end` - 1 (1-based) of the original become `text`."""

    start: int
    end: int
    text: str


class ReportData(msgspec.Struct, frozen=True):
    findings: tuple[Finding, ...]
    errors: tuple[FileError, ...]
    summary: Mapping[str, Any]
    fingerprints: tuple[str | None, ...] = ()
    # Fix safety per finding when the findings came from a report; else read from the finding.
    safety: tuple[str | None, ...] = ()
    # The edits that fix each fixable finding, by finding index (SARIF `fixes`).
    fixes: Mapping[int, tuple[Replacement, ...]] = msgspec.field(default_factory=dict)
    # Prepended to every path: the project's folder inside the repository, with a trailing `/`.
    path_prefix: str = ""

    @classmethod
    def from_run(
        cls,
        result: RunResult,
        fingerprints: Sequence[str] = (),
        summary_extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> ReportData:
        summary = {**result.summary(), **(summary_extra or {})}
        return cls(tuple(result.findings), tuple(result.errors), summary, tuple(fingerprints), **options)

    def fingerprint(self, index: int) -> str | None:
        return self.fingerprints[index] if index < len(self.fingerprints) else None

    def safety_of(self, index: int) -> str | None:
        if index < len(self.safety):
            return self.safety[index]
        value = getattr(self.findings[index], "safety", None)
        return getattr(value, "value", value)

    def path(self, relpath: str) -> str:
        return self.path_prefix + relpath
