"""Where the project sits inside its repository, so CI annotations name repository paths."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from migrator.git_listing import may_be_in_work_tree


def path_prefix(root: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The project root's path relative to the repository root, with a trailing `/` ("" at the top).

    The repository is git's work tree when there is one, else GitHub's checkout folder
    (`GITHUB_WORKSPACE`); a root outside both gets no prefix.
    """
    top = _git_top(root)
    if top is None and environ.get("GITHUB_WORKSPACE"):
        top = Path(environ["GITHUB_WORKSPACE"]).resolve()
    if top is None:
        return ""
    try:
        relative = root.resolve().relative_to(top)
    except ValueError:
        return ""
    text = relative.as_posix()
    return "" if text == "." else text + "/"


def _git_top(root: Path) -> Path | None:
    git = shutil.which("git")
    if git is None or not may_be_in_work_tree(root):
        return None
    done = subprocess.run([git, "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return Path(done.stdout.strip()).resolve()
