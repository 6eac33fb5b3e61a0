"""The golden path on the shipped sample, in a temporary copy.

The sample's isolation tests fail on real cross-user leaks; `scan` finds the documented
numbers; `apply` 2A, 2B and 2C make the tests pass; `check` is left with exactly the
documented manual findings; `rollback` restores every byte.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "netra_sample"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
PHASES = ("2A", "2B", "2C")
NOT_SOURCE = ("__pycache__", ".migrator", ".pytest_cache")
LOAD_TEST = "scripts/load_test_isolation.py"
PROGRAMS = ("examples/agent_instance_factory_usage.py", "examples/custom_agent.py", LOAD_TEST)


@dataclasses.dataclass(frozen=True)
class Command:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


@dataclasses.dataclass(frozen=True)
class SuiteRun:
    passed: tuple[str, ...]
    failed: dict[str, str]  # test id -> failure message
    errors: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Story:
    original: dict[str, bytes]
    tests_before: SuiteRun
    load_test_before: Command
    scan: dict
    applies: dict[str, Command]
    tests_after: SuiteRun
    programs_after: dict[str, Command]
    check: Command
    rollbacks: list[Command]
    restored: dict[str, bytes]


def migrator(root: Path, *args: str) -> Command:
    done = subprocess.run(
        [sys.executable, "-m", "migrator", *args], cwd=root, capture_output=True, text=True, timeout=120
    )
    return Command(done.returncode, done.stdout, done.stderr)


def sample_python(root: Path, *args: str) -> Command:
    """Run Python in the sample's folder, with the sample importable and nothing written beside it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    return Command(done.returncode, done.stdout, done.stderr)


def run_sample_tests(root: Path, report: Path) -> SuiteRun:
    """Run the sample's own suite in its folder, with only its own configuration."""
    sample_python(root, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junit-xml={report}")
    passed, failed, errors = [], {}, []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        failure = case.find("failure")
        if failure is not None:
            failed[test_id] = failure.get("message", "")
        elif case.find("error") is not None or case.find("skipped") is not None:
            errors.append(test_id)
        else:
            passed.append(test_id)
    return SuiteRun(tuple(passed), failed, tuple(errors))


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not any(part in NOT_SOURCE for part in path.relative_to(root).parts)
    }


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Story:
    """Run the whole migration once on a copy of the sample; the tests below read the record."""
    work = tmp_path_factory.mktemp("golden")
    root = work / "netra_sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    original = snapshot(root)
    tests_before = run_sample_tests(root, work / "before.xml")
    load_test_before = sample_python(root, LOAD_TEST)
    scan = migrator(root, "scan", "--format", "json").json()
    # The sample takes every fix, unsafe ones too: its invented test and example identities are reviewed.
    applies = {
        phase: migrator(root, "apply", "--phase", phase, "--allow-dirty", "--unsafe-fixes", "--format", "json")
        for phase in PHASES
    }
    tests_after = run_sample_tests(root, work / "after.xml")
    programs_after = {program: sample_python(root, program) for program in PROGRAMS}
    check = migrator(root, "check", "--format", "json")
    run_ids = [applies[phase].json()["run_id"] for phase in reversed(PHASES)]
    rollbacks = [migrator(root, "rollback", run_id) for run_id in run_ids if run_id]
    return Story(
        original, tests_before, load_test_before, scan, applies, tests_after, programs_after, check, rollbacks,
        snapshot(root),
    )


def test_isolation_tests_fail_before_the_migration_on_cross_user_leaks(story):
    before, expected = story.tests_before, EXPECTED["tests"]["before"]
    assert before.errors == ()
    assert sorted(before.failed) == sorted(expected["failed"])
    assert len(before.passed) == expected["passed"]
    for test_id, message in before.failed.items():
        assert expected["failure_message"] in message, (test_id, message)


def test_scan_counts_match_the_documented_numbers(story):
    summary, expected = story.scan["summary"], EXPECTED["scan"]
    assert story.scan["errors"] == []
    assert summary["files_scanned"] == expected["files_scanned"]
    assert summary["findings"] == expected["findings"]
    assert summary["by_phase"] == expected["by_phase"]
    assert summary["by_rule"] == expected["by_rule"]
    by_phase_and_rule: dict[str, dict[str, int]] = {}
    for finding in story.scan["findings"]:
        counts = by_phase_and_rule.setdefault(finding["phase"], {})
        counts[finding["rule"]] = counts.get(finding["rule"], 0) + 1
    assert by_phase_and_rule == expected["by_phase_and_rule"]


@pytest.mark.parametrize("phase", PHASES)
def test_each_phase_applies_with_the_documented_result(story, phase):
    applied, expected = story.applies[phase], EXPECTED["apply"][phase]
    assert applied.code == expected["exit_code"], applied.err
    report = applied.json()
    assert report["errors"] == []
    assert (len(report["changed_files"]), report["fixed"], report["manual"]) == (
        expected["changed_files"], expected["fixed"], expected["manual"],
    )


def test_isolation_tests_pass_after_the_migration(story):
    after = story.tests_after
    assert after.failed == {} and after.errors == ()
    assert len(after.passed) == EXPECTED["tests"]["after"]["passed"]


def test_load_test_counts_misrouted_events_before_and_none_after(story):
    assert story.load_test_before.code == 1, story.load_test_before.err
    assert " 0 misrouted" not in story.load_test_before.out
    after = story.programs_after[LOAD_TEST]
    assert (after.code, after.err) == (0, "")
    assert "20 users: 0 misrouted event(s), 0 answer(s) for the wrong user" in after.out


@pytest.mark.parametrize("program", PROGRAMS[:-1])
def test_migrated_examples_still_run(story, program):
    ran = story.programs_after[program]
    assert (ran.code, ran.err) == (0, "")


def test_check_leaves_exactly_the_documented_manual_findings(story):
    report = story.check.json()
    left = sorted((f["rule"], f["path"], f["line"], f["fixable"]) for f in report["findings"])
    documented = sorted((f["rule"], f["path"], f["line"], False) for f in EXPECTED["manual_review"])
    assert story.check.code == (1 if documented else 0)
    assert left == documented


def test_rollback_restores_every_byte(story):
    assert [rollback.code for rollback in story.rollbacks] == [0] * len(PHASES)
    assert story.restored.keys() == story.original.keys()
    changed = [path for path in story.original if story.restored[path] != story.original[path]]
    assert changed == []
