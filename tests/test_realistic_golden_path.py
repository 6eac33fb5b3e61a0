"""The golden path on the half-migrated sample, in a temporary copy.

Before: the tests that call the blocked getter fail. `apply` 2A, 2B and 2C rewrite what can
be rewritten; then the sample's own suite passes except the deliberate old-API tests that
EXPECTED.md lists, and `check` is left with exactly the findings EXPECTED.md marks manual.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.test_realistic_sample import SAMPLE, expected_findings

REPO = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Story:
    failing_before: frozenset[str]
    applies: dict[str, int]
    failing_after: frozenset[str]
    check_code: int
    left: frozenset[tuple[str, str, int]]
    second_apply: dict


def _run(root: Path, *args: str, pythonpath: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(pythonpath), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=180)


def _failing_tests(root: Path, report: Path) -> frozenset[str]:
    _run(root, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junit-xml={report}", pythonpath=root)
    failing = set()
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            module = case.get("classname", "")
            parts = module.split(".")
            # unittest methods carry their class as the last part of the classname.
            if parts and parts[-1][:1].isupper():
                parts = parts[:-1]
            failing.add(f"{'/'.join(parts)}.py::{case.get('name')}")
    return frozenset(failing)


def deliberate_failures() -> frozenset[str]:
    text = (SAMPLE / "EXPECTED.md").read_text(encoding="utf-8")
    section = text.split("## After `apply", 1)[1]
    return frozenset(re.findall(r"^- `([^`]+)`", section, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    root = tmp_path_factory.mktemp("realistic-golden") / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".migrator"))
    reports = root.parent
    failing_before = _failing_tests(root, reports / "before.xml")
    applies = {}
    # The engineer reviews the unsafe fixes (invented identities, a session that may be unset) and takes them.
    for phase in ("2A", "2B", "2C"):
        done = _run(root, "-m", "migrator", "apply", "--phase", phase, "--allow-dirty", "--unsafe-fixes", pythonpath=REPO)
        applies[phase] = done.returncode
    failing_after = _failing_tests(root, reports / "after.xml")
    check = _run(root, "-m", "migrator", "check", "--format", "json", pythonpath=REPO)
    left = frozenset((f["rule"], f["path"], f["line"]) for f in json.loads(check.stdout)["findings"])
    again = _run(
        root, "-m", "migrator", "apply", "--phase", "all", "--allow-dirty", "--unsafe-fixes", "--format", "json", pythonpath=REPO
    )
    return Story(failing_before, applies, failing_after, check.returncode, left, json.loads(again.stdout))


def test_the_getter_callers_fail_before_the_migration(story: Story) -> None:
    assert deliberate_failures() < story.failing_before
    assert any(test.startswith("tests/test_routes.py::") for test in story.failing_before)


def test_apply_leaves_only_manual_findings_in_phases_that_have_them(story: Story) -> None:
    assert story.applies == {"2A": 1, "2B": 1, "2C": 0}


def test_after_the_migration_only_the_deliberate_old_api_tests_fail(story: Story) -> None:
    assert story.failing_after == deliberate_failures()


def test_check_is_left_with_exactly_the_manual_findings(story: Story) -> None:
    manual = {(rule, path, line) for rule, path, line, fixable, _ in expected_findings() if not fixable}
    assert story.check_code == 1
    assert story.left == manual


def test_every_failing_test_is_a_finding_left_for_review(story: Story) -> None:
    left_files = {path for _, path, _ in story.left}
    assert all(test.partition("::")[0] in left_files for test in story.failing_after)


def test_a_second_apply_changes_nothing(story: Story) -> None:
    assert story.second_apply["changed_files"] == []
    assert story.second_apply["fixed"] == 0
