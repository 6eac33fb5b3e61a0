"""Shared fixtures for the codemod tests: a project on disk and an in-process CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrator.cli import main

FACTORY = "netra_backend.app.agents.supervisor.agent_instance_factory"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `migrator ARGS...` in this process from a given folder; return code, stdout, stderr."""

    # Under GitHub Actions, `check` would pick the github format by itself.
    if os.environ.get("GITHUB_ACTIONS") == "true":
        monkeypatch.delenv("GITHUB_ACTIONS")

    def run(*args: str, cwd: Path) -> CliResult:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as stop:
            code = int(stop.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def write(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project with deprecated uses in every phase."""
    root = tmp_path / "proj"
    write(
        root,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/routes.py": f"""
                from {FACTORY} import get_agent_instance_factory


                async def handle(user_id, thread_id, run_id):
                    factory = get_agent_instance_factory()
                    return factory
            """,
            "app/clean.py": "VALUE = 1\n",
            "tests/test_routes.py": f"""
                from {FACTORY} import get_agent_instance_factory


                def test_factory():
                    assert get_agent_instance_factory() is not None
            """,
            "examples/usage.py": f"""
                from {FACTORY} import get_agent_instance_factory

                factory = get_agent_instance_factory()
            """,
        },
    )
    return root


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".migrator" not in p.parts and ".git" not in p.parts
    }
