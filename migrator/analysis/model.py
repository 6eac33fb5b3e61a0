"""What the analysis of one module yields: references to deprecated names, with positions."""

from __future__ import annotations

import ast
from typing import Any

import msgspec

from migrator.analysis.scopes import Binding, Scope


class Pos(msgspec.Struct, frozen=True, order=True):
    """A position: 1-based line, 0-based column in characters (LibCST's convention)."""

    line: int
    col: int


class Span(msgspec.Struct, frozen=True):
    start: Pos
    end: Pos


class StmtSlot(msgspec.Struct, frozen=True):
    """A statement's place: which block (by owner node and field) and which index in it."""

    block: tuple[int, str]
    index: int


class Reference(msgspec.Struct, eq=False):
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
    parent: ast.AST | None = None
    stmt: ast.stmt | None = None
    receiver: tuple | None = None

    @property
    def call(self) -> ast.Call | None:
        return self.node if isinstance(self.node, ast.Call) else None


class ModuleModel(msgspec.Struct):
    """The analysed module: its scopes, the references found, and facts rules ask about."""

    module_name: str
    tree: ast.Module
    module_scope: Scope
    references: list[Reference]
    lines: list[str]
    exported: frozenset[str]
    defined_functions: frozenset[str]
    blocks: dict[tuple[int, str], list[ast.stmt]] = msgspec.field(default_factory=dict)
    receivers: Any = None
    text: str = ""
    # Where the tree parsed from a skeleton (analysis/skeleton.py) lacks the bodies nothing
    # mentions; none for a whole tree.
    stubs: tuple[tuple[int, int, int, int, int], ...] = ()

    @property
    def skeletal(self) -> bool:
        """Whether the tree is a skeleton's (a skeleton has at least one stub)."""
        return bool(self.stubs)

    def segment(self, node: ast.AST) -> str:
        """The source text of a node, as written."""
        found = ast.get_source_segment(self.text, node)
        return found if found is not None else ast.unparse(node)

    def references_to(self, binding: Binding) -> list[Reference]:
        return [ref for ref in self.references if ref.binding is binding and ref.kind != "import"]

    def uses_of_receiver(self, key: tuple) -> list[Reference]:
        """The method calls made on one legacy object (a local, a self attribute, a call)."""
        return [ref for ref in self.references if ref.kind == "method" and ref.receiver == key]

    def block_of(self, ref: Reference) -> tuple[list[ast.stmt], int] | None:
        """The statements of the innermost block holding `ref`, and its statement's index."""
        if not ref.stmt_path:
            return None
        slot = ref.stmt_path[-1]
        return self.blocks[slot.block], slot.index
