"""Atomic file writes: a temp file in the same folder, flushed, then renamed over the target."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

from migrator.exit_codes import UsageError

TEMP_SUFFIX = ".migrator-tmp"


def atomic_write(path: Path, data: bytes, mode: int | None = None, *, durable: bool = True) -> None:
    """Replace `path` with `data` in one rename; readers see the old or the new file, never half.

    The file keeps its mode bits (or takes `mode`), and its owner where the process may set it.
    `durable` waits for the data to reach the disk before the rename; a cache entry, which a
    crash may lose without harm, goes without.
    """
    import tempfile  # with random and weakref, 1.5 ms of start-up that a run writing nothing skips

    existing = None
    with contextlib.suppress(FileNotFoundError):
        existing = os.stat(path)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        elif existing is not None:
            os.chmod(temp_name, existing.st_mode & 0o7777)
        if existing is not None:
            with contextlib.suppress(OSError):
                os.chown(temp_name, existing.st_uid, existing.st_gid)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def remove_temp_files(paths: Iterable[Path]) -> None:
    """Remove the temp files killed writes left beside `paths` (a rename that never happened); one listing per folder."""
    by_folder: dict[Path, set[str]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, set()).add(path.name)
    for folder, names in by_folder.items():
        with contextlib.suppress(OSError), os.scandir(folder) as listing:
            for entry in listing:
                name = entry.name
                if name.startswith(".") and name.endswith(TEMP_SUFFIX) and name[1:].rpartition(".")[0].rpartition(".")[0] in names:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


STATE_FOLDER = ".migrator"


def oldest_beyond(base: Path, keep: str, count: int, is_dir: bool, suffix: str = "") -> list[os.DirEntry]:
    """The entries of `base` (folders, or files named `*suffix`) past the `count` most recently
    modified, `keep` counted and kept whatever its age: those a pruning removes, oldest first.
    A file another run is writing has the temporary name `atomic_write` gives it, and no suffix
    a caller asks for."""
    try:
        with os.scandir(base) as listing:
            found = [e for e in listing if e.name != keep and e.name.endswith(suffix) and _is(e, is_dir)]
    except OSError:
        return []
    found.sort(key=_mtime)
    return found[: max(0, len(found) - (count - 1))]


def _is(entry: os.DirEntry, is_dir: bool) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False) if is_dir else entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _mtime(entry: os.DirEntry) -> float:
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


def state_folder(folder: Path) -> None:
    """Create `folder`, a folder of migrator's own state under `.migrator/`, and mark
    `.migrator/` ignored by git (it holds caches and journals, safe to delete)."""
    folder.mkdir(parents=True, exist_ok=True)
    state = next((p for p in (folder, *folder.parents) if p.name == STATE_FOLDER), folder)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# migrator's own state: caches, the file index, journals; safe to delete\n*\n")


def unwritable_state(what: str, error: OSError) -> UsageError:
    """The error that stops a run whose state under `.migrator/` (`what`: the file index, the
    result cache) cannot be written; the user can fix the folder or run without it."""
    where = f" ({error.filename})" if error.filename else ""
    return UsageError(
        f"cannot write {what}: {error.strerror or error}{where}; fix its permissions, remove it, or pass --no-cache"
    )
