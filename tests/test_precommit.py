"""The shipped pre-commit hooks, run by pre-commit itself (`try-repo`) in a temporary git repository.

pre-commit builds the hook's virtualenv from this checkout and installs its dependencies from
the package index, so these tests need the index (as `.ci/run` does).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FACTORY, git, write

ROOT = Path(__file__).resolve().parent.parent
LEGACY = f"""
    from {FACTORY} import get_agent_instance_factory


    async def handle(user_id, thread_id, run_id):
        return get_agent_instance_factory()
"""


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    """One hook environment for the module's tests: building it is the slow part."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, {
        "pyproject.toml": '[tool.migrator]\nexclude = ["vendor/"]\n\n[tool.migrator.imports]\n'
                          'UserExecutionContext = "migrator.runtime"\ncreate_agent_instance_factory = "migrator.runtime"\n',
        "app/clean.py": "VALUE = 1\n",
        "app/routes.py": LEGACY,
        "vendor/lib.py": LEGACY,
    })
    git(root, "init", "-q")
    git(root, "add", ".")
    return root


def try_repo(repo: Path, home: Path, hook: str, *files: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--verbose", "--files", *files],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900,
    )


@pytest.mark.timeout(1200)
def test_check_hook_fails_on_a_staged_legacy_file_and_passes_on_clean_ones(repo, pre_commit_home):
    failed = try_repo(repo, pre_commit_home, "migrator-check", "app/routes.py", "app/clean.py")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "app/routes.py:6:12: MIG001" in failed.stdout
    passed = try_repo(repo, pre_commit_home, "migrator-check", "app/clean.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    excluded = try_repo(repo, pre_commit_home, "migrator-check", "vendor/lib.py")
    assert excluded.returncode == 0, excluded.stdout + excluded.stderr


@pytest.mark.timeout(1200)
def test_apply_hook_rewrites_the_staged_file_and_stops_the_commit(repo, pre_commit_home):
    result = try_repo(repo, pre_commit_home, "migrator-apply", "app/routes.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "files were modified by this hook" in result.stdout
    rewritten = (repo / "app" / "routes.py").read_text()
    assert "create_agent_instance_factory(user_context)" in rewritten
    assert "from migrator.runtime import" in rewritten
    assert (repo / "vendor" / "lib.py").read_text() != rewritten
