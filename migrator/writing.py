"""The steps of apply and rollback that touch the disk: journal first, then atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import msgspec

from migrator.exit_codes import UsageError
from migrator.gitstate import dirty_files
from migrator.journal import Journal, sha256
from migrator.results import RunResult, Status
from migrator.writer import atomic_write, remove_temp_files


def write_changes(root: Path, result: RunResult, phases: list[str], allow_dirty: bool) -> tuple[RunResult, str | None]:
    """Write every changed file atomically, journaled; refuse over uncommitted changes."""
    changed = result.changed
    if not changed:
        return result, None
    if not allow_dirty:
        dirty = dirty_files(root, [r.path for r in changed])
        if dirty:
            listed = ", ".join(dirty[:10]) + (" ..." if len(dirty) > 10 else "")
            raise UsageError(
                f"refusing to rewrite {len(dirty)} file(s) with uncommitted changes: {listed}; "
                "commit or stash them first, or pass --allow-dirty"
            )
    final = {item.path: item for item in result.files}
    to_write = []
    for item in changed:
        assert item.original is not None and item.rewritten is not None
        path = root / item.path
        try:
            if path.read_bytes() != item.original:
                final[item.path] = msgspec.structs.replace(
                    item, status=Status.FAILED, message="changed on disk during the run; left as it is"
                )
                continue
            mode = os.stat(path)
            if is_read_only(mode):
                final[item.path] = msgspec.structs.replace(
                    item, status=Status.FAILED, message="read-only file (no write permission); left as it is"
                )
                continue
            to_write.append((item, mode.st_mode & 0o7777))
        except OSError as error:
            final[item.path] = msgspec.structs.replace(
                item, status=Status.FAILED, message=f"cannot read: {error.strerror or error}"
            )
    if not to_write:
        return RunResult(tuple(final.values())), None
    journal = Journal(root)
    try:
        run = journal.start(phases)
        journal.record(run, [(item.path, item.original, item.rewritten, mode) for item, mode in to_write])
    except OSError as error:
        raise UsageError(f"cannot write the journal in {journal.state}: {_reason(error)}; no file was rewritten") from None
    for item, _ in to_write:
        try:
            atomic_write(root / item.path, item.rewritten)
        except OSError as error:
            final[item.path] = msgspec.structs.replace(
                item, status=Status.FAILED, message=f"cannot write: {error.strerror or error}"
            )
    try:
        journal.finish(run, "applied")
    except OSError as error:
        raise UsageError(
            f"files were rewritten, but the journal in {run.folder} could not be closed: {_reason(error)}; "
            f"`migrator rollback {run.run_id}` still restores them"
        ) from None
    return RunResult(tuple(final.values())), run.run_id


def is_read_only(status: os.stat_result) -> bool:
    """Whether the mode bits deny this process a write, like git refusing; for root too, by the bits alone.

    A rewrite replaces the file by a rename, which the file's own bits do not stop, and root
    may write anything: only the bits say the file is meant to stay as it is.
    """
    mode = status.st_mode
    if not hasattr(os, "geteuid"):
        return not mode & stat.S_IWRITE
    euid = os.geteuid()
    if euid == 0:
        return not mode & 0o222
    if status.st_uid == euid:
        return not mode & stat.S_IWUSR
    if status.st_gid == os.getegid() or status.st_gid in os.getgroups():
        return not mode & stat.S_IWGRP
    return not mode & stat.S_IWOTH


def _reason(error: OSError) -> str:
    """An OSError in a few words, with the path it concerns."""
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


class RollbackReport(msgspec.Struct, frozen=True):
    run_id: str
    restored: list[str]
    refused: list[str]


def rollback(root: Path, run_id: str | None, force: bool) -> RollbackReport:
    """Restore the original bytes of a run; without `force`, refuse if any file changed since."""
    journal = Journal(root)
    run = journal.load(run_id)
    if run.status == "rolled-back":
        raise UsageError(f"run {run.run_id} was already rolled back")
    changed_since = []
    pending = []
    for entry in run.entries:
        path = root / entry.path
        current = path.read_bytes() if path.exists() else None
        if current is not None and sha256(current) == entry.before:
            continue  # never rewritten (an interrupted run) or already restored
        pending.append(entry)
        if current is None or sha256(current) != entry.after:
            changed_since.append(entry.path)
    if changed_since and not force:
        raise UsageError(
            f"refusing to roll back run {run.run_id}: {len(changed_since)} file(s) changed since it was applied: "
            f"{', '.join(changed_since[:10])}; pass --force to restore them anyway"
        )
    restored = []
    for entry in pending:
        atomic_write(root / entry.path, run.original_bytes(entry), mode=entry.mode)
        restored.append(entry.path)
    remove_temp_files(root / entry.path for entry in run.entries)
    journal.finish(run, "rolled-back")
    return RollbackReport(run.run_id, restored, changed_since)
