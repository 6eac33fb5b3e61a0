"""The journal under `.migrator/`: every apply run's original bytes, so rollback can restore them.

The originals of a run (one file, `originals.bin`) and its manifest are written and flushed
to disk before the first file is rewritten, so even an interrupted run can be rolled back.
Writing them once per run, not once per file, keeps a large apply linear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path

import msgspec

from migrator.exit_codes import UsageError
from migrator.writer import atomic_write

STATE_DIR = ".migrator"
ORIGINALS = "originals.bin"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class JournalEntry(msgspec.Struct, frozen=True):
    """One rewritten file: hashes before and after, its mode, and where its original bytes are."""

    path: str
    before: str
    after: str
    mode: int
    offset: int
    length: int


class Run(msgspec.Struct):
    """One apply run as recorded on disk."""

    folder: Path
    run_id: str
    created: str
    phases: list[str]
    status: str
    entries: list[JournalEntry]

    @property
    def manifest(self) -> Path:
        return self.folder / "run.json"

    def save(self) -> None:
        data = {
            "run_id": self.run_id,
            "created": self.created,
            "phases": self.phases,
            "status": self.status,
            "files": [msgspec.structs.asdict(entry) for entry in self.entries],
        }
        atomic_write(self.manifest, (json.dumps(data, indent=2) + "\n").encode())

    def original_bytes(self, entry: JournalEntry) -> bytes:
        with (self.folder / ORIGINALS).open("rb") as handle:
            handle.seek(entry.offset)
            data = handle.read(entry.length)
        if sha256(data) != entry.before:
            raise UsageError(f"journal {self.folder} is damaged: the original of {entry.path} does not match its hash")
        return data


class Journal:
    """The runs recorded under `<root>/.migrator/runs/`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / STATE_DIR
        self.runs = self.state / "runs"

    def start(self, phases: list[str]) -> Run:
        self.runs.mkdir(parents=True, exist_ok=True)
        ignore = self.state / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# migrator's journal and cache; never commit them\n*\n", encoding="utf-8")
        now = dt.datetime.now(dt.timezone.utc)
        run_id = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        folder = self.runs / run_id
        folder.mkdir(parents=True)
        return Run(folder, run_id, now.isoformat(timespec="seconds"), phases, "applying", [])

    def record(self, run: Run, files: list[tuple[str, bytes, bytes, int]]) -> None:
        """Keep the original bytes of every file the run will rewrite: (path, original, new, mode)."""
        offset = 0
        chunks = []
        for path, original, rewritten, mode in files:
            run.entries.append(JournalEntry(path, sha256(original), sha256(rewritten), mode, offset, len(original)))
            chunks.append(original)
            offset += len(original)
        atomic_write(run.folder / ORIGINALS, b"".join(chunks))
        run.save()

    def finish(self, run: Run, status: str) -> None:
        run.status = status
        run.save()

    def load(self, run_id: str | None) -> Run:
        """The named run, or the latest one not yet rolled back."""
        candidates = sorted(p.name for p in self.runs.iterdir()) if self.runs.is_dir() else []
        if run_id is not None:
            if run_id not in candidates:
                raise UsageError(f"no run {run_id!r} in {self.runs}; runs: {', '.join(candidates) or 'none'}")
            return self._read(self.runs / run_id)
        for name in reversed(candidates):
            run = self._read(self.runs / name)
            if run.status != "rolled-back" and run.entries:
                return run
        raise UsageError(f"nothing to roll back: no applied run in {self.runs}")

    def _read(self, folder: Path) -> Run:
        try:
            data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            entries = [JournalEntry(**item) for item in data["files"]]
            return Run(folder, data["run_id"], data["created"], data["phases"], data["status"], entries)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UsageError(f"journal {folder} is unreadable: {error}") from None
