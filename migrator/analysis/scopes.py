"""Lexical scopes and name bindings of one module, as Python resolves them."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import msgspec


class Binding(msgspec.Struct, frozen=True):
    """One place where a scope binds a name.

    `target` is the dotted name the binding refers to when the tool can tell (imports, and the
    deprecated definitions in their own module); other bindings shadow without a target.
    """

    name: str
    line: int
    kind: str  # import | from | star | def | class | param | assign
    target: str | None = None
    stmt: ast.stmt | None = None
    alias: ast.alias | None = None


class Scope:
    """A module, class, function, lambda or comprehension scope."""

    def __init__(self, kind: str, node: ast.AST, parent: Scope | None) -> None:
        self.kind = kind
        self.node = node
        self.parent = parent
        self.bindings: dict[str, list[Binding]] = {}
        self.stars: list[tuple[str, int]] = []
        self.self_attrs: set[str] = set()

    # -- facts about functions -------------------------------------------------------------

    @property
    def is_function(self) -> bool:
        return self.kind in ("function", "lambda")

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    def params(self) -> list[ast.arg]:
        args = getattr(self.node, "args", None)
        if args is None:
            return []
        extra = [a for a in (args.vararg, args.kwarg) if a is not None]
        return [*args.posonlyargs, *args.args, *extra, *args.kwonlyargs]

    def positional_params(self) -> list[ast.arg]:
        args = getattr(self.node, "args", None)
        return [*args.posonlyargs, *args.args] if args is not None else []

    @property
    def owner_class(self) -> Scope | None:
        """The class scope a function is defined in directly, if it is a method."""
        if self.kind == "function" and self.parent is not None and self.parent.kind == "class":
            return self.parent
        return None

    def self_name(self) -> str | None:
        """The name of the instance parameter of a method, if it has one."""
        if self.owner_class is None or not self.positional_params():
            return None
        decorators = {d.id for d in getattr(self.node, "decorator_list", []) if isinstance(d, ast.Name)}
        if decorators & {"staticmethod", "classmethod"}:
            return None
        return self.positional_params()[0].arg

    # -- resolution -----------------------------------------------------------------------

    def bind(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    def chain(self) -> Iterator[Scope]:
        scope: Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def enclosing_function(self) -> Scope | None:
        """The nearest function or lambda whose body this scope runs in, or None at import time."""
        for scope in self.chain():
            if scope.is_function:
                return scope
        return None

    def resolve(self, name: str, line: int, legacy_stars: dict[str, set[str]]) -> Binding | None:
        """The binding `name` refers to when evaluated on `line` in this scope."""
        return self.resolve_with_scope(name, line, legacy_stars)[1]

    def resolve_with_scope(
        self, name: str, line: int, legacy_stars: dict[str, set[str]]
    ) -> tuple[Scope | None, Binding | None]:
        """Like `resolve`, with the scope that holds the binding."""
        for scope in self.chain():
            if scope.kind == "class" and scope is not self:
                continue
            found = scope.bindings.get(name)
            if found:
                if scope is self:
                    earlier = [b for b in found if b.line <= line]
                    if earlier:
                        return scope, earlier[-1]
                    if scope.is_function or scope.kind == "comprehension":
                        return None, None
                else:
                    return scope, found[-1]
            for module, star_line in scope.stars:
                if name in legacy_stars.get(module, ()) and (scope is not self or star_line <= line):
                    return scope, Binding(name, star_line, "star", target=f"{module}.{name}")
        return None, None

    def visible_local(self, name: str, before_line: int) -> Binding | None:
        """A function-level binding of `name` visible before `before_line`, from here outwards.

        Module-level bindings do not count: a per-request value never lives there.
        """
        for scope in self.chain():
            if scope.kind == "module":
                return None
            if scope.kind == "class" and scope is not self:
                continue
            for binding in reversed(scope.bindings.get(name, ())):
                if scope is not self or binding.kind == "param" or binding.line < before_line:
                    return binding
        return None


def resolve_expression(
    node: ast.expr, scope: Scope, line: int, stars: dict[str, set[str]] | None = None
) -> tuple[str | None, Binding | None]:
    """The qualified name an expression of names and attributes denotes, if the imports say."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None, None
    binding = scope.resolve(node.id, line, stars or {})
    if binding is None or binding.target is None:
        return None, None
    return ".".join([binding.target, *reversed(attrs)]), binding
