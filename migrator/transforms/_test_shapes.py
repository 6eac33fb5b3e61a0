"""Questions about test code: is this a pytest test, a fixture, a unittest method?"""

from __future__ import annotations

import ast
import re

from migrator.analysis.scopes import Scope
from migrator.analysis.visitor import resolve_expression

_FIXTURE_QUALNAMES = frozenset({"pytest.fixture", "_pytest.fixtures.fixture", "pytest_asyncio.fixture"})


def _decorator_target(decorator: ast.expr) -> ast.expr:
    return decorator.func if isinstance(decorator, ast.Call) else decorator


def fixture_decorator(function: Scope) -> ast.expr | None:
    """The `@pytest.fixture` decorator of `function`, if it has one."""
    assert function.parent is not None
    for decorator in getattr(function.node, "decorator_list", ()):
        qualname, _ = resolve_expression(_decorator_target(decorator), function.parent, function.node.lineno)
        if qualname in _FIXTURE_QUALNAMES:
            return decorator
    return None


def fixture_scope(decorator: ast.expr) -> str:
    """The `scope=` a fixture declares ("function" when it declares none or a non-literal)."""
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "scope" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return "function"


def is_testcase_class(cls: Scope | ast.ClassDef, scope: Scope | None = None, depth: int = 0) -> bool:
    """Whether a class derives from a unittest-style `...TestCase`, through local bases too."""
    node = cls.node if isinstance(cls, Scope) else cls
    outer = cls.parent if isinstance(cls, Scope) else scope
    if not isinstance(node, ast.ClassDef) or outer is None or depth > 10:
        return False
    for base in node.bases:
        qualname, binding = resolve_expression(base, outer, node.lineno)
        if qualname and qualname.rpartition(".")[2].endswith("TestCase"):
            return True
        if isinstance(base, ast.Name):
            local = outer.resolve(base.id, node.lineno, {})
            if local is not None and isinstance(local.stmt, ast.ClassDef):
                if is_testcase_class(local.stmt, outer, depth + 1):
                    return True
            elif local is None and base.id.endswith("TestCase"):
                return True
    return False


def looks_like_pytest_test(function: Scope) -> bool:
    """Whether pytest collects `function` as a test that can take fixtures."""
    if function.kind != "function" or not function.name.startswith("test"):
        return False
    owner = function.owner_class
    if owner is None:
        return function.parent is not None and function.parent.kind == "module"
    return owner.name.startswith("Test") and not is_testcase_class(owner)


def is_testcase_method(function: Scope) -> bool:
    owner = function.owner_class
    return owner is not None and is_testcase_class(owner)


def has_param(function: Scope, name: str) -> bool:
    return any(arg.arg == name for arg in function.params())


_EXPECTS_ERROR = {
    "raises": "pytest.raises",
    "warns": "pytest.warns",
    "deprecated_call": "pytest.deprecated_call",
    "assertRaises": "assertRaises",
    "assertRaisesRegex": "assertRaisesRegex",
    "assertWarns": "assertWarns",
    "assertWarnsRegex": "assertWarnsRegex",
    "catch_warnings": "warnings.catch_warnings",
}
_OLD_API_WORDS = re.compile(r"(?i)deprecat|singleton|legacy|old[_ ]api|should fail|reproduc")
_PATCHERS = frozenset({"patch", "object"})


def old_api_test(call: ast.Call, function: Scope | None, getter: str) -> str | None:
    """Why a getter call is a test of the old API on purpose, or None.

    Inside pytest.raises / assertRaises / assertWarns / pytest.warns / warnings.catch_warnings;
    one side of an identity assertion between getter results; in a test that patches the
    getter; or in a test whose name or docstring says it tests the deprecated or singleton
    behaviour.
    """
    test = _enclosing_test(function)
    if test is None:
        return None
    node = test.node
    line = call.lineno
    for inner in ast.walk(node):
        if isinstance(inner, (ast.With, ast.AsyncWith)) and inner.lineno <= line <= (inner.end_lineno or inner.lineno):
            for item in inner.items:
                what = _callee_name(item.context_expr)
                if what in _EXPECTS_ERROR:
                    return f"{_EXPECTS_ERROR[what]}(...)"
                if what in _PATCHERS and _names(item.context_expr, getter):
                    return f"a patch of {getter}"
    for decorator in getattr(node, "decorator_list", ()):
        if _callee_name(decorator) in _PATCHERS and _names(decorator, getter):
            return f"a patch of {getter}"
    if _identity_assertion(node, call, getter):
        return "an identity assertion between two results of the getter"
    docstring = ast.get_docstring(node) or ""
    named = _OLD_API_WORDS.search(test.name) or _OLD_API_WORDS.search(docstring)
    if named:
        return f"a test whose {'name' if _OLD_API_WORDS.search(test.name) else 'docstring'} says it tests {named.group(0).lower()} behaviour"
    return None


def _enclosing_test(function: Scope | None) -> Scope | None:
    for scope in function.chain() if function is not None else ():
        if scope.kind == "function" and (looks_like_pytest_test(scope) or (is_testcase_method(scope) and scope.name.startswith("test"))):
            return scope
    return None


def _callee_name(node: ast.expr) -> str | None:
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _names(call: ast.expr, getter: str) -> bool:
    """Whether a patch call targets the getter (a dotted string or patch.object's attribute name)."""
    if not isinstance(call, ast.Call):
        return False
    return any(isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.rpartition(".")[2] == getter for a in call.args)


def _identity_assertion(function: ast.AST, call: ast.Call, getter: str) -> bool:
    holders = {
        target.id
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _callee_name(node.value) == getter
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    holders_of_call = {
        target.id
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and node.value is call
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_result(expr: ast.expr) -> bool:
        return (isinstance(expr, ast.Name) and expr.id in holders) or (isinstance(expr, ast.Call) and _callee_name(expr) == getter)

    def involves_call(expr: ast.expr) -> bool:
        return expr is call or (isinstance(expr, ast.Name) and expr.id in holders_of_call)

    for node in ast.walk(function):
        pair: tuple[ast.expr, ast.expr] | None = None
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            pair = (node.left, node.comparators[0])
        elif isinstance(node, ast.Call) and _callee_name(node) in ("assertIs", "assertIsNot") and len(node.args) >= 2:
            pair = (node.args[0], node.args[1])
        if pair and all(is_result(side) for side in pair) and any(involves_call(side) for side in pair):
            return True
    return False
