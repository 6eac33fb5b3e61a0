"""Source positions for the few kinds of node the rewriter locates: names and statements.

LibCST's PositionProvider records a range for every node of the module. The rewriter needs
exact ranges only inside the top-level statements its edits touch, and a line span for the
others; recording just that keeps the same positions at a fraction of the cost. The spans
themselves can come from the module's text, checked line by line, instead of a codegen, and
so can the rewritten module's text wherever a top-level statement was kept.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Collection, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

from migrator.analysis.positions import first_line
from migrator.transforms._kept_lines import keep_source_lines, may_lose_bytes

_RECORDED = (cst.Name, cst.BaseStatement, cst.BaseSmallStatement, cst.BaseSuite)
_NEWLINE = re.compile(r"\r\n|\r|\n")
# First characters of a line that cannot open a top-level statement.
_NOT_A_START = frozenset(("", " ", "\t", "\f", "#", "\r", "\n", "\\"))


class _Ranges(dict):
    """Ranges of recorded nodes; any other node's range is built when a parent asks for it."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[cst.CSTNode, tuple[int, int, int, int]] = {}

    def __missing__(self, node: cst.CSTNode) -> CodeRange:
        line, column, end_line, end_column = self.raw[node]
        return CodeRange(CodePosition(line, column), CodePosition(end_line, end_column))


class _LeanCodegenState(PositionProvidingCodegenState):
    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self._stack.pop()
        computed = self.provider._computed
        if node in computed:
            return
        if isinstance(node, _RECORDED):
            computed[node] = CodeRange(CodePosition(line, column), CodePosition(self.line, self.column))
        else:
            computed.raw[node] = (line, column, self.line, self.column)


class _Recorder:
    """Stands in for a metadata provider: the codegen state only writes to `_computed`."""

    def __init__(self) -> None:
        self._computed = _Ranges()


def positions(
    module: cst.Module, lines: Collection[int] | None = None, *, spans: Sequence[int] | None = None
) -> dict[cst.CSTNode, CodeRange]:
    """PositionProvider's ranges for the names, statements and suites of `module`.

    With `lines`, exact ranges are computed only inside the top-level statements that span one
    of those lines; every other top-level statement gets the span of its lines, leading
    blank and comment lines included, which holds none of the given lines. `spans` are the
    module's `statement_lines`, when the caller already has them.
    """
    recorder = _Recorder()
    if lines is None:
        state = _LeanCodegenState(
            default_indent=module.default_indent, default_newline=module.default_newline, provider=recorder  # type: ignore[arg-type]
        )
        module._codegen(state)
        return dict(recorder._computed)
    if spans is None:
        spans = statement_lines(module)
    for statement, line, end in zip(module.body, spans, spans[1:]):
        if any(line <= wanted <= end for wanted in lines):
            state = _LeanCodegenState(
                default_indent=module.default_indent,
                default_newline=module.default_newline,
                provider=recorder,  # type: ignore[arg-type]
                line=line,
            )
            statement._codegen(state)
        else:
            recorder._computed[statement] = CodeRange(CodePosition(line, 0), CodePosition(end, 0))
    return dict(recorder._computed)


def statement_lines(module: cst.Module) -> list[int]:
    """The first line of each top-level statement, leading blank and comment lines included, then the line past the last.

    Each statement's line count is that of its own codegen.
    """
    line = 1 + _newlines(module, module.header)
    found = [line]
    for statement in module.body:
        line += _newlines(module, [statement])
        found.append(line)
    return found


def line_starts(source: str) -> list[int]:
    """The offset in `source` at which each line starts (index 0 for line 1), the way `_newlines` counts lines."""
    return [0, *(match.end() for match in _NEWLINE.finditer(source))]


def statement_lines_from_text(module: cst.Module, source: str, tree: ast.Module | None = None) -> list[int] | None:
    """`statement_lines` read off `source`, the text `module` was parsed from; None where the text cannot vouch for them.

    The stdlib parser gives each statement's first line (its first decorator's, for a
    decorated one); less the blank and comment lines LibCST puts before the statement, that
    is where its codegen starts. Every line taken for a blank or comment line, or for a
    statement's start at column 0, is checked in the text. Between the lines returned, the
    text is what LibCST parsed, and LibCST's codegen gives it back byte for byte; where it
    does not (a BOM, a line continuation before the first statement, no final newline),
    the checks fail. `tree`, the stdlib parse of `source` when the caller has one, saves
    parsing it again.
    """
    if not module.has_trailing_newline or not module.body:
        return None
    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    starts = line_starts(source)
    text_lines = [source[start:end] for start, end in zip(starts, starts[1:])]
    firsts = _first_lines(module.body, tree.body)
    if firsts is None:
        return None
    if not all(_is_blank(text_lines[n]) for n in range(len(module.header))):
        return None
    found: list[int] = []
    previous = 0
    for statement, (first, decorated) in zip(module.body, firsts):
        line = first - len(statement.leading_lines)
        if line <= previous or first > len(text_lines) or (not found and line != len(module.header) + 1):
            return None
        opening = text_lines[first - 1][:1]
        if opening in _NOT_A_START or (decorated and opening != "@"):
            return None
        if not all(_is_blank(text_lines[n - 1]) for n in range(line, first)):
            return None
        found.append(line)
        # The statement runs at least to its first line; its end is the next one's start.
        previous = first
    end = len(text_lines) + 1 - len(module.footer)
    if end <= previous or starts[-1] != len(source):
        return None
    if not all(_is_blank(text_lines[n - 1]) for n in range(end, len(text_lines) + 1)):
        return None
    found.append(end)
    return found


def spliced_code(new_module: cst.Module, module: cst.Module, source: str, spans: Sequence[int]) -> str:
    """`new_module.code`, with each statement kept from `module` copied from `source` instead of generated.

    `spans` are the module's `statement_lines_from_text`. A top-level statement's codegen
    does not depend on its neighbours, and a kept one's is its lines of `source`, so the
    pieces join into the same text. Each run of generated statements keeps the source's
    bytes on the lines it shares with the statements it replaces (`keep_source_lines`).
    """
    starts = line_starts(source)
    starts.append(len(source))
    index = {id(stmt): n for n, stmt in enumerate(module.body)}
    kept = {id(stmt): (starts[line - 1], starts[end - 1]) for stmt, line, end in zip(module.body, spans, spans[1:])}
    pieces: list[str] = []
    run: list[cst.CSTNode] = list(new_module.header)
    previous = -1
    for stmt in new_module.body:
        where = kept.get(id(stmt))
        if where is None:
            run.append(stmt)
            continue
        at = index[id(stmt)]
        pieces.append(_generated_run(new_module, module, source, run, (previous, at), spans, starts))
        pieces.append(source[where[0] : where[1]])
        run, previous = [], at
    run.extend(new_module.footer)
    pieces.append(_generated_run(new_module, module, source, run, (previous, len(module.body)), spans, starts))
    text = "".join(pieces)
    return text or new_module.default_newline


def _generated_run(
    new_module: cst.Module,
    module: cst.Module,
    source: str,
    nodes: Sequence[cst.CSTNode],
    between: tuple[int, int],
    spans: Sequence[int],
    starts: Sequence[int],
) -> str:
    """The code of generated `nodes`, which stand where `module`'s statements strictly `between` two kept ones stood."""
    first, last = between
    originals: list[cst.CSTNode] = list(module.header) if first < 0 else []
    originals.extend(module.body[first + 1 : last])
    if last == len(module.body):
        originals.extend(module.footer)
    if not nodes and not originals:
        return ""
    begin = 0 if first < 0 else starts[spans[first + 1] - 1]
    end = len(source) if last == len(module.body) else starts[spans[last] - 1]
    generated = _code(new_module, nodes)
    if not may_lose_bytes(source[begin:end]):
        return generated
    return keep_source_lines(source[begin:end], _code(module, originals), generated)


def _code(module: cst.Module, nodes: Sequence[cst.CSTNode]) -> str:
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    for node in nodes:
        node._codegen(state)
    return "".join(state.tokens)


def _first_lines(body: Sequence[cst.BaseStatement], tree_body: Sequence[ast.stmt]) -> list[tuple[int, bool]] | None:
    """Each statement's first line by the stdlib parser, and whether it starts at a decorator.

    A line of LibCST holds as many stdlib statements as it has small statements.
    """
    firsts: list[tuple[int, bool]] = []
    index = 0
    for statement in body:
        if index >= len(tree_body):
            return None
        node = tree_body[index]
        # A function or class the rewrite parsed as its stand-in (`_stubs`) starts at `if 0:`.
        decorated = bool(getattr(node, "decorator_list", None)) and not isinstance(statement, cst.If)
        firsts.append((first_line(node), decorated))
        index += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
    if index != len(tree_body):
        return None
    return firsts


def _is_blank(line: str) -> bool:
    """A line with only spaces, tabs and form feeds, then a comment or nothing."""
    rest = line.lstrip(" \t\f")
    return not rest.strip("\r\n") or rest.startswith("#")


def _newlines(module: cst.Module, nodes) -> int:
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    for node in nodes:
        node._codegen(state)
    text = "".join(state.tokens)
    return text.count("\n") + text.count("\r") - text.count("\r\n")
