"""Writing reports and baselines to files: an existing file is replaced in one rename, so a
failed run never leaves half a baseline, and a path that cannot be written is a usage error."""

from __future__ import annotations

from pathlib import Path

from migrator.exit_codes import UsageError
from migrator.writer import atomic_write


def write_text(path: Path, text: str) -> None:
    try:
        if path.is_file():
            atomic_write(path, text.encode("utf-8"))
        else:
            path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None
