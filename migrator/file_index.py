"""The file index, `.migrator/index/<sweep key>.json`: what the last scan learnt of each file,
trusted without reading the file while its size, modification and change times and inode are
those recorded.

There is one index per sweep key (the tool, the config, the rules run and the needles), the
KEEP most recently written kept, as Ruff keeps a cache per settings: commands that run
different rules in one tree (`check --select ...`, `apply --rule ...`) each find their own.

Like git's index: a file written in the last seconds before a scan may change again within the
same timestamp, so such an entry is kept without its stat and the next scan reads the file.
What a file's entry holds: whether the sweep's screen wanted it, whether the first pass read
it (and its part of the facts), and whether the names the facts added were found in it. The
results of the analysed files are kept under the run key they were computed for, so a change of
the facts (a definition they came from) recomputes every result that depends on them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from migrator.writer import atomic_write, oldest_beyond, state_folder, unwritable_state

if TYPE_CHECKING:
    from migrator.analysis.facts_cache import FirstPass
    from migrator.cache import ResultCache
    from migrator.results import FileResult

INDEX_DIR = Path(".migrator") / "index"
FORMAT = 2
# How many indexes (sweep keys) are kept, the one just written among them.
KEEP = 4
# A file modified this close to the start of the scan that saw it is read again next time.
RACY_NS = 2_000_000_000

Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


class Entry(NamedTuple):
    """What a scan learnt of one file."""

    wanted: bool  # the sweep's screen wanted it: a candidate when its phase has rules
    first_pass: bool
    # Whether the names the facts added (under the index's screen key) occur in it; None when it
    # was never searched for them (a file outside the runs so far, or a candidate).
    added: bool | None = None


class _Stored(msgspec.Struct):
    """The index file. A file's part and result stay JSON text until a run asks for them: most
    runs carry them over unread."""

    format: int
    sweep: str
    stats: dict[str, Stat]
    entries: dict[str, Entry]
    parts: dict[str, msgspec.Raw]
    run: str | None
    screen: str | None
    results: dict[str, msgspec.Raw]


_STORED = msgspec.json.Decoder(_Stored)


class FileIndex(msgspec.Struct):
    """The entries of one sweep key (tool, config, rules, needles): a changed key starts afresh."""

    path: Path
    sweep_key: str
    stats: dict[str, Stat] = msgspec.field(default_factory=dict)
    entries: dict[str, Entry] = msgspec.field(default_factory=dict)
    # relpath -> its FirstPass as `encode_part` gives it (or None); in an index read from disk,
    # that data's JSON text, decoded by `part` when a run asks for it
    parts: dict[str, Any] = msgspec.field(default_factory=dict)
    run_key: str | None = None
    screen_key: str | None = None
    # relpath -> its FileResult as `encode_result` gives it; in an index read from disk, that
    # data's JSON text, decoded by `result`
    results: dict[str, Any] = msgspec.field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, sweep_key: str) -> FileIndex:
        """The index of `root` for this sweep key; empty when there is none, it is unreadable or
        it was written for another key or format."""
        path = root / INDEX_DIR / f"{sweep_key}.json"
        try:
            data = _STORED.decode(path.read_bytes())
        except (OSError, ValueError):  # msgspec's DecodeError is a ValueError
            return cls(path, sweep_key)
        if data.format != FORMAT or data.sweep != sweep_key:
            return cls(path, sweep_key)
        return cls(path, sweep_key, data.stats, data.entries, data.parts, data.run, data.screen, data.results)  # type: ignore[arg-type]

    def entry(self, relpath: str, now: Stat | None) -> Entry | None:
        """The file's entry when its stat is unchanged since it was recorded, else None."""
        if now is None or self.stats.get(relpath) != now:
            return None
        return self.entries.get(relpath)

    def part(self, relpath: str) -> FirstPass | None:
        """The file's part of the facts, in an index read from disk."""
        from migrator.analysis.facts_cache import decode_part

        text = self.parts.get(relpath)
        encoded = None if text is None else msgspec.json.decode(text)
        return None if encoded is None else decode_part(encoded)

    def result(self, relpath: str, cache: ResultCache) -> FileResult | None:
        """The file's result in an index read from disk, when it was computed under the cache's
        run key and what it asked of other modules still gets the same answers."""
        from migrator.cache import decode_result

        if cache.folder.name != self.run_key or relpath not in self.results:
            return None
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            result = decode_result(self.results[relpath])
            return result if cache.still_holds(result) else None
        return None

    def same_as(self, other: FileIndex) -> bool:
        """Whether writing this index would record nothing `other` (the one read) lacks."""
        return (
            (self.sweep_key, self.run_key, self.screen_key) == (other.sweep_key, other.run_key, other.screen_key)
            and self.entries == other.entries
            and self.stats == other.stats
            and self.results.keys() == other.results.keys()
        )

    def save(self, started_ns: int) -> None:
        """Write the index atomically. Stats of files modified within RACY_NS of `started_ns`
        (or later) are left out, so the next scan reads those files again.

        An index that cannot be written stops the run with a UsageError, like the result cache.
        """
        stats = {relpath: value for relpath, value in self.stats.items() if value[1] < started_ns - RACY_NS}
        data = _Stored(FORMAT, self.sweep_key, stats, self.entries, self.parts, self.run_key, self.screen_key, self.results)
        try:
            state_folder(self.path.parent)
            atomic_write(self.path, msgspec.json.encode(data), durable=False)
        except OSError as error:
            raise unwritable_state(f"the file index {self.path}", error) from None
        for entry in oldest_beyond(self.path.parent, self.path.name, KEEP, is_dir=False, suffix=".json"):
            with contextlib.suppress(OSError):  # another run may be removing it too
                os.unlink(entry.path)
