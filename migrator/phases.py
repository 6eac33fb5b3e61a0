"""Phases: named sets of paths, matched with gitignore-style patterns, first match wins."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

from migrator.exit_codes import UsageError

if TYPE_CHECKING:
    from migrator.discovery import SourceFile

PHASE_IDS = ("2A", "2B", "2C")
# The order in which phases claim a file: tests first, then examples and docs, then the rest.
MATCH_ORDER = ("2B", "2C", "2A")


class Phase(msgspec.Struct, frozen=True):
    """One phase: its id, its aliases and the path patterns that select its files."""

    id: str
    aliases: tuple[str, ...]
    patterns: tuple[str, ...]
    title: str


DEFAULT_PHASES = (
    Phase("2A", ("production",), ("*",), "production"),
    Phase(
        "2B",
        ("tests",),
        ("tests/", "test/", "**/tests/", "test_framework/", "test_*.py", "*_test.py", "conftest.py"),
        "tests",
    ),
    Phase("2C", ("examples", "docs"), ("examples/", "scripts/", "docs/", "*.md"), "examples and docs"),
)


def _matcher(patterns: Sequence[str], joined: str | None) -> Callable[[str], bool]:
    """Whether a normalised relative path matches the gitignore-style `patterns`, given what
    `_joined` makes of them.

    Phase patterns rarely negate. Without negations a path matches when any pattern does, so
    the patterns' regexes are joined into one (pathspec checks them one by one); with a
    negation, or regexes this cannot join, pathspec decides.
    """
    if joined is None:
        import pathspec

        return pathspec.GitIgnoreSpec.from_lines(patterns).match_file
    compiled = re.compile(joined)
    return lambda relpath: compiled.match(relpath) is not None


def _joined(patterns: Sequence[str]) -> str | None:
    """One regex matching what any of the patterns matches, or None when pathspec must decide
    (a negation, no pattern, or a regex that cannot be joined)."""
    known = _DEFAULT_JOINED.get(tuple(patterns))
    return known if known is not None else _joined_by_pathspec(patterns)


def _joined_by_pathspec(patterns: Sequence[str]) -> str | None:
    """`_joined`, each pattern translated by pathspec."""
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    parts = []
    for pattern in spec.patterns:
        regex = getattr(pattern, "regex", None)
        if pattern.include is None:
            continue  # a blank line or a comment
        if pattern.include is not True or regex is None or "(?P=" in regex.pattern:
            return None
        parts.append(_NAMED_GROUP.sub("(?:", regex.pattern))
    if not parts:
        return None
    joined = "|".join(f"(?:{part})" for part in parts)
    try:
        re.compile(joined)
    except re.error:
        return None
    return joined


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")

# The default phases' patterns as one regex each (a test holds each to pathspec's own matching),
# so that a project with the default phases, in a git work tree or without ignore files and
# excludes, runs without importing pathspec: about 10 ms a command. Each is the alternation of
# pathspec's regexes with their shared `^(?:.+/)?` (any folders) taken out, which the matcher
# then tries once per split of the path instead of once per pattern: three times as fast.
_DEFAULT_JOINED = {
    ("*",): "(?:.)",
    ("tests/", "test/", "**/tests/", "test_framework/", "test_*.py", "*_test.py", "conftest.py"): (
        r"^(?:.+/)?(?:tests/|test/|test_framework/|test_[^/]*\.py(?:/|$)|[^/]*_test\.py(?:/|$)|conftest\.py(?:/|$))"
    ),
    ("examples/", "scripts/", "docs/", "*.md"): r"^(?:.+/)?(?:examples/|scripts/|docs/|[^/]*\.md(?:/|$))",
}


class PhaseMap:
    """Assigns each relative path to the first phase whose patterns match it."""

    def __init__(self, phases: Sequence[Phase]) -> None:
        by_id = {phase.id: phase for phase in phases}
        ordered = [by_id[pid] for pid in MATCH_ORDER]
        joined = [_joined(phase.patterns) for phase in ordered]
        self._ordered = [(phase, _matcher(phase.patterns, regex)) for phase, regex in zip(ordered, joined)]
        self._phases = tuple(by_id[pid] for pid in PHASE_IDS)
        # When every phase's patterns join into one regex, one match of their alternation (tried
        # in MATCH_ORDER, the first that matches wins) decides a path, instead of one per phase.
        self._groups = {f"phase{number}": phase.id for number, phase in enumerate(ordered)}
        self._either: re.Pattern[str] | None = None
        if all(regex is not None for regex in joined):
            with contextlib.suppress(re.error):
                alternatives = (f"(?P<{group}>{regex})" for group, regex in zip(self._groups, joined))
                self._either = re.compile("|".join(alternatives))

    @property
    def phases(self) -> tuple[Phase, ...]:
        return self._phases

    def phase_of(self, relpath: str) -> str | None:
        """The id of the phase that claims `relpath` (posix, relative to the root), or None."""
        if self._either is not None:
            found = self._either.match(relpath)
            if found is None:
                return None
            # The phase's group encloses any other group of its alternative: it closed last.
            assert found.lastgroup is not None
            return self._groups[found.lastgroup]
        for phase, matches in self._ordered:
            if matches(relpath):
                return phase.id
        return None

    def assign(self, files: Iterable[SourceFile], wanted: frozenset[str]) -> list[tuple[SourceFile, str]]:
        """Pair each file with its phase, keeping those in the wanted phases."""
        paired = []
        for source in files:
            phase = self.phase_of(source.relpath)
            if phase is not None and phase in wanted:
                paired.append((source, phase))
        return paired

    def resolve(self, requested: Iterable[str]) -> frozenset[str]:
        """Turn `--phase` values (ids, aliases, `all`) into phase ids; unknown names are errors."""
        lookup: dict[str, str] = {}
        for phase in self._phases:
            lookup[phase.id.lower()] = phase.id
            for alias in phase.aliases:
                lookup[alias.lower()] = phase.id
        chosen: set[str] = set()
        for value in requested:
            key = value.strip().lower()
            if key == "all":
                chosen.update(PHASE_IDS)
            elif key in lookup:
                chosen.add(lookup[key])
            else:
                names = ", ".join(sorted({*PHASE_IDS, *(a for p in self._phases for a in p.aliases), "all"}))
                raise UsageError(f"unknown phase {value!r}; expected one of {names}")
        return frozenset(chosen)
