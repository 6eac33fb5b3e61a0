"""Positions: `ast`'s UTF-8 byte offsets turned into the character columns LibCST uses."""

from __future__ import annotations

import ast
import bisect
from collections.abc import Sequence

from migrator.analysis.model import Pos, Span


class Columns:
    """Turns `ast`'s UTF-8 byte offsets into character columns."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def col(self, line: int, byte_col: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def pos(self, line: int, byte_col: int) -> Pos:
        return Pos(line, self.col(line, byte_col))

    def span(self, node: ast.AST) -> Span:
        return Span(
            self.pos(node.lineno, node.col_offset),
            self.pos(node.end_lineno or node.lineno, node.end_col_offset or node.col_offset),
        )


def name_position(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lines: list[str]) -> Pos:
    """Where the name of a `def` or `class` statement stands."""
    line_text = lines[node.lineno - 1]
    keyword = "class" if isinstance(node, ast.ClassDef) else "def"
    return Pos(node.lineno, max(line_text.find(node.name, line_text.find(keyword)), 0))


def first_line(node: ast.stmt) -> int:
    """The line a statement's text starts on: its first decorator's, if it has any."""
    decorators = getattr(node, "decorator_list", None)
    return decorators[0].lineno if decorators else node.lineno


def any_between(ordered: Sequence[int], first: int, last: int) -> bool:
    """Whether the sorted `ordered` holds a number from `first` to `last`, both included."""
    at = bisect.bisect_left(ordered, first)
    return at < len(ordered) and ordered[at] <= last


def is_word_char(char: str) -> bool:
    """Whether `char` is one that `\\w` matches in a `str` pattern (an identifier's)."""
    return char.isalnum() or char == "_"
