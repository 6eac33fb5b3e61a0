"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning reads it as it is)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import migrator
from migrator.report.data import Replacement, ReportData
from migrator.rules import Rule

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/migrator-codemod/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "migratorFingerprint/v1"


def render_sarif(data: ReportData, rules: Sequence[Rule]) -> str:
    return json.dumps(document(data, rules), indent=2) + "\n"


def document(data: ReportData, rules: Sequence[Rule]) -> dict[str, Any]:
    rule_index = {rule.id: index for index, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "migrator",
                "version": migrator.__version__,
                "semanticVersion": migrator.__version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The root of the repository."}}},
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {"text": error.message or "failed"},
                        "locations": [{"physicalLocation": {"artifactLocation": _artifact(data, error.path)}}],
                    }
                    for error in data.errors
                ],
            }
        ],
        "results": [_result(data, index, rule_index) for index in range(len(data.findings))],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(rule: Rule) -> dict[str, Any]:
    fix = "Fixed by `migrator apply`." if rule.fixable else "Detect only: needs a person."
    markdown = (
        f"**What it finds**\n\n{rule.docs.what}\n\n**Why it is a problem**\n\n{rule.docs.why}\n\n"
        f"**Before**\n\n```python\n{rule.docs.before.rstrip()}\n```\n\n"
        f"**After**\n\n```python\n{rule.docs.after.rstrip()}\n```\n\n{fix}"
    )
    text = f"{rule.docs.why}\n\nBefore:\n{rule.docs.before}\n\nAfter:\n{rule.docs.after}\n\n{fix}"
    if rule.guidance:
        markdown += f"\n\n**How it is fixed**\n\n{rule.guidance}"
        text += f"\n\nHow it is fixed:\n{rule.guidance}"
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.docs.what},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": "warning" if rule.fixable else "error"},
        "properties": {"tags": ["migration", *sorted(rule.phases)], "fixable": rule.fixable},
    }


def _artifact(data: ReportData, relpath: str) -> dict[str, str]:
    return {"uri": data.path(relpath), "uriBaseId": SRCROOT}


def _result(data: ReportData, index: int, rule_index: dict[str, int]) -> dict[str, Any]:
    f = data.findings[index]
    text = f.message if f.reason is None else f"{f.message}. Manual review: {f.reason}"
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "level": "warning" if f.fixable else "error",
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(data, f.path),
                    "region": {
                        "startLine": f.line,
                        "startColumn": f.column,
                        "endLine": f.end_line,
                        "endColumn": f.end_column,
                    },
                }
            }
        ],
        "properties": {"phase": f.phase, "fixable": f.fixable, "safety": data.safety_of(index)},
    }
    if f.rule in rule_index:
        result["ruleIndex"] = rule_index[f.rule]
    fingerprint = data.fingerprint(index)
    if fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    edits = data.fixes.get(index)
    if edits:
        result["fixes"] = [_fix(data, f.path, edits, data.safety_of(index))]
    return result


def _fix(data: ReportData, relpath: str, edits: Sequence[Replacement], safety: str | None) -> dict[str, Any]:
    note = f" ({safety} fix)" if safety else ""
    return {
        "description": {"text": f"Rewrite as `migrator apply` does{note}."},
        "artifactChanges": [
            {
                "artifactLocation": _artifact(data, relpath),
                "replacements": [
                    {
                        "deletedRegion": {"startLine": e.start, "startColumn": 1, "endLine": e.end, "endColumn": 1},
                        "insertedContent": {"text": e.text},
                    }
                    for e in edits
                ],
            }
        ],
    }
