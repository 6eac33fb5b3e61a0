"""The parameters of callables defined in the project (or in the shipped runtime), found on demand.

The rewrite check asks, for each call a rewrite inserts, what the callee's own definition
requires: `UserExecutionContext.from_request_supervisor` of the codebase itself, not the
seeds' idea of it. Definitions are read from source, never imported, so looking one up runs
none of the project's code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec

from migrator.analysis.agents import absolute_module
from migrator.sourcefile import DecodeError, SourceText

# How many re-exports (`from .context import UserExecutionContext`) a look-up follows.
_MAX_HOPS = 8
_SHIPPED = Path(__file__).resolve().parents[2]  # the folder that holds the `migrator` package


class Signature(msgspec.Struct, frozen=True):
    """What a call of one callable must and may pass."""

    qualname: str
    positional: tuple[str, ...]
    positional_only: frozenset[str]
    keyword_only: tuple[str, ...]
    required: frozenset[str]
    var_positional: bool
    var_keyword: bool

    def problems(self, call: ast.Call) -> list[str]:
        """Why `call` would fail to bind to this signature (nothing when it binds or cannot be told)."""
        name = self.qualname.rpartition(".")[2] if not self.qualname.endswith(".__init__") else self.qualname.split(".")[-2]
        if any(isinstance(arg, ast.Starred) for arg in call.args):
            return []
        found: list[str] = []
        given = len(call.args)
        if given > len(self.positional) and not self.var_positional:
            found.append(f"{name}() takes {len(self.positional)} positional argument(s) but the call passes {given}")
        filled = set(self.positional[:given])
        splat = False
        for keyword in call.keywords:
            if keyword.arg is None:
                splat = True
                continue
            if keyword.arg in self.positional_only or (
                keyword.arg not in self.positional and keyword.arg not in self.keyword_only and not self.var_keyword
            ):
                found.append(f"{name}() has no parameter {keyword.arg!r}")
            elif keyword.arg in filled:
                found.append(f"{name}() gets {keyword.arg!r} twice")
            filled.add(keyword.arg)
        if not splat:
            missing = sorted(self.required - filled, key=self._order)
            if missing:
                found.append(f"{name}() requires {', '.join(repr(m) for m in missing)}, which the call does not pass")
        return found

    def _order(self, name: str) -> int:
        ordered = (*self.positional, *self.keyword_only)
        return ordered.index(name) if name in ordered else len(ordered)


class SignatureIndex:
    """Finds definitions by qualified name in the project tree, then in the shipped runtime.

    One index serves one run; what it parsed is kept for the rest of the run.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._modules: dict[str, ast.Module | None] = {}
        self._packages: set[str] = set()
        self._found: dict[str, Signature | None] = {}

    def __getstate__(self) -> dict[str, object]:
        return {"root": self.root}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["root"])  # type: ignore[misc, arg-type]

    def lookup(self, qualname: str) -> Signature | None:
        """The signature of the callable `qualname` names, or None when its definition is not found."""
        if qualname not in self._found:
            self._found[qualname] = self._resolve(qualname, _MAX_HOPS)
        return self._found[qualname]

    def _resolve(self, qualname: str, hops: int) -> Signature | None:
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            tree = self._module(module)
            if tree is None:
                continue
            return self._in_module(tree, module, parts[cut:], qualname, hops)
        return None

    def _in_module(self, tree: ast.Module, module: str, path: list[str], qualname: str, hops: int) -> Signature | None:
        head, rest = path[0], path[1:]
        definition = _binding_statement(tree, head)
        if isinstance(definition, (ast.Import, ast.ImportFrom)):
            if hops == 0:
                return None
            target = _import_target(definition, head, module, module in self._packages)
            return self._resolve(".".join([target, *rest]), hops - 1) if target else None
        if isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)) and not rest:
            return _from_function(definition, qualname, drop_first=False)
        if isinstance(definition, ast.ClassDef):
            return _in_class(definition, rest, qualname)
        return None

    def _module(self, module: str) -> ast.Module | None:
        if module not in self._modules:
            path, tree = _parse_first(self._candidates(module))
            if path is not None and path.name == "__init__.py":
                self._packages.add(module)
            self._modules[module] = tree
        return self._modules[module]

    def _candidates(self, module: str) -> list[Path]:
        relative = Path(*module.split("."))
        bases = [self.root]
        if module == "migrator" or module.startswith("migrator."):
            bases.append(_SHIPPED)
        return [base / relative.with_suffix(".py") for base in bases] + [base / relative / "__init__.py" for base in bases]


def _parse_first(paths: list[Path]) -> tuple[Path | None, ast.Module | None]:
    """The first of `paths` that exists, and its tree (None when it does not parse)."""
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        try:
            return path, ast.parse(SourceText.decode(raw).text)
        except (DecodeError, SyntaxError, ValueError):
            return path, None
    return None, None


def _binding_statement(tree: ast.Module, name: str) -> ast.stmt | None:
    """The last top-level statement that binds `name` (a definition or an import)."""
    found: ast.stmt | None = None
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and stmt.name == name or isinstance(stmt, (ast.Import, ast.ImportFrom)) and any(
            (alias.asname or alias.name.partition(".")[0]) == name for alias in stmt.names
        ):
            found = stmt
    return found


def _import_target(stmt: ast.Import | ast.ImportFrom, name: str, module: str, is_package: bool) -> str | None:
    """The qualified name an import in `module` binds `name` to."""
    for alias in stmt.names:
        if (alias.asname or alias.name.partition(".")[0]) != name:
            continue
        if isinstance(stmt, ast.Import):
            return alias.name if alias.asname else alias.name.partition(".")[0]
        base = absolute_module(stmt, module, is_package)
        return f"{base}.{alias.name}" if base else alias.name
    return None


def _in_class(cls: ast.ClassDef, rest: list[str], qualname: str) -> Signature | None:
    if len(rest) > 1:
        return None
    wanted = rest[0] if rest else "__init__"
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == wanted:
            decorators = {_decorator_name(d) for d in stmt.decorator_list}
            drop_first = "staticmethod" not in decorators
            name = qualname if rest else f"{qualname}.__init__"
            return _from_function(stmt, name, drop_first=drop_first)
    if not rest and any(_decorator_name(d) == "dataclass" for d in cls.decorator_list):
        return _from_dataclass(cls, qualname)
    return None


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _from_function(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, *, drop_first: bool) -> Signature:
    args = node.args
    ordered = [*args.posonlyargs, *args.args]
    defaults_from = len(ordered) - len(args.defaults)
    required = {a.arg for i, a in enumerate(ordered) if i < defaults_from}
    required |= {a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is None}
    posonly = {a.arg for a in args.posonlyargs}
    if drop_first and ordered:
        first = ordered.pop(0).arg
        required.discard(first)
        posonly.discard(first)
    return Signature(
        qualname=qualname,
        positional=tuple(a.arg for a in ordered),
        positional_only=frozenset(posonly),
        keyword_only=tuple(a.arg for a in args.kwonlyargs),
        required=frozenset(required),
        var_positional=args.vararg is not None,
        var_keyword=args.kwarg is not None,
    )


def _from_dataclass(cls: ast.ClassDef, qualname: str) -> Signature:
    fields: list[str] = []
    required: set[str] = set()
    for stmt in cls.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        if "ClassVar" in ast.unparse(stmt.annotation):
            continue
        fields.append(stmt.target.id)
        if stmt.value is None or _field_without_default(stmt.value):
            required.add(stmt.target.id)
    return Signature(
        qualname=f"{qualname}.__init__",
        positional=tuple(fields),
        positional_only=frozenset(),
        keyword_only=(),
        required=frozenset(required),
        var_positional=False,
        var_keyword=False,
    )


def _field_without_default(value: ast.expr) -> bool:
    if not (isinstance(value, ast.Call) and _decorator_name(value) == "field"):
        return False
    return not any(k.arg in ("default", "default_factory") for k in value.keywords)
