"""Source positions for the few kinds of node the rewriter locates: names and statements.

LibCST's PositionProvider records a range for every node; recording only names, statements
and suites keeps the same positions for those at a fraction of the cost.
"""

from __future__ import annotations

import libcst as cst
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


def positions(module: cst.Module) -> dict[cst.CSTNode, CodeRange]:
    """PositionProvider's ranges for the names, statements and suites of `module`.

    One code generation pass, without MetadataWrapper's extra walk over the tree.
    """
    recorder = _Recorder()
    state = _LeanCodegenState(
        default_indent=module.default_indent, default_newline=module.default_newline, provider=recorder  # type: ignore[arg-type]
    )
    module._codegen(state)
    return dict(recorder._computed)
