"""Legacy objects held in variables: which names and `self.` attributes hold the singleton
registry or the shared bridge, and the method calls made on them.

A receiver counts only when the tool can tell: assigned from the constructor or a known
getter, a `self.` attribute assigned so in the class, or an annotation. `.get()` on anything
else is never a finding.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING

from migrator.analysis.model import Pos, Reference
from migrator.analysis.scopes import Scope, resolve_expression

if TYPE_CHECKING:
    from migrator.analysis.legacy import LegacyIndex
    from migrator.analysis.positions import Columns
    from migrator.analysis.visitor import _Candidate


class Receivers:
    """Receiver keys with their role, the calls that create them, and the calls made on them."""

    def __init__(self, index: LegacyIndex) -> None:
        self.index = index
        self.roles: dict[tuple, str] = {}
        self.created_by: dict[int, tuple] = {}
        self.assignments: dict[tuple, list[ast.stmt]] = {}
        self.references: list[Reference] = []
        self._legacy_lines: dict[tuple, set[int]] = {}
        self.scopes: dict[tuple, Scope] = {}

    @classmethod
    def find(
        cls, assignments: Sequence[_Candidate], calls: Sequence[_Candidate], index: LegacyIndex, columns: Columns
    ) -> Receivers:
        found = cls(index)
        if not index.method_symbols:
            return found
        for candidate in assignments:
            found._note_assignment(candidate)
        found._note_annotated_params(assignments, calls)
        found._drop_ambiguous()
        for candidate in calls:
            found._note_method_call(candidate, columns)
        return found

    def role_of_value(self, value: ast.expr | None, scope: Scope, line: int) -> str | None:
        """The role of the object an expression creates: a legacy constructor or getter call."""
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return None
        qualname, _ = resolve_expression(value.func, scope, line, self.index.exports)
        canonical = self.index.canonical.get(qualname) if qualname else None
        if canonical is not None:
            role = self.index.roles.get(canonical) or self.index.type_roles.get(canonical)
            if role is not None:
                return role
        func = value.func
        if isinstance(func, ast.Attribute):
            _, role = self.receiver_of(func.value, scope, line)
            return self.index.method_roles.get(f"{role}.{func.attr}") if role else None
        return None

    def receiver_of(self, node: ast.expr, scope: Scope, line: int) -> tuple[tuple | None, str | None]:
        """The key and role of the legacy object an expression denotes, if the tool can tell."""
        if isinstance(node, ast.Name):
            owner, binding = scope.resolve_with_scope(node.id, line, {})
            if owner is None or binding is None:
                return None, None
            key = ("local", id(owner), node.id)
            return key, self.roles.get(key)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            function = scope.enclosing_function()
            for candidate in function.chain() if function else ():
                if candidate.kind == "function" and candidate.self_name() == node.value.id:
                    key = ("self", id(candidate.owner_class), node.attr)
                    return key, self.roles.get(key)
            return None, None
        role = self.role_of_value(node, scope, line)
        return (("call", id(node)), role) if role else (None, None)

    # -- gathering -----------------------------------------------------------------------

    def _note_assignment(self, candidate: _Candidate) -> None:
        node, scope = candidate.node, candidate.scope
        assert isinstance(node, (ast.Assign, ast.AnnAssign))
        role = self.role_of_value(node.value, scope, node.lineno)
        if role is None and isinstance(node, ast.AnnAssign):
            role = self._role_of_annotation(node.annotation, scope, node.lineno)
        if role is None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            key = self._target_key(target, scope)
            if key is None:
                continue
            self.roles[key] = role
            self.assignments.setdefault(key, []).append(candidate.stmt)
            if isinstance(node.value, (ast.Call, ast.Await)):
                call = node.value.value if isinstance(node.value, ast.Await) else node.value
                self.created_by[id(call)] = key
            if key[0] == "local":
                self._legacy_lines.setdefault(key, set()).add(node.lineno)
                self.scopes[key] = scope

    def _target_key(self, target: ast.expr, scope: Scope) -> tuple | None:
        if isinstance(target, ast.Name):
            if scope.kind == "class":
                return ("self", id(scope), target.id)
            return ("local", id(scope), target.id)
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            if scope.kind == "function" and scope.self_name() == target.value.id:
                return ("self", id(scope.owner_class), target.attr)
        return None

    def _note_annotated_params(self, assignments: Sequence[_Candidate], calls: Sequence[_Candidate]) -> None:
        seen: set[int] = set()
        for candidate in (*assignments, *calls):
            function = candidate.scope.enclosing_function()
            while function is not None and id(function) not in seen:
                seen.add(id(function))
                for arg in function.params():
                    role = self._role_of_annotation(arg.annotation, function.parent or function, function.node.lineno)
                    if role is not None:
                        key = ("local", id(function), arg.arg)
                        self.roles[key] = role
                        self._legacy_lines.setdefault(key, set()).add(arg.lineno)
                        self.scopes[key] = function
                function = function.parent.enclosing_function() if function.parent else None

    def _role_of_annotation(self, annotation: ast.expr | None, scope: Scope, line: int) -> str | None:
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        qualname, _ = resolve_expression(annotation, scope, line, self.index.exports)
        canonical = self.index.canonical.get(qualname) if qualname else None
        return self.index.type_roles.get(canonical) if canonical else None

    def _drop_ambiguous(self) -> None:
        """A local that is also bound to something else is not known to hold the legacy object."""
        for key, lines in self._legacy_lines.items():
            bindings = self.scopes[key].bindings.get(key[2], ())
            if any(b.line not in lines for b in bindings):
                self.roles.pop(key, None)

    def _note_method_call(self, candidate: _Candidate, columns: Columns) -> None:
        call = candidate.node
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        key, role = self.receiver_of(call.func.value, candidate.scope, call.lineno)
        symbol = f"{role}.{call.func.attr}" if role else None
        if key is None or symbol not in self.index.method_symbols:
            return
        end = columns.pos(call.func.end_lineno, call.func.end_col_offset)
        self.references.append(
            Reference(
                qualname=symbol,
                symbol=symbol,
                kind="method",
                node=call,
                span=columns.span(call),
                anchor=Pos(end.line, end.col - len(call.func.attr)),
                scope=candidate.scope,
                stmt_path=candidate.path,
                stmt_line=candidate.stmt.lineno,
                parent=candidate.parent,
                stmt=candidate.stmt,
                receiver=key,
            )
        )
