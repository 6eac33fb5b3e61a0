"""The facts pass over one file: legacy definitions, the context type, context fixtures and helpers."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

import msgspec

from migrator._frozen import FrozenDict
from migrator.analysis.agents import module_name_of, top_level
from migrator.analysis.facts import (
    CONTEXT_TYPE,
    FRESH,
    PER_USER,
    RAISES,
    SHARED,
    Constructor,
    ContextSource,
    ContextType,
)

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_CACHES = frozenset({"cache", "lru_cache", "cached_property"})
_FIXTURES = frozenset({"fixture"})
_PLACEHOLDER_WORDS = ("PLACEHOLDER", "INVALID", "FORBIDDEN", "RESERVED", "REJECT", "BLOCKED", "DUMMY")


class FileFacts(msgspec.Struct, frozen=True):
    """What one file says: its legacy definitions, the context type if defined here, its sources."""

    module: str
    relpath: str
    legacy: FrozenDict = FrozenDict()  # name -> (sharing, evidence)
    bindings: frozenset[str] = frozenset()
    context: ContextType | None = None
    sources: tuple[ContextSource, ...] = ()


def needs_parse(text: str, legacy_names: frozenset[str]) -> bool:
    """Whether a file can hold more than import bindings for the facts: a top-level definition of
    a legacy name, or the context type's definition or a function returning a context."""
    if any(needle in text for needle in _CONTEXT_NEEDLES):
        return True
    return any(_defined_at_top_level(text, name) for name in legacy_names if name in text)


def _defined_at_top_level(text: str, name: str) -> bool:
    """Whether a line starts by defining `name` (`def name`, `class name`, `name =`, `name:`).

    Each occurrence of the name is checked from the start of its line: a pattern anchored with
    `^` under MULTILINE would be tried at every position of the text.
    """
    pattern = re.compile(rf"(?:async[ \t]+def|def|class)[ \t]+{re.escape(name)}\b|{re.escape(name)}[ \t]*[:=]")
    at = text.find(name)
    while at != -1:
        if pattern.match(text, text.rfind("\n", 0, at) + 1):
            return True
        at = text.find(name, at + 1)
    return False


def bindings_of_text(text: str, module: str, relpath: str, legacy_names: frozenset[str]) -> FileFacts:
    """The facts of a file that needs no parse: which legacy names it imports at top level."""
    bound = set()
    for name in legacy_names:
        if name in text and re.search(
            rf"^(?:from[ \t]+\S+[ \t]+import[ \t]+(?:\([^)]*|[^\n]*)|import[ \t]+[^\n]*)\b{re.escape(name)}\b", text, re.MULTILINE
        ):
            bound.add(name)
    return FileFacts(module=module, relpath=relpath, bindings=frozenset(bound))


# What a file that defines the context type, or a function returning one, contains.
_CONTEXT_NEEDLES = (
    f"class {CONTEXT_TYPE}",
    f"-> {CONTEXT_TYPE}",
    f"-> '{CONTEXT_TYPE}'",
    f'-> "{CONTEXT_TYPE}"',
    f"return {CONTEXT_TYPE}",
)


def scan_facts(text: str, relpath: str, legacy_names: frozenset[str], tree: ast.Module | None = None) -> FileFacts:
    if tree is None:
        tree = ast.parse(text)
    module = module_name_of(relpath)
    top = list(top_level(tree.body))
    functions = {n.name: n for n in top if isinstance(n, _FUNCTIONS)}
    classes = {n.name: n for n in top if isinstance(n, ast.ClassDef)}
    globals_ = _assigned_globals(top)
    legacy: dict[str, tuple[str, str]] = {}
    for name in legacy_names:
        if name in globals_:
            legacy[name] = (SHARED, f"a module-level instance ({name} = ...)")
        elif name in functions:
            legacy[name] = _function_sharing(functions[name], functions, classes, globals_, set())
        elif name in classes:
            legacy[name] = _class_sharing(classes[name])
    bound = _bound_names(top) & legacy_names
    context = _context_type(tree, classes[CONTEXT_TYPE]) if CONTEXT_TYPE in classes else None
    return FileFacts(
        module=module,
        relpath=relpath,
        legacy=FrozenDict(legacy),
        bindings=frozenset(bound),
        context=context,
        # A function returns a context only by naming its type: most files are not walked for one.
        sources=tuple(_sources(functions.values(), module, relpath)) if CONTEXT_TYPE in text else (),
    )


def _assigned_globals(top: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in top:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _bound_names(top: list[ast.stmt]) -> set[str]:
    names = _assigned_globals(top)
    for stmt in top:
        if isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).partition(".")[0] for a in stmt.names if a.name != "*"}
    return names


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> set[str]:
    found = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            found.add(target.attr)
        elif isinstance(target, ast.Name):
            found.add(target.id)
    return found


def _own_nodes(function: ast.AST) -> Iterable[ast.AST]:
    """The nodes of a function body, without those of nested functions and classes."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*_FUNCTIONS, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _body_without_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:]
    return body


def _function_sharing(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    functions: dict,
    classes: dict,
    globals_: set[str],
    seen: set[str],
) -> tuple[str, str]:
    """What calling a module-level function hands out, judged from its own definition."""
    seen = seen | {node.name}
    cached = _decorator_names(node) & _CACHES
    if cached:
        return SHARED, f"{node.name}() caches its result with functools.{sorted(cached)[0]}"
    body = _body_without_docstring(node)
    if body and isinstance(body[-1], ast.Raise):
        return RAISES, f"{node.name}() raises: every call is a run-time error today"
    own = list(_own_nodes(node))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
        return FRESH, f"{node.name}() is a generator: each use gets a fresh value (a dependency)"
    declared = {name for n in own if isinstance(n, ast.Global) for name in n.names}
    if declared:
        return SHARED, f"{node.name}() keeps its result in the module global {sorted(declared)[0]}"
    for ret in (n for n in own if isinstance(n, ast.Return) and n.value is not None):
        root = _root_name(ret.value)
        if root is not None and (root in globals_ or root in classes) and not isinstance(ret.value, ast.Call):
            return SHARED, f"{node.name}() returns the module-level {ast.unparse(ret.value)}"
        if isinstance(ret.value, ast.Call) and isinstance(ret.value.func, ast.Name):
            callee = functions.get(ret.value.func.id)
            if callee is not None and callee.name not in seen:
                sharing, evidence = _function_sharing(callee, functions, classes, globals_, seen)
                if sharing == SHARED:
                    return SHARED, f"{node.name}() returns {callee.name}(), which is shared: {evidence}"
    return FRESH, f"{node.name}() builds a new value on every call"


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _class_sharing(node: ast.ClassDef) -> tuple[str, str]:
    """Whether a class keeps one instance for the process, or gives a new one per construction."""
    for stmt in node.body:
        if isinstance(stmt, _FUNCTIONS) and stmt.name == "__new__":
            return SHARED, f"{node.name}.__new__ returns the one instance"
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "_instance" for t in targets):
            return SHARED, f"{node.name} keeps its one instance in {node.name}._instance"
    for method in (s for s in node.body if isinstance(s, _FUNCTIONS)):
        params = method.args.posonlyargs + method.args.args
        if not params or "staticmethod" in _decorator_names(method):
            continue
        self_name = params[0].arg
        for inner in _own_nodes(method):
            if isinstance(inner, ast.Assign) and isinstance(inner.value, ast.Name) and inner.value.id == self_name:
                for target in inner.targets:
                    if _root_name(target) != self_name:
                        return SHARED, f"{node.name} publishes every instance process-wide ({ast.unparse(target)} = {self_name})"
    return PER_USER, f"{node.name} keeps no process-wide instance: each construction is a new, separate object"


def _context_type(tree: ast.Module, node: ast.ClassDef) -> ContextType:
    """The context class's constructors and the placeholder literals its module rejects."""
    constructors = {"": _class_constructor(node)}
    for stmt in node.body:
        if isinstance(stmt, _FUNCTIONS) and "classmethod" in _decorator_names(stmt):
            constructors[stmt.name] = _signature(stmt.name, stmt.args, skip_first=True)
    values, prefixes = placeholder_literals(tree)
    return ContextType(
        constructors=FrozenDict(constructors),
        placeholder_values=values,
        placeholder_prefixes=prefixes,
    )


def placeholder_literals(tree: ast.Module) -> tuple[frozenset[str], tuple[str, ...]]:
    """The identities a module's validator rejects, as far as its literals tell: sets of
    placeholder values, and prefixes (named so, or passed to `startswith`)."""
    values: set[str] = set()
    prefixes: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = " ".join(t.id for t in targets if isinstance(t, ast.Name)).upper()
            literals = _string_literals(stmt.value)
            if not literals or "TEST" in names:
                continue
            if "PREFIX" in names:
                prefixes |= set(literals)
            elif any(word in names for word in _PLACEHOLDER_WORDS):
                values |= set(literals)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if isinstance(call.func, ast.Attribute) and call.func.attr == "startswith" and call.args:
            literals = _string_literals(call.args[0])
            if literals and not any(lit.lower().startswith("test") for lit in literals):
                prefixes |= set(literals)
    return frozenset(v.lower() for v in values), tuple(sorted(p.lower() for p in prefixes))


def _string_literals(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Name) and node.func.id in ("frozenset", "set", "tuple"):
        node = node.args[0]
    if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        found = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        return tuple(found) if len(found) == len(node.elts) else ()
    return ()


def _class_constructor(node: ast.ClassDef) -> Constructor:
    init = next((s for s in node.body if isinstance(s, _FUNCTIONS) and s.name == "__init__"), None)
    if init is not None:
        return _signature("", init.args, skip_first=True)
    required, accepted = [], []
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if "ClassVar" in ast.unparse(stmt.annotation):
                continue
            accepted.append(stmt.target.id)
            if stmt.value is None:
                required.append(stmt.target.id)
    return Constructor("", tuple(required), tuple(accepted))


def _signature(name: str, args: ast.arguments, *, skip_first: bool) -> Constructor:
    positional = [*args.posonlyargs, *args.args][1 if skip_first else 0 :]
    defaults = len(args.defaults)
    required = [a.arg for a in positional[: len(positional) - defaults]]
    required += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    accepted = [a.arg for a in (*positional, *args.kwonlyargs)]
    return Constructor(name, tuple(required), tuple(accepted), open_keywords=args.kwarg is not None)


def _sources(functions: Iterable[ast.FunctionDef | ast.AsyncFunctionDef], module: str, relpath: str) -> Iterable[ContextSource]:
    """Fixtures and helpers that return a user context, by their annotation or by their body."""
    for node in functions:
        if not _returns_context(node):
            continue
        fixture = bool(_decorator_names(node) & _FIXTURES)
        required = () if fixture else _signature(node.name, node.args, skip_first=False).required
        yield ContextSource(node.name, module, relpath, "fixture" if fixture else "helper", required)


def _returns_context(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if node.returns is not None and _names_context(node.returns):
        return True
    for ret in (n for n in _own_nodes(node) if isinstance(n, ast.Return) and n.value is not None):
        if isinstance(ret.value, ast.Call) and _names_context(ret.value.func):
            return True
    return False


def _names_context(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rpartition(".")[2] == CONTEXT_TYPE
    while isinstance(node, ast.Attribute):
        if node.attr == CONTEXT_TYPE:
            return True
        node = node.value
    return isinstance(node, ast.Name) and node.id == CONTEXT_TYPE
