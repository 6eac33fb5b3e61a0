"""Asks git which files have uncommitted changes, so apply never overwrites unsaved work."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


def dirty_files(root: Path, relpaths: Sequence[str]) -> list[str] | None:
    """Those of `relpaths` with uncommitted changes (untracked included); None outside a git repo."""
    git = shutil.which("git")
    if git is None or not relpaths:
        return None if git is None else []
    inside = subprocess.run(
        [git, "rev-parse", "--is-inside-work-tree"], cwd=root, capture_output=True, text=True, check=False
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    status = subprocess.run(
        [git, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *relpaths],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if status.returncode != 0:
        return None
    prefix = subprocess.run(
        [git, "rev-parse", "--show-prefix"], cwd=root, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = []
    records = status.stdout.split(b"\0")
    skip_next = False
    for record in records:
        if skip_next:
            skip_next = False
            continue
        if len(record) < 4:
            continue
        code, path = record[:2].decode(), record[3:].decode("utf-8", "surrogateescape")
        if code[0] in "RC":
            skip_next = True
        dirty.append(path[len(prefix) :] if prefix and path.startswith(prefix) else path)
    return sorted(dirty)
