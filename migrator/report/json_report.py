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
    return indented(document(data, extra=extra)) + "\n"


# A finding at its depth in the document: one key per line, as `indent=2` writes it there.
_FINDING = json.JSONEncoder(separators=(",\n      ", ": "))
_SCALARS = frozenset({str, int, float, bool, type(None)})


def indented(doc: dict[str, Any]) -> str:
    """`json.dumps(doc, indent=2)`, byte for byte, with each finding written by the C encoder.

    `indent` makes `json` use its pure-Python encoder, which spent most of a report's time on
    the findings; a finding is a flat mapping, which the C encoder writes at its depth when
    its item separator holds the line break and indentation.
    """
    findings = doc.get("findings")
    if not findings:
        return json.dumps(doc, indent=2)
    marker = json.dumps("\0findings\0")
    shell = json.dumps({**doc, "findings": "\0findings\0"}, indent=2)
    if shell.count(marker) != 1:  # a message holding the marker itself
        return json.dumps(doc, indent=2)
    return shell.replace(marker, _findings_at_depth(findings), 1)


def _findings_at_depth(findings: list[Any]) -> str:
    # Exact types: a subclass (an enum member, say) takes the general path below.
    flat = all(type(item) is dict and item for item in findings)
    if flat and {type(value) for item in findings for value in item.values()} <= _SCALARS:
        # One call of the C encoder for them all. Between two findings it writes `},\n      {`,
        # which no JSON string holds (a string's line breaks are escaped): there each finding's
        # closing and opening braces go on lines of their own.
        listed = _FINDING.encode(findings)[2:-2].replace("},\n      {", "\n    },\n    {\n      ")
        return "[\n    {\n      " + listed + "\n    }\n  ]"
    return "[\n    " + ",\n    ".join(json.dumps(item, indent=2).replace("\n", "\n    ") for item in findings) + "\n  ]"
