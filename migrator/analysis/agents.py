"""The first pass: which agent classes the tree defines and under which names it registers them.

Agent classes are the `BaseAgent` subclasses (through bases defined anywhere in the tree) and
the classes registered on a registry. Registration names come from
`registry.register("triage", TriageSubAgent(...))` and `register("triage", TriageSubAgent, ...)`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

import msgspec

BASE_AGENT = "BaseAgent"
DEFAULTS_METHOD = "register_default_agents"
# What a file must contain to hold an agent class or a named registration.
REGISTRATION = re.compile(rb"\.register\(\s*[\"']")


class AgentClass(msgspec.Struct, frozen=True):
    """An agent class: where it is defined, its registered name, and its docstring's first line."""

    qualname: str
    name: str | None
    description: str


class FileAgents(msgspec.Struct, frozen=True):
    """What one file contributes to the first pass."""

    classes: tuple[tuple[str, tuple[str, ...], str], ...] = ()  # qualname, base qualnames, description
    registrations: tuple[tuple[str, str, bool], ...] = ()  # name, class qualname, inside register_default_agents
    # A package's `from .module import Name`: (the package's own qualified name for it, the target's).
    reexports: tuple[tuple[str, str], ...] = ()


def module_name_of(relpath: str) -> str:
    """The dotted module name of a file path relative to the root (`src/` layouts included)."""
    stem = relpath[:-3] if relpath.endswith(".py") else relpath
    if stem == "__init__":
        return ""
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    if stem.startswith("src/"):
        stem = stem[len("src/") :]
    return stem.replace("/", ".")


_TEST_PARTS = frozenset({"tests", "test", "test_framework", "conftest"})


def is_test_module(module: str) -> bool:
    """Whether a dotted module name is test code: a `tests` package, a `test_*` or `*_test` module."""
    parts = module.split(".")
    return any(p in _TEST_PARTS or p.startswith("test_") or p.endswith("_test") for p in parts)


def absolute_module(node: ast.ImportFrom, module_name: str, is_package: bool) -> str | None:
    """The absolute module a (possibly relative) `from ... import` names."""
    if not node.level:
        return node.module
    package = module_name if is_package else module_name.rpartition(".")[0]
    parts = package.split(".") if package else []
    if node.level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (node.level - 1)]
    if node.module:
        base.append(node.module)
    return ".".join(base) or None


def scan_file(text: str, relpath: str, tree: ast.Module | None = None) -> FileAgents:
    """Collect the classes and registrations of one file (module level and class bodies).

    `tree` is the stdlib parse of `text`, when the caller already has it.
    """
    if tree is None:
        tree = ast.parse(text)
    module = module_name_of(relpath)
    names = import_table(tree, module, relpath.endswith("__init__.py"))
    classes = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = f"{module}.{node.name}"
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = tuple(q for q in (qualify(b, names) for b in node.bases) if q)
            doc = (ast.get_docstring(node) or "").strip().split("\n", 1)[0].strip()
            classes.append((f"{module}.{node.name}", bases, doc))
    registrations = []
    calls = _register_calls(tree) if REGISTRATION.search(text.encode("utf-8", "replace")) else ()
    for function, call in sorted(calls, key=lambda item: (item[1].lineno, item[1].col_offset)):
        if len(call.args) < 2 or not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
            continue
        target = call.args[1].func if isinstance(call.args[1], ast.Call) else call.args[1]
        qualname = qualify(target, names)
        if qualname:
            registrations.append((call.args[0].value, qualname, function == DEFAULTS_METHOD))
    reexports = _package_reexports(tree, module) if relpath.rpartition("/")[2] == "__init__.py" else ()
    return FileAgents(tuple(classes), tuple(registrations), reexports)


def _package_reexports(tree: ast.Module, package: str) -> tuple[tuple[str, str], ...]:
    """What a package's `__init__.py` imports from elsewhere by name, as it re-exports them."""
    found = []
    for node in top_level(tree.body):
        if isinstance(node, ast.ImportFrom):
            source = absolute_module(node, package, True)
            for alias in node.names:
                if source and alias.name != "*":
                    local = f"{package}.{alias.asname or alias.name}" if package else alias.asname or alias.name
                    found.append((local, f"{source}.{alias.name}"))
    return tuple(found)


def reexported(files: Iterable[FileAgents], targets: Iterable[str]) -> dict[str, str]:
    """The other qualified names packages give `targets` (`pkg.Name` for `pkg.module.Name`),
    followed through packages that re-export a re-export."""
    pairs = [pair for item in files for pair in item.reexports]
    known = {target: target for target in targets}
    aliases: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for local, target in pairs:
            canonical = known.get(target)
            if canonical is not None and local not in known:
                known[local] = aliases[local] = canonical
                changed = True
    return aliases


def resolve_agents(files: Iterable[FileAgents]) -> dict[str, AgentClass]:
    """Agent classes across the tree: BaseAgent subclasses (transitively) and registered classes."""
    bases: dict[str, tuple[str, ...]] = {}
    docs: dict[str, str] = {}
    names: dict[str, str] = {}
    registered: set[str] = set()
    for item in files:
        for qualname, class_bases, doc in item.classes:
            bases[qualname] = class_bases
            docs[qualname] = doc
        for name, qualname, _ in item.registrations:
            names.setdefault(qualname, name)
            registered.add(qualname)

    def is_agent(qualname: str, depth: int = 0) -> bool:
        if depth > 20:
            return False
        for base in bases.get(qualname, ()):
            if base.rpartition(".")[2] == BASE_AGENT or is_agent(base, depth + 1):
                return True
        return False

    # Registered classes count only when the tree defines them: precision over recall.
    agents = {q for q in bases if is_agent(q) and q.rpartition(".")[2] != BASE_AGENT} | (registered & set(bases))
    return {q: AgentClass(q, names.get(q), docs.get(q, "")) for q in sorted(agents)}


def import_table(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """The names the module's top-level imports bind (also inside top-level if/try blocks)."""
    names: dict[str, str] = {}
    for node in top_level(tree.body):
        if isinstance(node, ast.ImportFrom):
            source = absolute_module(node, module, is_package)
            for alias in node.names:
                if source and alias.name != "*":
                    names[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.partition(".")[0]] = alias.name if alias.asname else alias.name.partition(".")[0]
    return names


def top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try)):
            for block in (stmt.body, stmt.orelse, getattr(stmt, "finalbody", []), *(h.body for h in getattr(stmt, "handlers", []))):
                yield from top_level(block)


def qualify(node: ast.expr, names: dict[str, str], *, imported_only: bool = False) -> str | None:
    """The qualified name a dotted expression (`mod.Class.method`) stands for, its head resolved
    through `names` (an import table); with `imported_only`, None when the head is not imported."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or (imported_only and node.id not in names):
        return None
    base = names.get(node.id, node.id)
    return ".".join([base, *reversed(attrs)])


def _register_calls(tree: ast.Module) -> Iterable[tuple[str | None, ast.Call]]:
    """Calls of `<anything>.register(...)`, with the name of the function they sit in."""
    stack: list[tuple[ast.AST, str | None]] = [(tree, None)]
    while stack:
        node, function = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr == "register":
                yield function, child
            stack.append((child, inner))
