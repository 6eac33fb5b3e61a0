"""Running the CLI where permission bits bind, even as root, and a project every user may reach."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FACTORY, write

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


@contextlib.contextmanager
def shared_project() -> Iterator[Path]:
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
