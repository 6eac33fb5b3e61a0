"""Source positions for the few kinds of node the rewriter locates: names and statements.

LibCST's PositionProvider records a range for every node of the module. The rewriter needs
exact ranges only inside the top-level statements its edits touch, and a line span for the
others; recording just that keeps the same positions at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Collection

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange
from libcst.metadata.position_provider import PositionProvidingCodegenState

_RECORDED = (cst.Name, cst.BaseStatement, cst.BaseSmallStatement, cst.BaseSuite)


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


def positions(module: cst.Module, lines: Collection[int] | None = None) -> dict[cst.CSTNode, CodeRange]:
    """PositionProvider's ranges for the names, statements and suites of `module`.

    With `lines`, exact ranges are computed only inside the top-level statements that span one
    of those lines; every other top-level statement gets the span of its lines, leading
    blank and comment lines included, which holds none of the given lines.
    """
    recorder = _Recorder()
    if lines is None:
        state = _LeanCodegenState(
            default_indent=module.default_indent, default_newline=module.default_newline, provider=recorder  # type: ignore[arg-type]
        )
        module._codegen(state)
        return dict(recorder._computed)
    line = 1 + _newlines(module, module.header)
    for statement in module.body:
        count = _newlines(module, [statement])
        if any(line <= wanted <= line + count for wanted in lines):
            state = _LeanCodegenState(
                default_indent=module.default_indent,
                default_newline=module.default_newline,
                provider=recorder,  # type: ignore[arg-type]
                line=line,
            )
            statement._codegen(state)
        else:
            recorder._computed[statement] = CodeRange(CodePosition(line, 0), CodePosition(line + count, 0))
        line += count
    return dict(recorder._computed)


def _newlines(module: cst.Module, nodes) -> int:
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    for node in nodes:
        node._codegen(state)
    text = "".join(state.tokens)
    return text.count("\n") + text.count("\r") - text.count("\r\n")
