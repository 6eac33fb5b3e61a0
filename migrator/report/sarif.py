"""SARIF 2.1.0, for code-scanning dashboards."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import migrator
from migrator.results import RunResult
from migrator.rules import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_sarif(result: RunResult, rules: Sequence[Rule]) -> str:
    rule_ids = [rule.id for rule in rules]
    results: list[dict[str, Any]] = []
    for f in result.findings:
        text = f.message if f.reason is None else f"{f.message}. Manual review: {f.reason}"
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_ids.index(f.rule) if f.rule in rule_ids else -1,
                "level": "warning" if f.fixable else "error",
                "message": {"text": text},
                "properties": {"phase": f.phase, "fixable": f.fixable},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": f.end_line,
                                "endColumn": f.end_column,
                            },
                        }
                    }
                ],
            }
        )
    notifications = [
        {"level": "error", "message": {"text": e.message or ""}, "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": e.path, "uriBaseId": "%SRCROOT%"}}}
        ]}
        for e in result.errors
    ]
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "migrator",
                        "version": migrator.__version__,
                        "rules": [
                            {
                                "id": rule.id,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                                "fullDescription": {"text": rule.docs.what},
                                "help": {"text": f"{rule.docs.why}\n\nBefore:\n{rule.docs.before}\n\nAfter:\n{rule.docs.after}"},
                                "properties": {"fixable": rule.fixable, "phases": sorted(rule.phases)},
                            }
                            for rule in rules
                        ],
                    }
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
