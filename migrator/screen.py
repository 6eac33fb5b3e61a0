"""Which files are worth parsing: many byte strings searched in one pass over a file's bytes.

The search is an Aho–Corasick automaton (`ahocorasick-rs`, a Rust automaton): over a 500 MB
tree it finds 70 needles in the time plain `needle in raw` takes for 7, where one regex
alternating over them is ten times slower (`bench/needles.py` measures them).

Most files hold no needle, so each is first asked only whether it holds any: a leftmost-first
search, which the crate runs with its SIMD searcher (Teddy) on sets of up to 64 needles,
several times faster than the overlapping search. That one, which reports every needle, runs
only on the files where the first found something.

Some names matter only where they are called: an agent class is reported where it is built,
never where it is imported, annotated or checked with `isinstance`. For those the screen asks
for a call's shape after the name (or an import alias, under which the call may come), so the
thousands of files that only mention an agent class are not parsed at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ahocorasick_rs import MATCHKIND_LEFTMOST_FIRST, BytesAhoCorasick

# After a called name: spaces, line joins, closing brackets or comments, then `(`; or
# ` as ` (an import alias the call may use instead).
_CALLED_AFTER = re.compile(rb"(?:[ \t\f\r\n\\)]|#[^\r\n]*)*\(|[ \t\f\r\n\\]+as\b")


# The most needles the crate's SIMD searcher takes in one set; a larger set falls back to the
# automaton, as slow as the overlapping search.
_PACKED_NEEDLES = 64


class Needles:
    """A fixed set of byte strings, searched together."""

    __slots__ = ("_any", "_automaton", "needles")

    def __init__(self, needles: Iterable[bytes]) -> None:
        self.needles = tuple(dict.fromkeys(needle for needle in needles if needle))
        self._automaton = BytesAhoCorasick(list(self.needles)) if self.needles else None
        self._any = tuple(
            BytesAhoCorasick(list(self.needles[at : at + _PACKED_NEEDLES]), matchkind=MATCHKIND_LEFTMOST_FIRST)
            for at in range(0, len(self.needles), _PACKED_NEEDLES)
        )

    def any_in(self, raw: bytes) -> bool:
        """Whether one of the needles occurs in `raw`: where one occurs, a leftmost-first search
        reports a match, perhaps of another needle."""
        return any(automaton.find_matches_as_indexes(raw) for automaton in self._any)

    def __reduce__(self) -> tuple[type, tuple[tuple[bytes, ...]]]:
        # The automaton is rebuilt where it is unpickled (a worker process), not shipped.
        return (Needles, (self.needles,))

    def occurrences(self, raw: bytes) -> Iterator[tuple[bytes, int, int]]:
        """Every occurrence, overlapping ones included: `(needle, start, end)`."""
        if self._automaton is None or not self.any_in(raw):
            return
        for index, start, end in self._automaton.find_matches_as_indexes(raw, overlapping=True):
            yield self.needles[index], start, end

    def found(self, raw: bytes) -> set[bytes]:
        """The needles that occur in `raw`."""
        if self._automaton is None or not self.any_in(raw):
            return set()
        return {self.needles[index] for index, _, _ in self._automaton.find_matches_as_indexes(raw, overlapping=True)}


class Screen:
    """What a file must contain to be analysed: one of the `plain` needles anywhere, or one of
    the `called` names as a whole word in a call's shape."""

    __slots__ = ("_all", "_plain", "called", "plain")

    def __init__(self, plain: Iterable[bytes], called: Iterable[bytes] = ()) -> None:
        self.plain = frozenset(plain)
        self.called = frozenset(called) - self.plain
        self._plain = Needles(sorted(self.plain))
        self._all = Needles(sorted(self.plain | self.called)) if self.called else self._plain

    def __reduce__(self) -> tuple[type, tuple[tuple[bytes, ...], tuple[bytes, ...]]]:
        return (Screen, (tuple(sorted(self.plain)), tuple(sorted(self.called))))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Screen) and (self.plain, self.called) == (other.plain, other.called)

    def __hash__(self) -> int:
        return hash((self.plain, self.called))

    def wants(self, raw: bytes) -> bool:
        if not self.called:
            return bool(self._plain.found(raw))
        for needle, start, end in self._all.occurrences(raw):
            if needle in self.plain or called_at(raw, start, end):
                return True
        return False

    def beyond(self, other: Screen) -> Screen:
        """What this screen looks for that `other` does not: of a file `other` turned away,
        this one wants it exactly when the result wants it."""
        return Screen(self.plain - other.plain, self.called - other.plain - other.called)


def called_at(raw: bytes, start: int, end: int) -> bool:
    """Whether the word at `raw[start:end]` is a whole word followed by a call's shape."""
    if start > 0 and _word_byte(raw[start - 1]):
        return False
    return _CALLED_AFTER.match(raw, end) is not None


def _word_byte(byte: int) -> bool:
    # Bytes of non-ASCII characters count as word bytes: an identifier may contain them.
    return byte >= 0x80 or byte == 0x5F or 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A
