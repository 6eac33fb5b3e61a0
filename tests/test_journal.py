"""The journal: written before any file changes, enough to undo an interrupted run."""

from __future__ import annotations

import pytest

from migrator import writing
from migrator.exit_codes import ExitCode, UsageError
from migrator.journal import Journal
from tests.conftest import snapshot


def test_interrupted_apply_rolls_back(cli, project, monkeypatch):
    before = snapshot(project)
    real = writing.atomic_write
    calls = []

    def fail_second(path, data, mode=None):
        calls.append(path)
        if len(calls) == 2:
            raise RuntimeError("the process dies here")
        return real(path, data, mode)

    monkeypatch.setattr(writing, "atomic_write", fail_second)
    with pytest.raises(RuntimeError, match="dies here"):
        cli("apply", "--phase", "all", "--unsafe-fixes", cwd=project)
    monkeypatch.setattr(writing, "atomic_write", real)
    assert snapshot(project) != before
    run = Journal(project).load(None)
    assert run.status == "applying" and len(run.entries) == 3
    assert cli("rollback", cwd=project).code == ExitCode.CLEAN
    assert snapshot(project) == before


def test_damaged_journal_is_refused(cli, project):
    cli("apply", "--phase", "2A", cwd=project)
    run = Journal(project).load(None)
    originals = run.folder / "originals.bin"
    originals.write_bytes(b"x" + originals.read_bytes()[1:])
    with pytest.raises(UsageError, match="damaged"):
        writing.rollback(project, None, force=False)
