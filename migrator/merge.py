"""`migrator merge-reports`: the JSON reports of several shards, combined into one run."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from migrator.exit_codes import UsageError
from migrator.results import Finding, report_order

_FINDING_FIELDS = ("path", "line", "column", "end_line", "end_column", "rule", "phase", "message", "fixable")


class Merged(msgspec.Struct, frozen=True):
    """Findings (with their fingerprints, when the reports carry them), errors and totals."""

    findings: tuple[Finding, ...]
    fingerprints: tuple[str | None, ...]
    safety: tuple[str | None, ...]
    errors: tuple[dict[str, str], ...]
    files_scanned: int
    root: str
    suppressed: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "files_scanned": self.files_scanned,
            "files_with_findings": len({f.path for f in self.findings}),
            "findings": len(self.findings),
            "by_phase": dict(sorted(Counter(f.phase for f in self.findings).items())),
            "by_rule": dict(sorted(Counter(f.rule for f in self.findings).items())),
            "suppressed": self.suppressed,
        }


def load_report(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot be read: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(f"{path}: not JSON: {error}") from None
    if not isinstance(doc, dict) or doc.get("version") != 1 or not isinstance(doc.get("findings"), list):
        raise UsageError(f"{path}: not a migrator JSON report (version 1); write one with --format json")
    return doc


def merge(paths: Sequence[Path]) -> Merged:
    """Combine reports of one project. A file reported by two of them (overlapping shards, or
    the same report twice) is an error: its findings would be counted twice."""
    if not paths:
        raise UsageError("merge-reports needs at least one report")
    findings: list[tuple[Finding, str | None, str | None]] = []
    errors: list[dict[str, str]] = []
    owner: dict[str, int] = {}
    roots = set()
    scanned = suppressed = 0
    for number, path in enumerate(paths):
        doc = load_report(path)
        roots.add(doc.get("root", "."))
        scanned += int(doc.get("summary", {}).get("files_scanned", 0))
        suppressed += int(doc.get("summary", {}).get("suppressed", 0))
        for item in doc["findings"]:
            finding = _finding(item, path)
            first = owner.setdefault(finding.path, number)
            if first != number:
                raise UsageError(
                    f"{finding.path} is reported by both {paths[first]} and {path}; "
                    "were the shards of different runs, or a report given twice?"
                )
            findings.append((finding, item.get("fingerprint"), item.get("safety")))
        errors.extend({"path": str(e.get("path", "")), "message": str(e.get("message", ""))} for e in doc.get("errors", []))
    if len(roots) > 1:
        raise UsageError(f"the reports come from different roots: {', '.join(sorted(roots))}")
    findings.sort(key=lambda item: report_order(item[0]))
    return Merged(
        findings=tuple(f for f, _, _ in findings),
        fingerprints=tuple(fp for _, fp, _ in findings),
        safety=tuple(s for _, _, s in findings),
        errors=tuple(errors),
        files_scanned=scanned,
        root=roots.pop() if roots else ".",
        suppressed=suppressed,
    )


def _finding(item: Any, source: Path) -> Finding:
    try:
        values = {name: item[name] for name in _FINDING_FIELDS}
        return Finding(**values, reason=item.get("reason"), safety=item.get("safety"))
    except (KeyError, TypeError) as error:
        raise UsageError(f"{source}: a finding lacks the field {error}") from None
