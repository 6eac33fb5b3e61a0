"""Before `rollback --force` overwrites files edited since their run, it keeps a copy of each."""

from __future__ import annotations

import shutil
from pathlib import Path

from migrator.journal import Journal, sha256

KEPT_FOLDER = Path(".migrator") / "kept"


def keep_changed_files(root: Path, run_id: str | None) -> tuple[str, Path, list[str]]:
    """Copy every file of the run that changed after it was applied to
    `.migrator/kept/<run id>/<path>`; return the run id, the folder and the paths kept."""
    run = Journal(root).load(run_id)
    folder = root / KEPT_FOLDER / run.run_id
    kept: list[str] = []
    if run.status == "rolled-back":
        return run.run_id, folder, kept  # rollback refuses it; nothing is overwritten
    for entry in run.entries:
        path = root / entry.path
        if not path.is_file():
            continue
        digest = sha256(path.read_bytes())
        if digest in (entry.before, entry.after):
            continue
        target = folder / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        kept.append(entry.path)
    return run.run_id, folder, kept
