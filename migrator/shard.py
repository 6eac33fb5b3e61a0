"""`--shard K/N`: split a run's files between N CI jobs, deterministically.

A file's shard comes from a hash of its path alone, so adding or removing other files never
moves it to another shard, and every machine computes the same split.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import msgspec

from migrator.discovery import SourceFile
from migrator.exit_codes import UsageError

_SHAPE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class Shard(msgspec.Struct, frozen=True):
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = _SHAPE.match(text)
        if match is None:
            raise UsageError(f"--shard expects K/N (for example 2/4), got {text!r}")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard {text}: K must be between 1 and N, and N at least 1")
        return cls(index, count)

    def holds(self, relpath: str) -> bool:
        digest = hashlib.sha256(relpath.encode("utf-8", "surrogateescape")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def select(self, files: Sequence[tuple[SourceFile, str]]) -> tuple[tuple[SourceFile, str], ...]:
        """The (file, phase) pairs of this shard."""
        return tuple(pair for pair in files if self.holds(pair[0].relpath))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
