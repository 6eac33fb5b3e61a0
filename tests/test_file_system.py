"""The file system says no: a read-only file stays as it is, and an unwritable journal, cache or root stops the run with exit 2."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.exit_codes import ExitCode
from tests.conftest import FACTORY, snapshot, write

ROOT = Path(__file__).resolve().parent.parent
# Capabilities that let root ignore permission bits: DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER.
_FILE_CAPABILITIES = (1, 2, 3)
_PR_CAPBSET_DROP = 24


def _drop_file_capabilities() -> None:
    """In the child before exec: take away what lets root write through permission bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in _FILE_CAPABILITIES:
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _can_drop_capabilities() -> bool:
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_drop_file_capabilities, capture_output=True)
    return probe.returncode == 0


def run_unprivileged(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m migrator ARGS` in a subprocess bound by permission bits, even when the tests run as root.

    Root keeps its uid but loses the capabilities that override permissions, so the
    interpreter (installed under root's home) still runs while writes are refused for real.
    """
    options = {}
    if os.geteuid() == 0:
        if not _can_drop_capabilities():
            pytest.skip("running as root without CAP_SETPCAP: permission bits cannot be made to bind")
        options["preexec_fn"] = _drop_file_capabilities
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "migrator", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **options
    )


@pytest.fixture
def open_project() -> Iterator[Path]:
    """A project in a folder every user may reach (pytest's own temp folders are private to their owner)."""
    base = Path(tempfile.mkdtemp(prefix="migrator-fs-"))
    base.chmod(0o755)
    root = base / "proj"
    write(
        root,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/routes.py": f"""
                from {FACTORY} import get_agent_instance_factory


                def handle(user_context):
                    return get_agent_instance_factory()
            """,
            "app/other.py": f"""
                from {FACTORY} import get_agent_instance_factory


                def build(user_context):
                    return get_agent_instance_factory()
            """,
        },
    )
    yield root
    for top, dirs, _ in os.walk(base):
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o755)
    shutil.rmtree(base)


def assert_one_line_error(stderr: str, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    assert lines and lines[-1].startswith("migrator: error: "), stderr
    for word in words:
        assert word in lines[-1], stderr


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
