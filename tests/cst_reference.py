"""A reference detector built on LibCST's own metadata, to hold the fast `ast` path to.

It finds the uses, imports and definitions of deprecated names the slow, well-trodden way:
QualifiedNameProvider for what a name or attribute denotes, ScopeProvider for names no
binding explains (star imports), PositionProvider for where they stand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    QualifiedNameSource,
    ScopeProvider,
)

CALL_RULE = "MIG001"
IMPORT_RULE = "MIG002"


def find(
    text: str,
    module_name: str,
    is_package: bool,
    legacy: Mapping[str, str],
    reexports: Iterable[str],
    symbols: Iterable[str],
) -> set[tuple[str, int, int]]:
    """`(rule, line, column)` of every finding, columns 1-based, for the deprecated `symbols`."""
    wanted = {symbol: legacy[symbol] for symbol in symbols if symbol in legacy}
    canonical = {f"{module}.{symbol}" for symbol, module in wanted.items()}
    canonical |= {f"{package}.{symbol}" for package in reexports for symbol in wanted}
    exports: dict[str, set[str]] = {}
    for symbol, module in wanted.items():
        for owner in (module, *reexports):
            exports.setdefault(owner, set()).add(symbol)
    defining = {
        symbol for symbol, module in wanted.items() if module_name == module or module_name.endswith("." + module)
    }
    finder = _Finder(module_name, is_package, canonical, exports, defining)
    finder.unbound = set(wanted) - defining - _bound_names(text)
    MetadataWrapper(cst.parse_module(text)).visit(finder)
    return finder.found


def _bound_names(text: str) -> set[str]:
    """Every name the module binds anywhere (assignments, definitions, parameters, imports)."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
    return names


class _Finder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (
        QualifiedNameProvider,
        ScopeProvider,
        PositionProvider,
        ParentNodeProvider,
        ExpressionContextProvider,
    )

    def __init__(self, module_name: str, is_package: bool, canonical: set[str], exports: dict, defining: set[str]):
        super().__init__()
        self.package = module_name if is_package else module_name.rpartition(".")[0]
        self.module_name = module_name
        self.canonical = canonical
        self.exports = exports
        self.defining = defining
        self.stars: list[str] = []
        self.unbound: set[str] = set()
        self.found: set[tuple[str, int, int]] = set()

    def _add(self, rule: str, node: cst.CSTNode) -> None:
        start = self.get_metadata(PositionProvider, node).start
        self.found.add((rule, start.line, start.column + 1))

    def _absolute(self, dots: int, dotted: str) -> str | None:
        if not dots:
            return dotted
        parts = self.package.split(".") if self.package else []
        if dots - 1 > len(parts):
            return None
        base = parts[: len(parts) - (dots - 1)]
        return ".".join([*base, dotted] if dotted else base) or None

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        dotted = get_full_name_for_node(node.module) if node.module else ""
        module = self._absolute(len(node.relative), dotted or "")
        if module is None:
            return False
        if isinstance(node.names, cst.ImportStar):
            self.stars.append(module)
            return False
        for alias in node.names:
            if f"{module}.{alias.evaluated_name}" in self.canonical:
                self._add(IMPORT_RULE, alias)
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._definition(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._definition(node)

    def _definition(self, node: cst.FunctionDef | cst.ClassDef) -> None:
        scope = self.get_metadata(ScopeProvider, node)
        if node.name.value in self.defining and isinstance(scope, cst.metadata.GlobalScope):
            self._add(CALL_RULE, node.name)

    def visit_Name(self, node: cst.Name) -> None:
        self._use(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._use(node)

    def _use(self, node: cst.Name | cst.Attribute) -> None:
        if self.get_metadata(ExpressionContextProvider, node, None) is not ExpressionContext.LOAD:
            return
        parent = self.get_metadata(ParentNodeProvider, node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        if not self._denotes_legacy(node):
            return
        target = parent if isinstance(parent, cst.Call) and parent.func is node else node
        self._add(CALL_RULE, target)

    def _denotes_legacy(self, node: cst.Name | cst.Attribute) -> bool:
        for qualified in self.get_metadata(QualifiedNameProvider, node, set()):
            name = qualified.name
            if name.startswith("."):
                dots = len(name) - len(name.lstrip("."))
                name = self._absolute(dots, name.lstrip(".")) or ""
            elif qualified.source is QualifiedNameSource.LOCAL and name in self.defining:
                name = f"{self._defining_module()}.{name}"
            if name in self.canonical:
                return True
        if isinstance(node, cst.Name):
            scope = self.get_metadata(ScopeProvider, node, None)
            if scope is not None and not scope[node.value]:
                # A deprecated name nothing binds anywhere in the module: a bare call, a NameError today.
                return node.value in self.unbound or any(node.value in self.exports.get(module, ()) for module in self.stars)
        return False

    def _defining_module(self) -> str:
        for qualified in self.canonical:
            module, _, _ = qualified.rpartition(".")
            if self.module_name == module or self.module_name.endswith("." + module):
                return module
        return self.module_name
