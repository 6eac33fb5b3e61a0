"""Baselines: the findings a project tolerates for now, so that `check` fails only on new ones.

A finding's fingerprint is its rule, its path, the normalised text of the lines it spans and
its occurrence index among identical (rule, path, text) triples. Line numbers are left out, so
an edit elsewhere in the file moves a finding without making it new.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

import migrator
from migrator.exit_codes import UsageError
from migrator.results import Finding
from migrator.sourcefile import DecodeError, SourceText

KIND = "migrator-baseline"
VERSION = 1


def statement_text(lines: Sequence[str], finding: Finding) -> str:
    """The lines the finding spans, with every run of whitespace collapsed to one space."""
    spanned = lines[finding.line - 1 : finding.end_line]
    return " ".join(" ".join(spanned).split())


def fingerprints(root: Path, findings: Sequence[Finding]) -> list[str]:
    """One fingerprint per finding, in the order given; each file is read once."""
    texts: dict[str, list[str]] = {}
    seen: Counter[tuple[str, str, str]] = Counter()
    prints = []
    for finding in findings:
        if finding.statement is not None:
            text = finding.statement
        else:
            if finding.path not in texts:
                texts[finding.path] = _read_lines(root / finding.path)
            text = statement_text(texts[finding.path], finding)
        key = (finding.rule, finding.path, text)
        prints.append(_digest(*key, str(seen[key])))
        seen[key] += 1
    return prints


def _read_lines(path: Path) -> list[str]:
    try:
        return SourceText.decode(path.read_bytes()).text.splitlines()
    except (OSError, DecodeError):
        return []


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


class Entry(msgspec.Struct, frozen=True):
    """One tolerated finding. `fingerprint` is None for entries of a plain JSON report, which
    match by rule and path only."""

    rule: str
    path: str
    fingerprint: str | None
    line: int = 0
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "path": self.path, "fingerprint": self.fingerprint, "line": self.line, "message": self.message}


class Comparison(msgspec.Struct, frozen=True):
    """How a run's findings compare with a baseline."""

    new: tuple[Finding, ...]
    tolerated: tuple[Entry, ...]
    fixed: tuple[Entry, ...]
    out_of_scope: tuple[Entry, ...]


def entries_for(findings: Sequence[Finding], prints: Sequence[str]) -> list[Entry]:
    return [Entry(f.rule, f.path, fp, f.line, f.message) for f, fp in zip(findings, prints)]


def render(entries: Iterable[Entry]) -> str:
    """The baseline file's text: sorted, so that regenerating it gives a small diff."""
    ordered = sorted(entries, key=lambda e: (e.path, e.line, e.rule, e.fingerprint or ""))
    doc = {
        "kind": KIND,
        "version": VERSION,
        "tool": {"name": "migrator", "version": migrator.__version__},
        "findings": [entry.as_json() for entry in ordered],
    }
    return json.dumps(doc, indent=2) + "\n"


def load(path: Path) -> list[Entry]:
    """A baseline file, or a JSON report (`--format json`) used as one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {VERSION}")
        return [
            Entry(item["rule"], item["path"], item.get("fingerprint"), int(item.get("line", 0)), item.get("message", ""))
            for item in data["findings"]
        ]
    except FileNotFoundError:
        raise UsageError(f"baseline {path} does not exist; write one with: migrator baseline --output {path}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"baseline {path} is not a migrator baseline or JSON report: {error}") from None


def compare(entries: Sequence[Entry], findings: Sequence[Finding], prints: Sequence[str], scanned: set[str]) -> Comparison:
    """Match findings against entries; entries of files this run did not scan are out of scope."""
    by_print = Counter(e.fingerprint for e in entries if e.fingerprint is not None and e.path in scanned)
    by_place = Counter((e.rule, e.path) for e in entries if e.fingerprint is None and e.path in scanned)
    new = []
    matched_prints: Counter[str] = Counter()
    matched_places: Counter[tuple[str, str]] = Counter()
    for finding, fingerprint in zip(findings, prints):
        if by_print[fingerprint] > matched_prints[fingerprint]:
            matched_prints[fingerprint] += 1
        elif by_place[(finding.rule, finding.path)] > matched_places[(finding.rule, finding.path)]:
            matched_places[(finding.rule, finding.path)] += 1
        else:
            new.append(finding)
    tolerated, fixed, out_of_scope = [], [], []
    for entry in entries:
        if entry.path not in scanned:
            out_of_scope.append(entry)
        elif entry.fingerprint is not None and matched_prints[entry.fingerprint] > 0:
            matched_prints[entry.fingerprint] -= 1
            tolerated.append(entry)
        elif entry.fingerprint is None and matched_places[(entry.rule, entry.path)] > 0:
            matched_places[(entry.rule, entry.path)] -= 1
            tolerated.append(entry)
        else:
            fixed.append(entry)
    return Comparison(tuple(new), tuple(tolerated), tuple(fixed), tuple(out_of_scope))


def tightened(comparison: Comparison, findings: Sequence[Finding], prints: Sequence[str]) -> list[Entry]:
    """The baseline without its fixed entries: the tolerated findings as they are now, plus the
    entries of files this run did not scan. New findings are never added."""
    new = set(comparison.new)
    current = [Entry(f.rule, f.path, fp, f.line, f.message) for f, fp in zip(findings, prints) if f not in new]
    return current + list(comparison.out_of_scope)
