"""The file system says no: a read-only file stays as it is, and an unwritable journal, cache or root stops the run with exit 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.exit_codes import ExitCode
from tests.conftest import snapshot
from tests.unprivileged import assert_one_line_error, run_unprivileged, shared_project


@pytest.fixture
def open_project() -> Iterator[Path]:
    with shared_project() as root:
        yield root


def test_read_only_file_is_reported_and_left_while_others_are_written(cli, open_project):
    target = open_project / "app" / "routes.py"
    target.chmod(0o444)
    before = snapshot(open_project)
    result = cli("apply", "--phase", "2A", "--format", "json", cwd=open_project)
    assert result.code == ExitCode.FINDINGS
    doc = result.json()
    assert doc["changed_files"] == ["app/other.py"]
    assert {"path": "app/routes.py", "message": "read-only file (no write permission); left as it is"} in doc["errors"]
    after = snapshot(open_project)
    assert after["app/routes.py"] == before["app/routes.py"]
    assert after["app/other.py"] != before["app/other.py"]
    assert target.stat().st_mode & 0o777 == 0o444


def test_read_only_file_is_refused_for_a_process_bound_by_permissions(open_project):
    (open_project / "app" / "routes.py").chmod(0o444)
    before = snapshot(open_project)
    done = run_unprivileged("apply", "--phase", "2A", "--format", "json", cwd=open_project)
    assert done.returncode == ExitCode.FINDINGS, done.stderr
    assert "Traceback" not in done.stderr
    after = snapshot(open_project)
    assert after["app/routes.py"] == before["app/routes.py"]
    assert after["app/other.py"] != before["app/other.py"]


def test_unwritable_project_root_exits_2_and_writes_nothing(open_project):
    open_project.chmod(0o555)
    before = snapshot(open_project)
    done = run_unprivileged("apply", "--phase", "2A", cwd=open_project)
    assert done.returncode == ExitCode.USAGE
    assert_one_line_error(done.stderr, "journal", "Permission denied", "no file was rewritten")
    assert snapshot(open_project) == before


def test_unwritable_journal_folder_exits_2_and_writes_nothing(open_project):
    runs = open_project / ".migrator" / "runs"
    runs.mkdir(parents=True)
    runs.chmod(0o555)
    before = snapshot(open_project)
    done = run_unprivileged("apply", "--phase", "2A", cwd=open_project)
    assert done.returncode == ExitCode.USAGE
    assert_one_line_error(done.stderr, "journal", "Permission denied")
    assert snapshot(open_project) == before


def test_journal_path_taken_by_a_file_exits_2_and_writes_nothing(cli, open_project):
    (open_project / ".migrator").write_text("not a folder\n")
    before = snapshot(open_project)
    result = cli("apply", "--phase", "2A", cwd=open_project)
    assert result.code == ExitCode.USAGE
    assert_one_line_error(result.err, "journal", "no file was rewritten")
    assert snapshot(open_project) == before


def test_unwritable_cache_exits_2_and_names_the_way_out(open_project):
    state = open_project / ".migrator"
    state.mkdir()
    state.chmod(0o555)
    done = run_unprivileged("scan", "--format", "json", cwd=open_project)
    assert done.returncode == ExitCode.USAGE
    assert_one_line_error(done.stderr, "result cache", "Permission denied", "--no-cache")
    without = run_unprivileged("scan", "--format", "json", "--no-cache", cwd=open_project)
    assert without.returncode == ExitCode.CLEAN, without.stderr


def test_cache_path_taken_by_a_file_exits_2(cli, open_project):
    (open_project / ".migrator").write_text("not a folder\n")
    result = cli("scan", "--format", "json", cwd=open_project)
    assert result.code == ExitCode.USAGE
    assert_one_line_error(result.err, "result cache", "--no-cache")


def test_unreadable_journal_on_rollback_exits_2(cli, open_project):
    assert cli("apply", "--phase", "2A", cwd=open_project).code == ExitCode.CLEAN
    (open_project / ".migrator" / "runs").chmod(0o000)
    done = run_unprivileged("rollback", cwd=open_project)
    (open_project / ".migrator" / "runs").chmod(0o755)
    assert done.returncode == ExitCode.USAGE
    assert_one_line_error(done.stderr, "Permission denied")


def test_unwritable_output_file_exits_2(open_project):
    out = open_project / "report"
    out.mkdir()
    out.chmod(0o555)
    done = run_unprivileged("scan", "--no-cache", "--format", "json", "--output", "report/scan.json", cwd=open_project)
    assert done.returncode == ExitCode.USAGE
    assert_one_line_error(done.stderr, "Permission denied", "scan.json")
