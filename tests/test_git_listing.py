"""In a git work tree the file list comes from git: exactly the files the walk finds."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from migrator.discovery import discover
from migrator.git_listing import listed_files, may_be_in_work_tree
from tests.conftest import git, write

TREE = {
    ".gitignore": "*.log\n/generated/\nsecret_*.py\n!secret_keep.py\ndocs/**/draft_*.md\ncache/\nhidden_env/pyvenv.cfg\n",
    "app/.gitignore": "local_*.py\n!local_settings.py\n",
    "app/a.py": "A = 1\n",
    "app/local_tmp.py": "X = 1\n",
    "app/local_settings.py": "X = 2\n",
    "app/sub/.gitignore": "*.md\n!README.md\n",
    "app/sub/README.md": "# sub\n",
    "app/sub/notes.md": "# notes\n",
    "app/sub/deep/b.py": "B = 1\n",
    "secret_one.py": "S = 1\n",
    "secret_keep.py": "S = 2\n",
    "generated/out.py": "G = 1\n",
    "pkg/generated/kept.py": "G = 2\n",
    "docs/guide.md": "# guide\n",
    "docs/plans/draft_one.md": "# draft\n",
    "cache/c.py": "C = 1\n",
    "node_modules/lib/index.py": "N = 1\n",
    "build/lib/x.py": "X = 1\n",
    "env/pyvenv.cfg": "home = /usr\n",
    "env/lib/site.py": "V = 1\n",
    # A virtualenv whose pyvenv.cfg an ignore rule hides from git: the walk still sees it.
    "hidden_env/pyvenv.cfg": "home = /usr\n",
    "hidden_env/lib/site.py": "V = 1\n",
    "old.py.backup": "O = 1\n",
    "notes.txt": "text\n",
    "with space/é file.py": "E = 1\n",
    "legacy/old.py": "L = 1\n",
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("MIGRATOR_NO_GIT", raising=False)
    root = tmp_path / "repo"
    write(root, TREE)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "add", "-f", "app/local_tmp.py")  # tracked although ignored
    git(root, "commit", "-qm", "start")
    write(root, {"app/untracked.py": "U = 1\n", "app/sub/deep/new.md": "# new\n", "generated/late.py": "L = 2\n"})
    os.symlink(root / "app" / "a.py", root / "app" / "link.py")
    (root / "app" / "a.py").with_name("gone.py").write_text("G = 0\n")
    git(root, "add", "app/gone.py")
    (root / "app" / "gone.py").unlink()  # tracked, deleted in the work tree
    return root


def _both(root: Path, monkeypatch, paths: list[Path], exclude: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    from_git = [f.relpath for f in discover(root, paths, (".",), exclude)]
    monkeypatch.setenv("MIGRATOR_NO_GIT", "1")
    walked = [f.relpath for f in discover(root, paths, (".",), exclude)]
    monkeypatch.delenv("MIGRATOR_NO_GIT")
    return from_git, walked


def test_git_listing_equals_the_walk_over_the_whole_tree(repo: Path, monkeypatch) -> None:
    assert listed_files(repo, [""]) is not None
    from_git, walked = _both(repo, monkeypatch, [repo])
    assert from_git == walked
    assert "app/local_settings.py" in walked and "app/local_tmp.py" not in walked
    assert "app/sub/README.md" in walked and "app/sub/notes.md" not in walked
    assert "with space/é file.py" in walked and "app/link.py" not in walked and "app/gone.py" not in walked
    assert not any(path.startswith(("env/", "hidden_env/")) for path in walked)


def test_git_listing_equals_the_walk_for_a_subfolder_and_excludes(repo: Path, monkeypatch) -> None:
    from_git, walked = _both(repo, monkeypatch, [repo / "app", repo / "env", repo / "legacy"], exclude=("legacy/", "**/deep/"))
    assert from_git == walked
    assert walked == ["app/a.py", "app/local_settings.py", "app/sub/README.md", "app/untracked.py"]


def test_outside_a_work_tree_there_is_no_listing(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "A = 1\n"})
    assert listed_files(tmp_path, [""]) is None


def test_an_unreadable_untracked_folder_stops_the_run() -> None:
    """As an unprivileged user (root reads every folder), git's warning becomes a usage error."""
    import pwd
    import subprocess
    import sys
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="migrator-locked-"))
    probe_path = base
    try:
        base.chmod(0o755)
        write(base, {"a.py": "A = 1\n", "locked/x.py": "X = 1\n"})
        git(base, "init", "-q")
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (base / "locked").chmod(0o700)
        # The unprivileged process imports the two stdlib-only modules it needs from a copy it can read.
        probe_path = Path(tempfile.mkdtemp(prefix="migrator-probe-"))
        probe_path.chmod(0o755)
        package = Path(__file__).resolve().parent.parent / "migrator"
        (probe_path / "migrator").mkdir(mode=0o755)
        for name in ("__init__.py", "exit_codes.py", "git_listing.py"):
            (probe_path / "migrator" / name).write_bytes((package / name).read_bytes())
            (probe_path / "migrator" / name).chmod(0o644)
        probe = "from pathlib import Path; from migrator.git_listing import listed_files; import sys; listed_files(Path(sys.argv[1]), [''])"
        user = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
        if user is None:
            (base / "locked").chmod(0)
        env = {**os.environ, "PYTHONPATH": str(probe_path), "HOME": str(base),
               "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"}
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        done = subprocess.run(
            [python, "-c", probe, str(base)],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            preexec_fn=(lambda: (os.setgid(user.pw_gid), os.setuid(user.pw_uid))) if user else None,
        )
        assert "UsageError: cannot read folder locked: permission denied" in done.stderr
    finally:
        (base / "locked").chmod(0o755)
        import shutil

        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(probe_path, ignore_errors=True)


def test_git_is_not_started_where_it_could_find_no_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("MIGRATOR_NO_GIT", raising=False)
    write(tmp_path / "plain", {"app/a.py": "A = 1\n"})
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a))
    assert not may_be_in_work_tree(tmp_path / "plain" / "app")
    assert listed_files(tmp_path / "plain", [""]) is None
    assert started == []
    # The walk still finds the files.
    assert [s.relpath for s in discover(tmp_path / "plain", [tmp_path / "plain"], (".",), ())] == ["app/a.py"]


def test_a_git_entry_above_or_git_dir_lets_git_answer(tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_DIR", raising=False)
    write(tmp_path / "top", {"sub/deep/a.py": "A = 1\n", ".git": "gitdir: /elsewhere\n"})  # a worktree's file
    assert may_be_in_work_tree(tmp_path / "top" / "sub" / "deep")
    write(tmp_path / "other", {"a.py": "A = 1\n"})
    assert not may_be_in_work_tree(tmp_path / "other")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "top" / ".git"))
    assert may_be_in_work_tree(tmp_path / "other")
