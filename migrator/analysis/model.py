"""What the analysis of one module yields: references to deprecated names, with positions."""

from __future__ import annotations

import ast
import dataclasses

from migrator.analysis.scopes import Binding, Scope


@dataclasses.dataclass(frozen=True, order=True)
class Pos:
    """A position: 1-based line, 0-based column in characters (LibCST's convention)."""

    line: int
    col: int


@dataclasses.dataclass(frozen=True)
class Span:
    start: Pos
    end: Pos


@dataclasses.dataclass(frozen=True)
class StmtSlot:
    """A statement's place: which block (by owner node and field) and which index in it."""

    block: tuple[int, str]
    index: int


@dataclasses.dataclass(eq=False)
class Reference:
    """One use of a deprecated name.

    kind is `call` (the name is called), `reference` (used without a call), `import`
    (an import of the name) or `definition` (the deprecated function itself).
    `anchor` is the position of the name's own token, which the rewriter uses to find the node.
    """

    qualname: str
    symbol: str
    kind: str
    node: ast.AST
    span: Span
    anchor: Pos
    scope: Scope
    stmt_path: tuple[StmtSlot, ...]
    stmt_line: int
    binding: Binding | None = None

    @property
    def call(self) -> ast.Call | None:
        return self.node if isinstance(self.node, ast.Call) else None


@dataclasses.dataclass
class ModuleModel:
    """The analysed module: its scopes, the references found, and facts rules ask about."""

    module_name: str
    tree: ast.Module
    module_scope: Scope
    references: list[Reference]
    lines: list[str]
    exported: frozenset[str]
    defined_functions: frozenset[str]

    def references_to(self, binding: Binding) -> list[Reference]:
        return [ref for ref in self.references if ref.binding is binding and ref.kind != "import"]
