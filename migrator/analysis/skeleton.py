"""A module's skeleton: its text with the bodies of top-level functions and classes that mention
nothing worth a look replaced by `...`, every line break kept, so the stdlib parser builds a
fraction of the tree and every position in the rest stays where it was.

The analysis never enters such a statement (it binds its name and moves on), so for a scan the
skeleton's tree serves as well as the whole one; most of a large test module is such
statements. A rewrite leaves them as they were, so its check can compare the skeletons of the
text before and after (`restub` makes the second), where no changed name is in a stubbed body
(engine._skeleton_check). Where a statement starts is found by a small lexer that knows
strings, comments, brackets and line joins; `parse_skeleton` checks the parsed skeleton has
exactly the stubs it expects, and gives None otherwise, so the caller parses the whole text.
"""

from __future__ import annotations

import ast
import bisect
import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from migrator.analysis.positions import any_between, first_line, is_word_char

# Strings (triple-quoted or not; an unterminated one runs to the end of its line, or of the
# text when triple-quoted) and comments: where brackets and line starts do not count. A prefix
# (`rb"..."`) needs no matching: its letters hold no bracket. Each pattern starts with its
# quote, so the regex engine skips ahead to the next quote or `#`.
_SPANS = re.compile(
    r"""
        '''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*(?:'''|\Z)
      | \"\"\"[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*(?:\"\"\"|\Z)
      | '[^'\\\r\n]*(?:\\[\s\S][^'\\\r\n]*)*(?:'|(?=[\r\n])|\Z)
      | "[^"\\\r\n]*(?:\\[\s\S][^"\\\r\n]*)*(?:"|(?=[\r\n])|\Z)
      | \#[^\r\n]*
    """,
    re.VERBOSE,
)
# A line that may start a statement: not blank, not indented, not a comment (form feeds reset
# the column, as in Python's tokenizer; a line join at column 0 starts what it joins).
_LINE_START = re.compile(r"\f*[^\s#]")
# The same after a line break: a literal first character, which the regex engine finds fast,
# where `^` under MULTILINE tries every position.
_AFTER_BREAK = re.compile(r"\n\f*[^\s#]")
_HEADER = re.compile(r"(?:@|def\b|async\s+def\b|class\b)")
# An f-string whose replacement field holds a quote of its own kind or a line break (allowed
# since Python 3.12, PEP 701): the lexer would not see where it ends, so no skeleton is made.
# It is tried only where the lexer finds a string with an `f` in its prefix: anything before
# the first such string is lexed right, so a string it finds is a string.
_NESTED_FSTRING = re.compile(r"""[fF][rRbB]?(?P<q>['"])(?:(?!(?P=q))[^\r\n])*?\{[^}\r\n]*(?:(?P=q)|[\r\n])""")
_KEYWORD = re.compile(r"(?:def|async\s+def|class)\b")
# Below this size the whole parse is cheap enough.
MIN_BYTES = 2048


# First line, the `def`/`class` line, the header colon's line, last line, the colon's column.
Stub = tuple[int, int, int, int, int]


class Skeleton(NamedTuple):
    """A text's parsed skeleton and its stubs."""

    tree: ast.Module
    stubs: tuple[Stub, ...]


def skeleton(text: str, mention_lines: Sequence[int]) -> tuple[str, list[Stub]] | None:
    """The skeleton of `text`, and its stubs; None when no statement can be stubbed or the text
    may confuse the lexer."""
    code = _code_only(text)
    found_starts = _statement_starts(code) if code is not None else None
    if code is None or found_starts is None:
        return None
    line_at = _line_offsets(text)
    starts = _merge_decorators(text, line_at, found_starts)
    stubs: list[Stub] = []
    for index, start in enumerate(starts):
        offset = line_at[start - 1]
        if not _HEADER.match(code, offset):
            continue
        end_line = (starts[index + 1] - 1) if index + 1 < len(starts) else len(line_at) - 1
        if any_between(mention_lines, start, end_line):
            continue
        keyword_line = _keyword_line(code, line_at, start, end_line)
        if keyword_line is None:
            continue
        end = line_at[end_line] if end_line < len(line_at) else len(text)
        colon = _header_colon(code, line_at[keyword_line - 1], end)
        if colon is None or colon >= end:
            continue
        colon_line = bisect.bisect_right(line_at, colon)
        stubs.append((start, keyword_line, colon_line, end_line, colon - line_at[colon_line - 1]))
    if not stubs:
        return None
    return restub(text, stubs), stubs


def restub(text: str, stubs: Sequence[Stub]) -> str:
    """`text` with each of `stubs` (in order) made a stub: after its header's colon, ` ...` and
    the line breaks up to the statement's end."""
    line_at = _line_offsets(text)
    pieces: list[str] = []
    done = 0
    for _, _, colon_line, end_line, colon_column in stubs:
        colon = line_at[colon_line - 1] + colon_column
        end = line_at[end_line] if end_line < len(line_at) else len(text)
        pieces.append(text[done : colon + 1])
        pieces.append(" ...")
        pieces.append(_line_breaks(text, colon + 1, end))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def parse_skeleton(text: str, stubs: Sequence[Stub]) -> ast.Module | None:
    """The skeleton's tree, if it parses and holds each expected stub; else None."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[first_line(node)] = node
    for first, keyword_line, colon_line, _, _ in stubs:
        node = found.get(first)
        if node is None or node.lineno != keyword_line or len(node.body) != 1:
            return None
        only = node.body[0]
        if not (isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis):
            return None
        if node.end_lineno != colon_line:
            return None
    return tree


def stubbed_names(text: str, stubs: Sequence[Stub], names: set[str]) -> bool:
    """Whether one of `names` occurs as a whole word in what the stubs left out."""
    if not names:
        return False
    line_at = _line_offsets(text)
    # The stubbed spans, in order: from the line of each header's colon to the statement's end.
    starts = [line_at[stub[2] - 1] for stub in stubs]
    ends = [line_at[stub[3]] if stub[3] < len(line_at) else len(text) for stub in stubs]
    for name in names:
        at = text.find(name)
        while at != -1:
            end = at + len(name)
            whole = (at == 0 or not is_word_char(text[at - 1])) and (end == len(text) or not is_word_char(text[end]))
            place = bisect.bisect_right(starts, at) - 1
            if whole and place >= 0 and at < ends[place]:
                return True
            at = text.find(name, at + 1)
    return False


_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def _line_breaks(text: str, start: int, end: int) -> str:
    """The line breaks of `text[start:end]`, in order."""
    if "\r" not in text:
        return "\n" * text.count("\n", start, end)
    return "".join(_LINE_BREAKS.findall(text, start, end))


def _code_only(text: str) -> str | None:
    """`text` with every string and comment blanked to spaces, line breaks kept: the same length
    and lines, so offsets and line numbers carry over. None for text that ends lines with bare
    carriage returns (which `_LINE_START` does not see), or holds an f-string the lexer would
    end too early (`_NESTED_FSTRING`)."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None

    def blank(match: re.Match[str]) -> str:
        start = match.start()
        if text[start] != "#" and _after_f_prefix(text, start):
            if _NESTED_FSTRING.match(text, _prefix_start(text, start)):
                raise _Unreadable
        span = match.group()
        return _NOT_BREAK.sub(" ", span) if "\n" in span else " " * len(span)

    try:
        return _SPANS.sub(blank, text)
    except _Unreadable:
        return None


class _Unreadable(Exception):
    """An f-string the lexer would end too early."""


def _after_f_prefix(text: str, quote: int) -> bool:
    """Whether the string whose quote is at `quote` has an `f` in its prefix (`f`, `rf`, `fR`, ...)."""
    before = text[quote - 1] if quote > 0 else ""
    if before in ("f", "F"):
        return True
    return before in ("r", "R", "b", "B") and quote > 1 and text[quote - 2] in ("f", "F")


def _prefix_start(text: str, quote: int) -> int:
    """Where the `f` of the prefix before the quote at `quote` is."""
    return quote - 1 if text[quote - 1] in ("f", "F") else quote - 2


_NOT_BREAK = re.compile(r"[^\r\n]")


def _statement_starts(code: str) -> list[int] | None:
    """The lines (1-based) where top-level statements start in code-only text; None when the
    brackets do not balance."""
    starts: list[int] = []
    depth = 0
    position = 0
    line = 1  # the line at `position`
    for at in _line_starts(code):
        depth += _brackets(code, position, at)
        line += code.count("\n", position, at)
        position = at
        if depth < 0:
            return None
        joined = code.endswith("\\\n", 0, at) or code.endswith("\\\r\n", 0, at)
        if depth == 0 and not joined:
            starts.append(line)
    return starts


def _brackets(text: str, start: int, end: int) -> int:
    """Opening brackets less closing ones in `text[start:end]`."""
    if end <= start:
        return 0
    count = text.count
    return (
        count("(", start, end) + count("[", start, end) + count("{", start, end)
        - count(")", start, end) - count("]", start, end) - count("}", start, end)
    )


def _header_colon(code: str, start: int, end: int) -> int | None:
    """The offset of the colon that ends a `def`/`class` header starting at `start`: the first
    outside brackets (strings and comments are blanked in `code`)."""
    depth = 0
    for match in _HEADER_PUNCTUATION.finditer(code, start, end):
        char = match.group()
        if char == ":":
            if depth == 0:
                return match.start()
        elif char in "([{":
            depth += 1
        else:
            depth -= 1
    return None


_HEADER_PUNCTUATION = re.compile(r"[()\[\]{}:]")


def _merge_decorators(text: str, line_at: list[int], starts: list[int]) -> list[int]:
    """The starts, with a decorator's own line the start of the statement it decorates: the
    lines of the decorators below it and of the `def`/`class` are not starts of their own."""
    merged: list[int] = []
    decorating = False
    for start in starts:
        if decorating:
            decorating = text.startswith("@", line_at[start - 1])
            continue
        merged.append(start)
        decorating = text.startswith("@", line_at[start - 1])
    return merged


def _line_starts(code: str) -> Iterator[int]:
    """The offsets of the lines that may start a statement (see `_LINE_START`)."""
    if _LINE_START.match(code):
        yield 0
    for match in _AFTER_BREAK.finditer(code):
        yield match.start() + 1


def _keyword_line(text: str, line_at: list[int], start: int, end_line: int) -> int | None:
    """The line of the `def`/`class` keyword a statement starting at `start` has, after its decorators."""
    for number in range(start, end_line + 1):
        offset = line_at[number - 1]
        if _KEYWORD.match(text, offset):
            return number
    return None


@functools.lru_cache(maxsize=1)  # `skeleton` and then `stubbed_names` ask for the same text's
def _line_offsets(text: str) -> list[int]:
    """The offset where each line starts; one more entry than there are lines, the text's end."""
    # Bare carriage returns are ruled out before: every line ends with "\n".
    offsets = list(itertools.accumulate(map((1).__add__, map(len, text.split("\n"))), initial=0))
    offsets.pop()  # one past the end of the text
    if offsets[-1] != len(text):
        offsets.append(len(text))
    return offsets
