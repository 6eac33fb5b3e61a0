"""Contexts already in scope, found by type and flow rather than by name alone.

A name holds a user context when it is bound from an expression that makes one: the context
type or one of its classmethods, a helper or fixture of the codebase that returns one, another
name that holds one. Loop and comprehension targets over contexts count, as do `with ... as`
and walrus targets, and `self.<attr>` set so anywhere in the class.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from migrator.analysis.facts import CONTEXT_TYPE
from migrator.analysis.model import Reference
from migrator.analysis.scopes import Scope
from migrator.transforms.base import PlanContext

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
# Runtime APIs that yield a user context (`async with factory.user_execution_scope(...) as ctx`).
_SCOPES = frozenset({"user_execution_scope"})
_CONTAINERS = frozenset({"list", "tuple", "set", "frozenset", "Sequence", "Iterable", "Iterator", "List", "Tuple", "Set", "Collection"})


class Flow:
    """Questions about one function's names, asked while planning one reference."""

    def __init__(self, ref: Reference, ctx: PlanContext) -> None:
        self.ref = ref
        self.ctx = ctx
        self.helpers = {s.name for s in ctx.codebase.sources if s.kind == "helper"}
        self.fixtures = {s.name for s in ctx.codebase.sources if s.kind == "fixture"}

    def context_name(self) -> str | None:
        """The nearest name bound to a user context where the reference is."""
        line = self.ref.span.start.line
        for scope in self.ref.scope.chain():
            if scope.kind == "module":
                return None
            if scope.kind == "comprehension":
                for generator in getattr(scope.node, "generators", ()):
                    if isinstance(generator.target, ast.Name) and self.holds_contexts(generator.iter, scope, line):
                        return generator.target.id
                continue
            if scope.kind == "class":
                continue
            found = self._bound_in(scope, line)
            if found is not None:
                return found
        return None

    def self_attribute(self, function: Scope) -> str | None:
        """`self.<attr>` that some method of the class sets from a user context."""
        owner, self_name = function.owner_class, function.self_name()
        if owner is None or self_name is None:
            return None
        for method in (s for s in owner.node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))):
            params = [*method.args.posonlyargs, *method.args.args]
            if not params:
                continue
            me = params[0].arg
            for node in _own_nodes(method):
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if (
                            isinstance(target, ast.Attribute)
                            and isinstance(target.value, ast.Name)
                            and target.value.id == me
                            and self._makes_context(node, method)
                        ):
                            return f"{self_name}.{target.attr}"
        return None

    # -- bindings ------------------------------------------------------------------------

    def _bound_in(self, scope: Scope, line: int) -> str | None:
        node = scope.node
        for arg in scope.params():
            if self._annotated_context(arg.annotation) or (self.ctx.phase == "2B" and arg.arg in self.fixtures):
                return arg.arg
        best: tuple[int, str] | None = None
        body = node.body if isinstance(node.body, list) else [node.body]
        for inner in _walk(body):
            found = self._binding(inner, line, node)
            if found is not None and (best is None or found[0] >= best[0]):
                best = found
        return best[1] if best else None

    def _binding(self, node: ast.AST, line: int, function: ast.AST) -> tuple[int, str] | None:
        if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
            if node.lineno <= line <= (node.end_lineno or node.lineno) and self.holds_contexts(node.iter, None, line, function):
                return node.lineno, node.target.id
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name) and self.is_context(item.context_expr, function, line):
                        return node.lineno, item.optional_vars.id
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.lineno < line:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if self._makes_context(node, function):
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if names:
                    return node.lineno, names[0]
        elif isinstance(node, ast.NamedExpr) and node.lineno <= line:
            if self.is_context(node.value, function, line):
                return node.lineno, node.target.id
        return None

    def _makes_context(self, node: ast.Assign | ast.AnnAssign, function: ast.AST) -> bool:
        if isinstance(node, ast.AnnAssign) and self._annotated_context(node.annotation):
            return True
        return node.value is not None and self.is_context(node.value, function, node.lineno)

    # -- expressions ---------------------------------------------------------------------

    def is_context(self, expr: ast.expr, function: ast.AST, line: int, depth: int = 0) -> bool:
        """Whether an expression makes or denotes one user context."""
        if isinstance(expr, ast.Await):
            expr = expr.value
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Name):
                return func.id == CONTEXT_TYPE or func.id in self.helpers
            if isinstance(func, ast.Attribute):
                return func.attr in self.helpers or func.attr in _SCOPES or _names_type(func.value)
            return False
        if isinstance(expr, ast.Name) and depth < 4:
            for inner in _walk(_body(function)):
                if isinstance(inner, (ast.Assign, ast.AnnAssign)) and inner.lineno < line:
                    targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                    if any(isinstance(t, ast.Name) and t.id == expr.id for t in targets):
                        if inner.value is not None and self.is_context(inner.value, function, inner.lineno, depth + 1):
                            return True
            args = getattr(function, "args", None)
            return args is not None and any(
                a.arg == expr.id and self._annotated_context(a.annotation) for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
            )
        return False

    def holds_contexts(self, expr: ast.expr, scope: Scope | None, line: int, function: ast.AST | None = None) -> bool:
        """Whether an iterable yields user contexts: a parameter annotated as a collection of
        them, a list built from them, or a name the config's context names make plural."""
        function = function if function is not None else _function_node(scope)
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp)) and function is not None:
            return self.is_context(expr.elt, function, line)
        if isinstance(expr, (ast.List, ast.Tuple)) and function is not None:
            return bool(expr.elts) and all(self.is_context(e, function, line) for e in expr.elts)
        if not isinstance(expr, ast.Name):
            return False
        if expr.id in {f"{name}s" for name in self.ctx.config.context_names}:
            return True
        if function is None:
            return False
        args = getattr(function, "args", None)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs) if args is not None else ():
            if arg.arg == expr.id and arg.annotation is not None and is_collection_of_context(arg.annotation):
                return True
        for inner in _walk(_body(function)):
            if isinstance(inner, ast.Assign) and inner.lineno < line and any(isinstance(t, ast.Name) and t.id == expr.id for t in inner.targets):
                if self.holds_contexts(inner.value, None, inner.lineno, function):
                    return True
        return False

    def _annotated_context(self, annotation: ast.expr | None) -> bool:
        return annotation is not None and _names_type(annotation) and not is_collection_of_context(annotation)


def _names_type(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip().rpartition(".")[2] == CONTEXT_TYPE
    if isinstance(node, ast.BinOp):  # `UserExecutionContext | None`
        return _names_type(node.left) or _names_type(node.right)
    if isinstance(node, ast.Subscript) and _last_name(node.value) == "Optional":
        return _names_type(node.slice)
    return _last_name(node) == CONTEXT_TYPE


def is_collection_of_context(annotation: ast.expr) -> bool:
    if isinstance(annotation, ast.Subscript) and _last_name(annotation.value) in _CONTAINERS:
        inner = annotation.slice
        elements = inner.elts if isinstance(inner, ast.Tuple) else [inner]
        return any(_last_name(e) == CONTEXT_TYPE for e in elements)
    return False


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def _function_node(scope: Scope | None) -> ast.AST | None:
    while scope is not None and scope.kind not in ("function", "lambda"):
        scope = scope.parent
    return scope.node if scope is not None else None


def _body(function: ast.AST) -> list:
    body = getattr(function, "body", [])
    return body if isinstance(body, list) else [body]


def _walk(nodes: Iterable[ast.AST]) -> Iterable[ast.AST]:
    """Every node under `nodes`, not entering nested functions, classes or lambdas."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _NESTED):
            stack.extend(ast.iter_child_nodes(node))


def _own_nodes(function: ast.AST) -> Iterable[ast.AST]:
    return _walk(_body(function))
