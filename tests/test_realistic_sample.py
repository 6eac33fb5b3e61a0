"""Recall and precision on the half-migrated sample: `scan` reports exactly what EXPECTED.md lists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "realistic_sample"
_ROW = re.compile(r"^\|(.+)\|\s*$")


def _table(heading: str) -> list[list[str]]:
    """The body rows of the Markdown table under `## heading` in EXPECTED.md."""
    text = (SAMPLE / "EXPECTED.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        found = _ROW.match(line)
        if found and not set(line) <= set("|- "):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", found.group(1))]
            rows.append(cells)
    return rows[1:]  # the header


def expected_findings() -> set[tuple[str, str, int, bool, str | None]]:
    return {
        (rule, path, int(line), fixable == "yes", safety or None)
        for rule, path, line, fixable, safety, _ in _table("Findings")
    }


def decoy_lines() -> set[tuple[str, int]]:
    return {(path, int(line)) for path, line, *_ in _table("Decoys")}


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("realistic") / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".migrator"))
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "scan", ".", "--format", "json", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**_env(), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def _reported(scan: dict) -> set[tuple[str, str, int, bool, str | None]]:
    return {(f["rule"], f["path"], f["line"], f["fixable"], f["safety"]) for f in scan["findings"]}


def test_expected_tables_are_read() -> None:
    assert len(expected_findings()) == len(_table("Findings"))
    assert decoy_lines().isdisjoint({(path, line) for _, path, line, _, _ in expected_findings()})


def test_recall_every_expected_finding_is_reported(scan: dict) -> None:
    missing = expected_findings() - _reported(scan)
    assert not missing, sorted(missing)


def test_precision_nothing_else_is_reported(scan: dict) -> None:
    extra = _reported(scan) - expected_findings()
    assert not extra, sorted(extra)


def test_no_finding_on_a_decoy_line(scan: dict) -> None:
    hits = {(f["path"], f["line"]) for f in scan["findings"]} & decoy_lines()
    assert not hits, sorted(hits)


def test_manual_findings_say_what_to_do(scan: dict) -> None:
    for finding in scan["findings"]:
        if not finding["fixable"]:
            assert finding["reason"], finding


def test_backups_are_excluded_by_the_project_config(scan: dict) -> None:
    assert not [f for f in scan["findings"] if f["path"].startswith("backups/")]
