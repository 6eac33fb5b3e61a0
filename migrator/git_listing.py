"""The files git would show under a folder: tracked, plus untracked ones no ignore rule hides.

In a git work tree this is what the walk with `.gitignore` matching computes, got from git's
own index and ignore machinery (as pre-commit and Black do) instead of matching every path
against every pattern in Python: one subprocess instead of tens of thousands of matches.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from migrator.exit_codes import UsageError

if TYPE_CHECKING:
    import subprocess

_TIMEOUT_SECONDS = 120


def listed_files(root: Path, rels: Sequence[str]) -> list[str] | None:
    """Paths (relative to `root`, with `/`) of the files git shows under each of `rels`.

    None when git cannot answer (no git, not a work tree, `root` is git's own folder, or
    git failed), so the caller walks the folders itself.
    """
    listing = start_listing(root, rels)
    if listing is None:
        return None
    with listing:
        shown = listing.shown()
        ignored = listing.ignored() if shown is not None else None
    if shown is None or ignored is None:
        return None
    return sorted(set(shown) - ignored)


def start_listing(root: Path, rels: Sequence[str]) -> Listing | None:
    """git's two listings of the folders `rels`, started side by side; None when git cannot
    answer here (see `listed_files`)."""
    if os.environ.get("MIGRATOR_NO_GIT") or not may_be_in_work_tree(root):
        return None
    # Imported here: outside a work tree no process starts (about 6 ms of imports).
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return None
    specs = [f":(literal){rel}" if rel else "." for rel in rels]
    started = []
    try:
        # Each is a process that mostly waits on the file system.
        for chosen in (["--cached", "--others", "--exclude-standard"], ["--cached", "--ignored", "--exclude-standard"]):
            argv = [git, "-c", "core.quotePath=false", "ls-files", "-z", *chosen, "--", *specs]
            started.append((argv, subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    except OSError:
        Listing(started).close()
        return None
    return Listing(started)


class Listing:
    """The two listings `start_listing` started: the files git shows (tracked, and untracked
    ones no ignore rule hides), and the tracked files an ignore rule matches, which the walk
    (and ripgrep and Ruff) leave out. The first is ready well before the second on a large
    tree, so a caller can work on it while git matches every tracked path against the ignore
    rules. Closing it stops a listing not waited for."""

    def __init__(self, started: list[tuple[list[str], subprocess.Popen[bytes]]]) -> None:
        self._started = started

    def __enter__(self) -> Listing:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def shown(self) -> list[str] | None:
        """The files git shows, each once; None when git failed. An untracked folder git could
        not read stops the run, as it stops the walk."""
        done = self._finish(0)
        if done is None:
            return None
        unreadable = [line for line in done.stderr.decode(errors="replace").splitlines() if "could not open directory" in line]
        if unreadable:
            folder = unreadable[0].split("'")[1] if "'" in unreadable[0] else unreadable[0]
            raise UsageError(
                f"cannot read folder {folder.rstrip('/')}: permission denied; "
                "fix its permissions, or exclude it in [tool.migrator] exclude"
            )
        return list(dict.fromkeys(_paths(done.stdout)))

    def ignored(self) -> set[str] | None:
        """The tracked files an ignore rule matches; None when git failed."""
        done = self._finish(1)
        return None if done is None else set(_paths(done.stdout))

    def close(self) -> None:
        for _, process in self._started:
            if process.returncode is None:
                process.kill()
                process.communicate()

    def _finish(self, which: int) -> subprocess.CompletedProcess[bytes] | None:
        import subprocess

        argv, process = self._started[which]
        try:
            out, err = process.communicate(timeout=_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return None
        return subprocess.CompletedProcess(argv, process.returncode, out, err) if process.returncode == 0 else None


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


def _paths(output: bytes) -> list[str]:
    # Untracked nested repositories come as `folder/`; a file deleted but still tracked comes too
    # (the caller checks each file exists).
    return [p for p in os.fsdecode(output).split("\0") if p and not p.endswith("/")]
