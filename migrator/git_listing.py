"""The files git would show under a folder: tracked, plus untracked ones no ignore rule hides.

In a git work tree this is what the walk with `.gitignore` matching computes, got from git's
own index and ignore machinery (as pre-commit and Black do) instead of matching every path
against every pattern in Python: one subprocess instead of tens of thousands of matches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from migrator.exit_codes import UsageError

_TIMEOUT_SECONDS = 120


def listed_files(root: Path, rels: Sequence[str]) -> list[str] | None:
    """Paths (relative to `root`, with `/`) of the files git shows under each of `rels`.

    None when git cannot answer (no git, not a work tree, `root` is git's own folder, or
    git failed), so the caller walks the folders itself.
    """
    git = shutil.which("git")
    if git is None or os.environ.get("MIGRATOR_NO_GIT") or not may_be_in_work_tree(root):
        return None
    specs = [f":(literal){rel}" if rel else "." for rel in rels]
    # Both listings at once: each is a process that mostly waits on the file system.
    shown, hidden = _ls_files_both(
        git, root, (["--cached", "--others", "--exclude-standard"], ["--cached", "--ignored", "--exclude-standard"]), specs
    )
    # Tracked files that an ignore rule matches are left out, as the walk (and ripgrep and Ruff) do.
    if shown is None or hidden is None:
        return None
    done, ignored = shown, set(_paths(hidden.stdout))
    unreadable = [line for line in done.stderr.decode(errors="replace").splitlines() if "could not open directory" in line]
    if unreadable:
        folder = unreadable[0].split("'")[1] if "'" in unreadable[0] else unreadable[0]
        raise UsageError(
            f"cannot read folder {folder.rstrip('/')}: permission denied; "
            "fix its permissions, or exclude it in [tool.migrator] exclude"
        )
    return sorted(set(_paths(done.stdout)) - ignored)


def may_be_in_work_tree(root: Path) -> bool:
    """Whether git could find a repository for `root`: a `.git` entry (folder, or the file of a
    worktree or submodule) in it or a folder above, or `GIT_DIR` naming one. Where neither is,
    git would search the same way, fail and say so; not starting it saves a process."""
    if os.environ.get("GIT_DIR"):
        return True
    folder = os.path.abspath(root)
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _ls_files_both(
    git: str, root: Path, options: tuple[list[str], list[str]], specs: list[str]
) -> tuple[subprocess.CompletedProcess[bytes] | None, subprocess.CompletedProcess[bytes] | None]:
    """`git ls-files` with each set of options, run side by side; None for one that failed."""
    started = []
    try:
        for chosen in options:
            argv = [git, "-c", "core.quotePath=false", "ls-files", "-z", *chosen, "--", *specs]
            started.append((argv, subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    except OSError:
        for _, process in started:
            process.kill()
            process.wait()
        return None, None
    done: list[subprocess.CompletedProcess[bytes] | None] = []
    for argv, process in started:
        try:
            out, err = process.communicate(timeout=_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            done.append(None)
            continue
        done.append(subprocess.CompletedProcess(argv, process.returncode, out, err) if process.returncode == 0 else None)
    return done[0], done[1]


def _paths(output: bytes) -> list[str]:
    # Untracked nested repositories come as `folder/`; a file deleted but still tracked comes too
    # (the caller checks each file exists).
    return [p for p in os.fsdecode(output).split("\0") if p and not p.endswith("/")]
