"""Merging imports into a module once, in the rewriter's single LibCST pass."""

from __future__ import annotations

from collections.abc import Sequence, Set

import libcst as cst
from libcst.helpers import get_full_name_for_node

from migrator.transforms._layout import append_item
from migrator.transforms.edits import AddImport


def is_header_statement(stmt: cst.CSTNode) -> bool:
    """Docstrings, imports and import-path set-up at the top of a module, before its first other statement."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    return all(
        isinstance(small, (cst.Import, cst.ImportFrom))
        or (isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString)))
        or _sets_up_import_path(small)
        for small in stmt.body
    )


def _sets_up_import_path(small: cst.BaseSmallStatement) -> bool:
    """`sys.path.insert(...)`, `sys.path[:0] = ...`, `site.addsitedir(...)`: what a script runs
    before its first project import, so new imports go after it."""
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        name = get_full_name_for_node(small.value.func) or ""
        return name.startswith("sys.path.") or name == "site.addsitedir"
    if isinstance(small, (cst.Assign, cst.AugAssign)):
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        return any((get_full_name_for_node(t) or "").startswith("sys.path") for t in targets)
    return False


def header_end(body: Sequence[cst.CSTNode], emptied: Set[int] = frozenset()) -> int:
    """Index just past the module's leading docstring and imports (and lines emptied of imports)."""
    end = 0
    for index, stmt in enumerate(body):
        if id(stmt) not in emptied and not is_header_statement(stmt):
            break
        end = index + 1
    return end


def last_import_index(body: Sequence[cst.CSTNode]) -> int:
    """Index just past the last import or import-path set-up of the module header (after the
    docstring if there is neither)."""
    end = 0
    for index, stmt in enumerate(body[: header_end(body)]):
        assert isinstance(stmt, cst.SimpleStatementLine)
        if isinstance(stmt.body[0], (cst.Import, cst.ImportFrom)) or _sets_up_import_path(stmt.body[0]):
            end = index + 1
        elif index == 0:
            end = 1
    return end


def add_imports(
    body: list[cst.BaseStatement], wanted: Sequence[AddImport], emptied: Set[int] = frozenset()
) -> list[cst.BaseStatement]:
    """Add each wanted import once: into an existing `from module import ...`, else as a new line.

    New lines take the place of an import line the same pass emptied, if there is one, else
    they go after the module's last import.
    """
    body = list(body)
    new_from: dict[str, list[str]] = {}
    new_plain: list[str] = []
    for item in wanted:
        if _already_imported(body, item):
            continue
        if item.name is None:
            if item.module not in new_plain:
                new_plain.append(item.module)
            continue
        index = _from_import_index(body, item.module)
        if index is not None:
            body[index] = _append_alias(body[index], item.name)
        elif item.name not in new_from.setdefault(item.module, []):
            new_from[item.module].append(item.name)
    new_lines = [_statement(f"import {module}") for module in new_plain]
    new_lines += [_statement(f"from {module} import {', '.join(names)}") for module, names in new_from.items()]
    if new_lines:
        slot = next((i for i, stmt in enumerate(body[: header_end(body, emptied)]) if id(stmt) in emptied), None)
        if slot is not None:
            new_lines[0] = new_lines[0].with_changes(leading_lines=body[slot].leading_lines)
            body[slot : slot + 1] = new_lines
            return body
        at = last_import_index(body)
        if at == 0 and body and not body[0].leading_lines:
            blanks = 2 if isinstance(body[0], (cst.FunctionDef, cst.ClassDef)) else 1
            body[0] = body[0].with_changes(leading_lines=[cst.EmptyLine()] * blanks)
        body[at:at] = new_lines
    return body


def _statement(code: str) -> cst.SimpleStatementLine:
    statement = cst.parse_statement(code + "\n")
    assert isinstance(statement, cst.SimpleStatementLine)
    return statement


def _already_imported(body: Sequence[cst.BaseStatement], item: AddImport) -> bool:
    """Whether the module already imports the name, anywhere at module level: in its header,
    further down, or inside an `if`, `try` or `with` block."""
    for small in _module_level_smalls(body):
        if item.name is None and isinstance(small, cst.Import):
            if any(get_full_name_for_node(a.name) == item.module and a.asname is None for a in small.names):
                return True
        if item.name is not None and isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
            if _module_name(small) == item.module and any(
                get_full_name_for_node(a.name) == item.name and a.asname is None for a in small.names
            ):
                return True
    return False


def _module_level_smalls(body: Sequence[cst.CSTNode]):
    """Every small statement that runs at module level: not inside a function or class body."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        elif isinstance(stmt, cst.BaseCompoundStatement):
            for block in _blocks_of(stmt):
                if isinstance(block, cst.SimpleStatementSuite):
                    yield from block.body
                else:
                    yield from _module_level_smalls(block.body)


def _blocks_of(stmt: cst.BaseCompoundStatement):
    if isinstance(stmt, cst.Match):
        yield from (case.body for case in stmt.cases)
        return
    yield stmt.body
    for field in ("orelse", "finalbody"):
        other = getattr(stmt, field, None)
        while other is not None:
            yield other.body
            other = getattr(other, "orelse", None) if isinstance(other, cst.If) else None
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body


def _from_import_index(body: Sequence[cst.BaseStatement], module: str) -> int | None:
    for index, stmt in enumerate(body[: header_end(body)]):
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 else None
        if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
            if _module_name(small) == module:
                return index
    return None


def _module_name(node: cst.ImportFrom) -> str | None:
    if node.relative or node.module is None:
        return None
    return get_full_name_for_node(node.module)


def _append_alias(stmt: cst.BaseStatement, name: str) -> cst.BaseStatement:
    """Append `name` to a from-import, keeping its one-line or one-name-per-line layout."""
    assert isinstance(stmt, cst.SimpleStatementLine)
    node = stmt.body[0]
    assert isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar)
    names = list(node.names)
    opening = node.lpar.whitespace_after if node.lpar is not None else cst.SimpleWhitespace("")
    names[-1:] = append_item(names[-1], cst.ImportAlias(name=cst.Name(name)), opening)
    return stmt.with_changes(body=[node.with_changes(names=names)])
