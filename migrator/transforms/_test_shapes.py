"""Questions about test code: is this a pytest test, a fixture, a unittest method?"""

from __future__ import annotations

import ast

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
