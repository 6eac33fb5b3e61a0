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
        if binding is None and canonical is None:
            canonical = _unbound_legacy_name(analyzer, node)
            if canonical is None:
                continue
        elif canonical is None or binding is None:
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


def _unbound_legacy_name(analyzer: _Analyzer, node: ast.AST) -> str | None:
    """A deprecated name used bare with nothing binding it anywhere in the module (no import in
    scope, a NameError today): the documented legacy name it can only mean."""
    if not isinstance(node, ast.Name) or node.id not in analyzer.index.symbols:
        return None
    if node.id in analyzer.defined_here or _bound_anywhere(analyzer, node.id):
        return None
    return analyzer.index.qualname_of(node.id)


def _bound_anywhere(analyzer: _Analyzer, name: str) -> bool:
    if analyzer.bound_everywhere is None:
        analyzer.bound_everywhere = _all_bound_names(analyzer)
    return name in analyzer.bound_everywhere


def _all_bound_names(analyzer: _Analyzer) -> frozenset[str]:
    """Every name the module binds anywhere: assignments, definitions, parameters, imports."""
    names: set[str] = set()
    for node in ast.walk(analyzer.tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
    return frozenset(names)


_PATCHERS = frozenset({"patch", "object"})


def patch_target(call: ast.Call, symbols: frozenset[str]) -> ast.Constant | None:
    """The string argument of `patch("pkg.mod.name")` or `patch.object(mod, "name")` when it
    names a deprecated symbol."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in _PATCHERS or (name == "object" and not (isinstance(func, ast.Attribute) and _is_patch(func.value))):
        return None
    position = 1 if name == "object" else 0
    target = call.args[position] if len(call.args) > position else None
    if isinstance(target, ast.Constant) and isinstance(target.value, str) and target.value.rpartition(".")[2] in symbols:
        return target
    return None


def _is_patch(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "patch") or (isinstance(node, ast.Name) and node.id == "patch")


def patch_references(analyzer: _Analyzer, columns: Columns) -> Iterable[Reference]:
    """Mock patch targets naming a deprecated symbol; the qualname is the dotted target patched
    (for `patch.object`, the module object's name as the imports say, when they say)."""
    for candidate in analyzer.patches:
        call = candidate.node
        assert isinstance(call, ast.Call)
        target = patch_target(call, analyzer.index.symbols)
        assert target is not None
        symbol = target.value.rpartition(".")[2]
        dotted = target.value
        if "." not in dotted and call.args:
            module, _ = analyzer.resolve(call.args[0], candidate.scope, call.lineno)
            dotted = f"{module}.{symbol}" if module else f"?.{symbol}"
        yield Reference(
            qualname=dotted,
            symbol=symbol,
            kind="patch",
            node=target,
            span=columns.span(target),
            anchor=columns.pos(target.lineno, target.col_offset),
            scope=candidate.scope,
            stmt_path=candidate.path,
            stmt_line=candidate.stmt.lineno,
            parent=call,
            stmt=candidate.stmt,
        )
