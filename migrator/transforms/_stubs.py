"""The text LibCST parses for a rewrite: the module with the top-level functions and classes
the edits leave alone blanked out, every line where it was.

A rewrite generates only the top-level statements its edits touch and copies the others from
the source (`_positions.spliced_code`), so LibCST needs no tree for an untouched one, which is
most of a large module. Each such statement, from its first decorator's line to its body's
last line, becomes `if 0:` and one string literal spanning the other lines: a handful of nodes
where the header alone (parameters, annotations, decorators) would be dozens, and one token,
so no line of it can be read as a blank or comment line that LibCST would give to a
neighbour. The stand-in binds no name, is no docstring and no import, so the rewriter places
what it adds as it would around the statement itself. The statement after a stubbed one must
be left alone too; the rewriter checks that both came through the rewrite untouched
(`kept_whole`), or parses the whole text.

From a module's skeleton the stub runs to the last line before the next statement, so it may
also hold comment lines LibCST would have given to that statement; both are copied from the
source, which holds those lines between them either way.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Sequence

import libcst as cst

from migrator.analysis.positions import first_line
from migrator.analysis.skeleton import Stub
from migrator.transforms._kept_lines import may_lose_bytes, split_lines

_LONE_CR = re.compile(r"\r(?!\n)")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# A body shorter than this many lines is not worth a stub.
MIN_LINES = 4


def stubbed_text(
    source: str, tree: ast.Module, edited_lines: Collection[int], skeleton_stubs: Sequence[Stub] = ()
) -> tuple[str, list[int]] | None:
    """`source` with the untouched top-level functions and classes made stand-ins, and the
    indexes in `tree.body` of the statements stubbed; None when nothing is worth stubbing or
    the text is not plain enough.

    `tree` may be the module's skeleton (analysis/skeleton.py) with its `skeleton_stubs`: a
    statement the skeleton left without its body is blanked to the last line before the next
    statement."""
    if may_lose_bytes(source) or _LONE_CR.search(source):
        return None
    lines = split_lines(source)
    from_skeleton = {stub[0]: stub for stub in skeleton_stubs}
    body = tree.body
    firsts = [first_line(node) for node in body]
    ends = [*firsts[1:], len(lines) + 1]
    edited = sorted(edited_lines)

    def untouched(index: int) -> bool:
        return not any(firsts[index] <= line < ends[index] for line in edited)

    stubbed: list[int] = []
    pieces: list[str] = []
    copied = 0  # lines of `source` already in `pieces`
    for index, node in enumerate(body[:-1]):
        if not isinstance(node, _DEFINITIONS) or not untouched(index) or not untouched(index + 1):
            continue
        skeletal = from_skeleton.get(firsts[index])
        last = skeletal[3] if skeletal is not None else node.body[-1].end_lineno
        first = firsts[index]
        if last is None or last - first + 1 < MIN_LINES or last > len(lines):
            continue
        pieces.extend(lines[copied : first - 1])
        pieces.append(_stand_in(lines[first - 1], lines[last - 1], last - first))
        copied = last
        stubbed.append(index)
    if not stubbed:
        return None
    pieces.extend(lines[copied:])
    return "".join(pieces), stubbed


def _stand_in(first: str, last: str, breaks: int) -> str:
    """`if 0:` and a string literal, over as many lines as a statement from line `first` to line
    `last` with `breaks` line breaks between them, each end of line kept."""
    return "if 0:" + _line_end(first) + ' """' + "\n" * (breaks - 1) + '"""' + _line_end(last)


def _line_end(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :] or "\n"


def kept_whole(module: cst.Module, new_module: cst.Module, stubbed: Sequence[cst.CSTNode]) -> bool:
    """Whether every stubbed statement, and the statement after it, came through the rewrite as it
    was and in the same order, so that the rewritten text takes both from the source."""
    position = {id(stmt): n for n, stmt in enumerate(new_module.body)}
    following = {id(stmt): module.body[n + 1] for n, stmt in enumerate(module.body[:-1])}
    for stmt in stubbed:
        at = position.get(id(stmt))
        after = following.get(id(stmt))
        if at is None or after is None or position.get(id(after)) != at + 1:
            return False
    return True


def statements_at(module: cst.Module, indexes: Collection[int]) -> list[cst.CSTNode]:
    """The statements of `module` that hold the stdlib statements at `indexes` of its body
    (a line of LibCST holds as many stdlib statements as it has small statements)."""
    found: list[cst.CSTNode] = []
    index = 0
    for stmt in module.body:
        size = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        if any(index <= n < index + size for n in indexes):
            found.append(stmt)
        index += size
    return found
