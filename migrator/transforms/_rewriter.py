"""Carries out the planned edits of one file in a single LibCST pass."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

import libcst as cst
from libcst._position import CodeRange

from migrator.analysis.model import Pos
from migrator.analysis.skeleton import Stub
from migrator.transforms import _import_merge, _stubs
from migrator.transforms._kept_lines import keep_source_lines, may_lose_bytes
from migrator.transforms._layout import append_item
from migrator.transforms._positions import (
    positions,
    spliced_code,
    statement_lines,
    statement_lines_from_text,
)
from migrator.transforms.edits import (
    AddImport,
    AddModuleCode,
    AddParameter,
    Edit,
    InsertStatement,
    RemoveImport,
    ReplaceCall,
    ReplaceExpression,
    ReplaceStatement,
)


class RewriteError(Exception):
    """An edit could not be carried out; the file is left as it was."""


def rewrite(
    source: str,
    edits: Sequence[Edit],
    *,
    reuse_text: bool = True,
    tree: ast.Module | None = None,
    skeleton_stubs: Sequence[Stub] = (),
) -> str:
    """Return `source` with `edits` applied; formatting and comments elsewhere are kept.

    With `reuse_text`, the top-level statements the edits leave alone are measured and
    copied from `source` where it can vouch for them, and only the others are generated;
    without it, LibCST's codegen of the whole module does both. Either way, a line the edits
    leave alone keeps the bytes it has in `source`. `tree` is the stdlib parse of `source`,
    when the caller already has it; with it, LibCST parses the untouched bodies as stubs.
    It may be the module's skeleton, with its `skeleton_stubs`.
    """
    lines = {edit_line(edit) for edit in edits} - {None}
    stubbed = _stubs.stubbed_text(source, tree, lines, skeleton_stubs) if reuse_text and tree is not None else None
    if stubbed is not None:
        try:
            done = _rewrite(stubbed[0], source, edits, lines, tree, stubbed[1])
        except (RewriteError, cst.ParserSyntaxError):
            done = None  # the whole parse below decides
        if done is not None:
            return done
    done = _rewrite(source, source, edits, lines, tree, None, reuse_text=reuse_text)
    assert done is not None
    return done


def _rewrite(
    parsed: str,
    source: str,
    edits: Sequence[Edit],
    lines: set[int],
    tree: ast.Module | None,
    stubbed: Sequence[int] | None,
    *,
    reuse_text: bool = True,
) -> str | None:
    """`rewrite` from a parse of `parsed`: `source` itself, or `source` with the bodies of the
    `stubbed` top-level statements blanked; None when the stubs cannot vouch for the result."""
    module = cst.parse_module(parsed)
    from_text = statement_lines_from_text(module, parsed, tree) if reuse_text else None
    if stubbed is not None and from_text is None:
        return None
    spans = from_text or statement_lines(module)
    rewriter = _Rewriter(edits, positions(module, lines, spans=spans))
    new_module = module.visit(rewriter)
    missing = rewriter.unapplied()
    if missing:
        raise RewriteError(f"could not locate the code for {len(missing)} edit(s), first: {missing[0]}")
    if stubbed is not None and not _stubs.kept_whole(module, new_module, _stubs.statements_at(module, stubbed)):
        return None
    if from_text is not None:
        return spliced_code(new_module, module, source, from_text)
    if not may_lose_bytes(source):
        return new_module.code
    return keep_source_lines(source, module.code, new_module.code)


def edit_line(edit: Edit) -> int | None:
    """The line an edit is anchored on (None for module-wide edits such as imports)."""
    for field in ("anchor", "statement", "function"):
        position = getattr(edit, field, None)
        if position is not None:
            return position.line
    return None


def _unique(items):
    return list(dict.fromkeys(items))


class _Rewriter(cst.CSTTransformer):
    def __init__(self, edits: Sequence[Edit], ranges: Mapping[cst.CSTNode, CodeRange]) -> None:
        super().__init__()
        self.ranges = ranges
        edits = _unique(edits)
        self.calls = {e.anchor: e for e in edits if isinstance(e, (ReplaceCall, ReplaceExpression)) and _on_call(e)}
        self.names = {e.anchor: e for e in edits if isinstance(e, ReplaceExpression) and not e.call}
        self.inserts: dict[Pos, list[str]] = {}
        for e in edits:
            if isinstance(e, InsertStatement):
                self.inserts.setdefault(e.anchor, []).append(e.code)
        self.statements = {e.anchor: e.code for e in edits if isinstance(e, ReplaceStatement)}
        self.params: dict[Pos, list[str]] = {}
        for e in edits:
            if isinstance(e, AddParameter):
                self.params.setdefault(e.function, []).append(e.name)
        self.removals: dict[Pos, list[RemoveImport]] = {}
        for e in edits:
            if isinstance(e, RemoveImport):
                self.removals.setdefault(e.statement, []).append(e)
        renamed = {e.replacement for e in edits if isinstance(e, RemoveImport) and e.replacement}
        self.module_code = [e.code for e in edits if isinstance(e, AddModuleCode)]
        self.imports = [e for e in edits if isinstance(e, AddImport) and e.name not in renamed]
        # Every located edit, by the key `done` records it under once carried out.
        self.located = {
            "call": self.calls, "name": self.names, "insert": self.inserts,
            "statement": self.statements, "param": self.params, "import": self.removals,
        }
        self.anchors = [anchor for by_anchor in self.located.values() for anchor in by_anchor]
        self.done: set[object] = set()
        self.attribute_names: set[int] = set()
        # Ids of placeholder lines for removed statements. The placeholders themselves are kept
        # alive here: a freed node's id can be reused by a new node, which would then be dropped.
        self.emptied: set[int] = set()
        self._placeholders: list[cst.CSTNode] = []

    def unapplied(self) -> list[str]:
        return [
            f"{kind} at line {p.line}, column {p.col + 1}"
            for kind, by_anchor in self.located.items()
            for p in by_anchor
            if (kind, p) not in self.done
        ]

    def _pos(self, node: cst.CSTNode) -> Pos | None:
        found = self.ranges.get(node)
        return Pos(found.start.line, found.start.column) if found is not None else None

    def on_visit(self, node: cst.CSTNode) -> bool:
        # Statements that hold no edit are left whole: no need to walk into them.
        if isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement)):
            found = self.ranges.get(node)
            if found is not None and not any(
                (found.start.line, found.start.column) <= (a.line, a.col) < (found.end.line, found.end.column)
                for a in self.anchors
            ):
                return False
        return super().on_visit(node)

    # -- expressions ---------------------------------------------------------------------

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        token = original.func.attr if isinstance(original.func, cst.Attribute) else original.func
        if not isinstance(token, cst.Name):
            return updated
        pos = self._pos(token)
        edit = self.calls.get(pos)
        if edit is None:
            return updated
        self.done.add(("call", pos))
        if isinstance(edit, ReplaceExpression):
            return _keep_parentheses(cst.parse_expression(edit.code), updated)
        if edit.attribute_only and isinstance(updated.func, cst.Attribute):
            func: cst.BaseExpression = updated.func.with_changes(attr=cst.Name(edit.callee))
        else:
            func = cst.parse_expression(edit.callee)
        template = cst.parse_expression(f"f({edit.args})")
        assert isinstance(template, cst.Call)
        return updated.with_changes(func=func, args=template.args)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attribute_names.add(id(node.attr))

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        return self._replace_name(original.attr, updated)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        if id(original) in self.attribute_names:
            return updated
        return self._replace_name(original, updated)

    def _replace_name(self, token: cst.Name, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not self.names:
            return updated
        pos = self._pos(token)
        edit = self.names.get(pos)
        if edit is None:
            return updated
        self.done.add(("name", pos))
        return _keep_parentheses(cst.parse_expression(edit.code), updated)

    # -- definitions and imports ---------------------------------------------------------

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        pos = self._pos(original.name)
        names = self.params.get(pos)
        if not names:
            return updated
        self.done.add(("param", pos))
        params = list(updated.params.params)
        for name in _unique(names):
            params = _append_param(params, name, updated.whitespace_before_params)
        return updated.with_changes(params=updated.params.with_changes(params=params))

    def leave_ImportFrom(
        self, original: cst.ImportFrom, updated: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        pos = self._pos(original)
        removals = self.removals.get(pos)
        if not removals or isinstance(updated.names, cst.ImportStar):
            return updated
        self.done.add(("import", pos))
        by_name = {r.name: r for r in removals}
        names: list[cst.ImportAlias] = []
        for alias in updated.names:
            removal = by_name.get(alias.evaluated_name)
            if removal is None:
                names.append(alias)
            elif removal.replacement:
                names.append(alias.with_changes(name=cst.Name(removal.replacement), asname=None))
        if not names:
            return cst.RemovalSentinel.REMOVE
        if len(names) < len(updated.names) and names[-1].comma is not cst.MaybeSentinel.DEFAULT:
            last_original = updated.names[-1]
            names[-1] = names[-1].with_changes(comma=last_original.comma)
        return updated.with_changes(names=names)

    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import | cst.RemovalSentinel:
        pos = self._pos(original)
        removals = self.removals.get(pos)
        if not removals:
            return updated
        self.done.add(("import", pos))
        dropped = {r.name for r in removals}
        names = [alias for alias in updated.names if alias.evaluated_name not in dropped]
        if not names:
            return cst.RemovalSentinel.REMOVE
        if len(names) < len(updated.names):
            names[-1] = names[-1].with_changes(comma=updated.names[-1].comma)
        return updated.with_changes(names=names)

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if updated.body or not original.body:
            return updated
        # Keep the line's place until its block is rebuilt, so positions still line up.
        placeholder = updated.with_changes(body=[cst.Pass()])
        self._mark_emptied(placeholder)
        return placeholder

    # -- blocks --------------------------------------------------------------------------

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        body = self._with_inserts(original.body, updated.body)
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()])]
        return updated.with_changes(body=body)

    def leave_SimpleStatementSuite(
        self, original: cst.SimpleStatementSuite, updated: cst.SimpleStatementSuite
    ) -> cst.BaseSuite:
        if not self._pending_inserts(original) and not self._pending_statements(original):
            return updated
        # An edit inside a one-line block (`def f(): return x`): give the block lines of its own.
        body = _drop_empty(self._rebuild(original, cst.SimpleStatementLine(body=updated.body)), self.emptied)
        return cst.IndentedBlock(body=body or [cst.SimpleStatementLine(body=[cst.Pass()])], header=updated.trailing_whitespace)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body = self._with_inserts(original.body, updated.body, keep_emptied=bool(self.imports))
        if self.module_code:
            at = _import_merge.header_end(body, self.emptied)
            added = [s for code in _unique(self.module_code) for s in cst.parse_module(code).body]
            added[0] = added[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
            if at < len(body) and id(body[at]) not in self.emptied:
                body[at] = _ensure_blank_lines(body[at], 2)
            body[at:at] = added
        if self.imports:
            body = _import_merge.add_imports(body, self.imports, self.emptied)
        return updated.with_changes(body=_drop_empty(body, self.emptied))

    def _with_inserts(
        self, original: Sequence[cst.CSTNode], updated: Sequence[cst.CSTNode], keep_emptied: bool = False
    ) -> list:
        body: list = []
        for before, after in zip(original, updated, strict=True):
            body.extend(self._rebuild(before, after))
        return body if keep_emptied else _drop_empty(body, self.emptied)

    def _rebuild(self, original: cst.CSTNode, updated: cst.CSTNode) -> list:
        """One statement after its own replacement and the insertions before it."""
        statements = self._replace_statement(original, updated)
        anchors = self._pending_inserts(original)
        if anchors:
            inserted = [self._parse(code) for a in anchors for code in _unique(self.inserts[a])]
            self.done.update(("insert", a) for a in anchors)
            inserted[0] = inserted[0].with_changes(leading_lines=statements[0].leading_lines)
            statements[0] = statements[0].with_changes(leading_lines=())
            if id(updated) in self.emptied:
                self._mark_emptied(statements[0])
            statements = [*inserted, *statements]
        return statements

    def _replace_statement(self, original: cst.CSTNode, updated: cst.CSTNode) -> list:
        anchors = self._pending_statements(original)
        if not anchors:
            return [updated]
        self.done.update(("statement", a) for a in anchors)
        inside = [a for a in (*self.calls, *self.names, *self.params, *self.removals) if self._contains(original, a)]
        if inside:
            raise RewriteError(
                f"conflicting edits: line {anchors[0].line} is replaced whole, but another fix edits inside it"
            )
        code = self.statements[anchors[0]]
        if not code.strip():
            placeholder = cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=updated.leading_lines)
            self._mark_emptied(placeholder)
            return [placeholder]
        new = list(cst.parse_module(code).body)
        new[0] = new[0].with_changes(leading_lines=updated.leading_lines)
        return new

    def _mark_emptied(self, node: cst.CSTNode) -> None:
        self._placeholders.append(node)
        self.emptied.add(id(node))

    def _pending_statements(self, node: cst.CSTNode) -> list[Pos]:
        return [a for a in self.statements if ("statement", a) not in self.done and self._contains(node, a)]

    def _pending_inserts(self, node: cst.CSTNode) -> list[Pos]:
        return [a for a in self.inserts if ("insert", a) not in self.done and self._contains(node, a)]

    def _contains(self, node: cst.CSTNode, anchor: Pos) -> bool:
        code_range = self.ranges.get(node)
        if code_range is None:
            return False
        start = (code_range.start.line, code_range.start.column)
        end = (code_range.end.line, code_range.end.column)
        return start <= (anchor.line, anchor.col) < end

    @staticmethod
    def _parse(code: str) -> cst.BaseStatement:
        return cst.parse_statement(code)


def _keep_parentheses(new: cst.BaseExpression, old: cst.BaseExpression) -> cst.BaseExpression:
    """The old expression's own parentheses, if it had any; else the new one's."""
    if old.lpar:
        return new.with_changes(lpar=old.lpar, rpar=old.rpar)
    return new


def _on_call(edit: Edit) -> bool:
    return isinstance(edit, ReplaceCall) or (isinstance(edit, ReplaceExpression) and edit.call)


def _drop_empty(body: Sequence[cst.CSTNode], emptied: set[int]) -> list:
    """Drop statement lines emptied by import removals, keeping their comment lines."""
    kept: list = []
    carried: list[cst.EmptyLine] = []
    dropped_first = False
    for stmt in body:
        if id(stmt) in emptied:
            if any(line.comment is not None for line in stmt.leading_lines):
                carried.extend(stmt.leading_lines)
            dropped_first = dropped_first or not kept
            continue
        if dropped_first and not kept and not carried:
            # The block now starts here: no blank line before its first statement.
            stmt = stmt.with_changes(leading_lines=_without_leading_blanks(stmt.leading_lines))
        if carried:
            stmt = stmt.with_changes(leading_lines=[*carried, *stmt.leading_lines])
            carried = []
        kept.append(stmt)
    return kept


def _without_leading_blanks(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    lines = list(lines)
    while lines and lines[0].comment is None:
        lines.pop(0)
    return lines


def _ensure_blank_lines(stmt: cst.CSTNode, count: int) -> cst.CSTNode:
    lines = list(stmt.leading_lines)
    blanks = 0
    for line in lines:
        if line.comment is not None:
            break
        blanks += 1
    return stmt.with_changes(leading_lines=[cst.EmptyLine()] * max(0, count - blanks) + lines)


def _append_param(params: list[cst.Param], name: str, opening: cst.BaseParenthesizableWhitespace) -> list[cst.Param]:
    """Append a parameter, keeping a trailing comma and one-per-line layout when present."""
    new = cst.Param(name=cst.Name(name))
    if not params:
        return [new]
    return [*params[:-1], *append_item(params[-1], new, opening)]
