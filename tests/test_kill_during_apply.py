"""kill -9 during `apply`: every file is its original bytes or its complete new bytes, and `rollback` restores them all."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migrator.exit_codes import ExitCode
from tests.conftest import FACTORY

ROOT = Path(__file__).resolve().parent.parent
FILES = 150
# How long after the journal appears each run is killed: at once, then later into the writes.
KILL_AFTER = (0.0, 0.02, 0.2)


def _module(number: int) -> str:
    helpers = "".join(f"def helper_{number}_{n}(value):\n    return value * {n}\n\n\n" for n in range(5))
    return (
        f"from {FACTORY} import get_agent_instance_factory\n\n\n{helpers}"
        "def build(user_context):\n    return get_agent_instance_factory()\n"
    )


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kill") / "original"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.migrator]\n")
    for number in range(FILES):
        (root / "app" / f"module_{number:04d}.py").write_text(_module(number))
    return root


@pytest.fixture(scope="module")
def rewritten(originals, tmp_path_factory) -> dict[str, bytes]:
    """Each file's complete new bytes, from an apply that ran to the end on a copy."""
    copy = tmp_path_factory.mktemp("kill") / "complete"
    shutil.copytree(originals, copy)
    done = _migrator("apply", "--phase", "all", cwd=copy)
    assert done.wait(timeout=600) == ExitCode.CLEAN
    return _contents(copy)


def _migrator(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "migrator", *args, "--jobs", "1"], cwd=cwd, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _contents(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((root / "app").glob("*.py"))}


def _kill_once_the_journal_is_written(process: subprocess.Popen, root: Path, delay: float) -> bool:
    """SIGKILL the run `delay` seconds after its journal holds the originals; False if it finished first."""
    runs = root / ".migrator" / "runs"
    while process.poll() is None:
        if runs.is_dir() and any((run / "run.json").exists() for run in runs.iterdir()):
            if delay:
                time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait()
            return process.returncode == -signal.SIGKILL
        time.sleep(0.0005)
    return False


@pytest.mark.timeout(900)
@pytest.mark.parametrize("delay", KILL_AFTER)
def test_killed_apply_leaves_whole_files_and_rollback_restores_them(originals, rewritten, tmp_path, delay):
    root = tmp_path / "proj"
    shutil.copytree(originals, root)
    before = _contents(root)
    process = _migrator("apply", "--phase", "all", cwd=root)
    killed = _kill_once_the_journal_is_written(process, root, delay)

    after = _contents(root)
    assert after.keys() == before.keys()
    untouched = [name for name in after if after[name] == before[name]]
    complete = [name for name in after if after[name] == rewritten[name]]
    assert len(untouched) + len(complete) == FILES, "a file is neither its original nor its complete rewrite"
    print(f"delay {delay}s: killed={killed}, {len(complete)} rewritten, {len(untouched)} untouched")

    undo = subprocess.run(
        [sys.executable, "-m", "migrator", "rollback"], cwd=root, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=600,
    )
    assert undo.returncode == ExitCode.CLEAN, undo.stderr
    assert _contents(root) == before
    # The temp file of the write the kill cut short goes too.
    assert sorted(p.name for p in (root / "app").iterdir()) == sorted(before)
