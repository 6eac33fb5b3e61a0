"""References to deprecated names, built from what the analyzer's walk collected."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import TYPE_CHECKING

from migrator.analysis.model import Pos, Reference, Span
from migrator.analysis.positions import Columns, name_position

if TYPE_CHECKING:
    from migrator.analysis.visitor import _Analyzer


def use_references(analyzer: _Analyzer, columns: Columns) -> Iterable[Reference]:
    for candidate in analyzer.candidates:
        node = candidate.node
        qualname, binding = analyzer.resolve(node, candidate.scope, node.lineno)
        canonical = analyzer.index.canonical.get(qualname) if qualname else None
        if canonical is None or binding is None:
            continue
        parent = candidate.parent
        is_call = isinstance(parent, ast.Call) and parent.func is node
        target = parent if is_call else node
        if isinstance(node, ast.Attribute):
            anchor = columns.pos(node.end_lineno, node.end_col_offset)
            anchor = Pos(anchor.line, anchor.col - len(node.attr))
        else:
            anchor = columns.pos(node.lineno, node.col_offset)
        yield Reference(
            qualname=canonical,
            symbol=canonical.rpartition(".")[2],
            kind="call" if is_call else "reference",
            node=target,
            span=columns.span(target),
            anchor=anchor,
            scope=candidate.scope,
            stmt_path=candidate.path,
            stmt_line=candidate.stmt.lineno,
            binding=binding,
            parent=analyzer.call_parents.get(id(parent)) if is_call else candidate.parent,
            stmt=candidate.stmt,
        )


def import_references(analyzer: _Analyzer, columns: Columns) -> Iterable[Reference]:
    for node, alias, scope, path in analyzer.imports:  # noqa: B007
        qualname = analyzer.index.canonical[f"{analyzer.absolute_module(node)}.{alias.name}"]
        binding = next(
            b for b in scope.bindings[alias.asname or alias.name] if b.alias is alias
        )
        yield Reference(
            qualname=qualname,
            symbol=alias.name,
            kind="import",
            node=node,
            span=columns.span(alias),
            anchor=columns.pos(node.lineno, node.col_offset),
            scope=scope,
            stmt_path=path,
            stmt_line=node.lineno,
            binding=binding,
            stmt=node,
        )


def definition_references(analyzer: _Analyzer, columns: Columns) -> Iterable[Reference]:
    for node, scope, path in analyzer.definitions:
        binding = scope.bindings[node.name][-1]
        pos = name_position(node, analyzer.lines)
        yield Reference(
            qualname=binding.target or node.name,
            symbol=node.name,
            kind="definition",
            node=node,
            span=Span(pos, Pos(node.lineno, pos.col + len(node.name))),
            anchor=pos,
            scope=scope,
            stmt_path=path,
            stmt_line=node.lineno,
            binding=binding,
            stmt=node,
        )
