"""Uses of an imported name that no reference walk sees, and imports that must stay whole.

A name can be used only inside a string: a string annotation (`registry: 'AgentRegistry'`),
the type of a `cast("AgentRegistry", x)`, an entry of `__all__`. And an import in the `try:`
of a `try/except ImportError` has a fallback beside it: removing it alone leaves the normal
path without the name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

_TRY_STATEMENTS = (ast.Try, getattr(ast, "TryStar", ast.Try))
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def named_in_strings(name: str, tree: ast.Module, text: str) -> bool:
    """Whether a string annotation, a `cast()` type or an `__all__` entry of the module uses `name`.

    Most modules never quote the name at all; the text says so before any walk of the tree.
    """
    if not re.search(rf"[\"'][^\"'\n]*\b{re.escape(name)}\b", text):
        return False
    if name in _exported(tree):
        return True
    return any(name in _names_in_expression(value) for value in _typing_strings(tree))


def guarded_imports(tree: ast.Module) -> frozenset[int]:
    """Ids of the import statements in the `try:` body of a `try/except ImportError`."""
    guarded: set[int] = set()
    for node in _statements(tree.body):
        if isinstance(node, _TRY_STATEMENTS) and any(_catches_import_error(h) for h in node.handlers):
            guarded.update(id(stmt) for stmt in node.body if isinstance(stmt, (ast.Import, ast.ImportFrom)))
    return frozenset(guarded)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, at any depth, without walking into expressions."""
    stack = list(body)
    while stack:
        stmt = stack.pop()
        yield stmt
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                stack.extend(inner)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_last_name(kind) in _IMPORT_ERRORS for kind in kinds)


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _typing_strings(tree: ast.Module) -> Iterator[str]:
    """Every string constant inside an annotation, and the first argument of each `cast()`."""
    for node in ast.walk(tree):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        elif isinstance(node, ast.Call) and _last_name(node.func) == "cast" and node.args:
            annotations.append(node.args[0])
        for annotation in annotations:
            if annotation is None:
                continue
            for inner in ast.walk(annotation):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    yield inner.value


def _names_in_expression(text: str) -> Iterator[str]:
    try:
        parsed = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(parsed):
        if isinstance(node, ast.Name):
            yield node.id
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield from _names_in_expression(node.value)


def _exported(tree: ast.Module) -> set[str]:
    return set(_exported_entries(tree))


def _exported_entries(tree: ast.Module) -> Iterator[str]:
    """The string entries of `__all__` (assigned, annotated or extended) at module level."""
    for stmt in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            targets, value = [stmt.target], stmt.value
        if value is None or not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            continue
        for node in ast.walk(value):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value
