"""Typed results: findings, the outcome of each file, and a run's totals."""

from __future__ import annotations

import enum
import functools
import operator
from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec


class Finding(msgspec.Struct, frozen=True, array_like=True):
    """One deprecated use: where it is, which rule found it, and whether it can be fixed.

    Stored as an array of its fields, in order (the file index, the result cache)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    phase: str
    message: str
    fixable: bool
    reason: str | None = None
    # "safe" or "unsafe" for a fixable finding (unsafe fixes are written only when asked for), else None.
    safety: str | None = None
    # The normalised text of the lines it spans, as a scan read them (for its fingerprint), so
    # a report from cached results need not read the file again.
    statement: str | None = None

    @property
    def unsafe(self) -> bool:
        return self.fixable and self.safety == "unsafe"

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "phase": self.phase,
            "message": self.message,
            "fixable": self.fixable,
            "reason": self.reason,
            "safety": self.safety if self.fixable else None,
        }


def makes_a_fix(findings: Iterable[Finding], unsafe_fixes: bool) -> bool:
    """Whether a run that fixes writes a fix for any of the findings: an unsafe one only with
    `unsafe_fixes`."""
    return any(finding.fixable and (unsafe_fixes or not finding.unsafe) for finding in findings)


class Status(enum.Enum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    SKIPPED = "skipped"
    FAILED = "failed"


class FileResult(msgspec.Struct, frozen=True):
    """How one file ended: its findings and, for a rewrite, the bytes before and after."""

    path: str
    phase: str | None
    status: Status
    findings: tuple[Finding, ...] = ()
    message: str | None = None
    original: bytes | None = None
    rewritten: bytes | None = None
    diff: str | None = None
    problems: tuple[str, ...] = ()
    # Findings an inline `# migrator: ignore[...]` comment kept out of `findings`.
    suppressed: int = 0
    # What the plans asked of other modules, `(module, name, whether it binds it)`: a cached
    # result stands while the tree still gives these answers.
    depends: tuple[tuple[str, str, bool | None], ...] = ()


class FileError(msgspec.Struct, frozen=True):
    """A file, or a part of one, that could not be checked or rewritten."""

    path: str
    message: str


# The sort key of findings in a report: where they are, then what they say (every field but the
# statement, which the lines they span decide).
report_order = operator.attrgetter(*(name for name in Finding.__struct_fields__ if name != "statement"))


class RunResult(msgspec.Struct, frozen=True, dict=True):
    """Every file's result, in path order."""

    files: tuple[FileResult, ...]

    # Computed once: a report reads them several times over (the table or JSON, the summary,
    # the status line, the exit code), and a large tree's run holds thousands of findings.
    @functools.cached_property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(sorted((f for result in self.files for f in result.findings), key=report_order))

    @functools.cached_property
    def errors(self) -> tuple[FileError, ...]:
        found = []
        for result in self.files:
            if result.status is Status.FAILED:
                found.append(FileError(result.path, result.message or "failed"))
            found.extend(FileError(result.path, problem) for problem in result.problems)
        return tuple(found)

    @property
    def changed(self) -> list[FileResult]:
        return [r for r in self.files if r.status is Status.CHANGED]

    def summary(self) -> dict[str, object]:
        findings = self.findings
        return {
            "files_scanned": sum(1 for r in self.files if r.status is not Status.SKIPPED),
            "files_with_findings": sum(1 for r in self.files if r.findings),
            "findings": len(findings),
            "by_phase": dict(sorted(Counter(f.phase for f in findings).items())),
            "by_rule": dict(sorted(Counter(f.rule for f in findings).items())),
            "suppressed": self.suppressed,
        }

    @property
    def suppressed(self) -> int:
        """How many findings inline suppressions kept out of the report."""
        return sum(result.suppressed for result in self.files)


def files_by_count(findings: Sequence[Finding], limit: int) -> list[tuple[str, int]]:
    """The files with the most findings, most first, then by path."""
    counts = Counter(f.path for f in findings)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
