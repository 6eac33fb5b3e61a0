"""The check every rewrite passes before it is written: it must not make the module's names worse.

The module before and after the rewrite are compared with pyflakes, keyed by message kind and
name (not line, which a rewrite shifts): a rewrite that adds an undefined name, binds a name
twice or leaves an import unused is refused. Calls the rewrite adds are bound against the
callee's own definition, where the project (or the shipped runtime) holds it. What the file
already had wrong is not the rewrite's fault and does not count against it.

Only what pyflakes says of the names on the lines the rewrite changed is compared, from the
part of each module those messages depend on (`migrator.name_scope`): what it says of any
other name is the same before and after.
"""

from __future__ import annotations

import ast
import textwrap
from collections import Counter
from collections.abc import Iterator, Sequence

import msgspec

from migrator.analysis.agents import import_table, qualify
from migrator.analysis.model import Pos
from migrator.analysis.signatures import SignatureIndex
from migrator.name_scope import WHOLE, Change, relevant_part
from migrator.transforms._import_uses import guarded_imports
from migrator.transforms.edits import (
    AddModuleCode,
    Edit,
    InsertStatement,
    RemoveImport,
    ReplaceCall,
    ReplaceExpression,
    ReplaceStatement,
)

# pyflakes messages a rewrite must never add, and how a refusal names them.
_REFUSED = {
    "UndefinedName": "new undefined name",
    "UndefinedExport": "new undefined name in __all__",
    "UndefinedLocal": "new use of a local before its assignment",
    "RedefinedWhileUnused": "name bound twice",
    "ImportShadowedByLoopVar": "import shadowed by a loop variable",
    "UnusedImport": "new unused import",
    "ImportStarUsage": "new name from a star import",
}



class Names(msgspec.Struct, frozen=True):
    """What pyflakes says of one module: refusable messages by kind and name, and unused imports."""

    counts: Counter[tuple[str, str]]
    unused_imports: tuple[tuple[int, str], ...]  # (line, pyflakes' label such as 'a.b as c')


def names_of(tree: ast.Module, filename: str, text: str = "", change: Change = WHOLE) -> Names:
    """What pyflakes says of the module `tree` (parsed from `text`) about the names `change` concerns."""
    from pyflakes.checker import Checker

    if change.words is not None:
        tree = relevant_part(tree, text, change.words)
    counts: Counter[tuple[str, str]] = Counter()
    unused: list[tuple[int, str]] = []
    for message in Checker(tree, filename=filename, withDoctest=False).messages:
        kind = type(message).__name__
        if kind not in _REFUSED:
            continue  # some messages have no name at all (an f-string without placeholders)
        args = message.message_args
        # UndefinedLocal of a builtin keeps its name alone, not in a tuple.
        name = args if isinstance(args, str) else str(args[0])
        # A star import that no longer serves an undefined name is not shown to be unused.
        if (kind == "UnusedImport" and name.endswith("*")) or not change.concerns(name):
            continue
        counts[(kind, name)] += 1
        if kind == "UnusedImport":
            unused.append((message.lineno, name))
    return Names(counts, tuple(unused))


def name_problems(before: Names, after: Names) -> list[str]:
    """What pyflakes says of `after` and not (as often) of `before`, one line per name."""
    return [
        f"{_REFUSED[kind]} {name!r}"
        for (kind, name), count in sorted(after.counts.items())
        if count > before.counts[(kind, name)]
    ]


def newly_unused_imports(before: Names, after: Names, tree: ast.Module, lines: list[str]) -> list[RemoveImport]:
    """Removals of the imports a rewrite left unused, which were used before it.

    Only names unused nowhere before count (with several same-named imports, which one became
    unused cannot be told), and never the `try:` half of a `try/except ImportError`.
    Positions are LibCST's: line and column in characters.
    """
    new = {label for (kind, label), count in after.counts.items() if kind == "UnusedImport" and not before.counts[(kind, label)]}
    wanted = {(line, label) for line, label in after.unused_imports if label in new}
    if not wanted:
        return []
    removals = []
    guarded = guarded_imports(tree)
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in guarded:
            continue
        for alias in node.names:
            if (node.lineno, _label(node, alias)) in wanted:
                column = len(lines[node.lineno - 1].encode("utf-8")[: node.col_offset].decode("utf-8", "replace"))
                removals.append(RemoveImport(Pos(node.lineno, column), alias.name))
    return removals


def _label(node: ast.Import | ast.ImportFrom, alias: ast.alias) -> str:
    """An import's name as pyflakes writes it in its messages."""
    if isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        full = f"{module}{alias.name}" if module.endswith(".") or not module else f"{module}.{alias.name}"
    else:
        full = alias.name
    local = alias.asname or alias.name
    return f"{full} as {local}" if alias.asname and full.rpartition(".")[2] != local else full


def call_problems(
    edits: Sequence[Edit], after: ast.Module, module_name: str, is_package: bool, signatures: SignatureIndex
) -> list[str]:
    """Calls the edits insert that would not bind to their callee's definition.

    The callee is resolved through the imports of the rewritten module; callees whose
    definition is neither in the tree nor in the shipped runtime are not judged.
    """
    inserted = [(line, call) for line, code in _inserted_code(edits) for call in _calls_in(code)]
    if not inserted:
        return []
    imported = import_table(after, module_name, is_package)
    problems: list[str] = []
    for line, call in inserted:
        callee = qualify(call.func, imported, imported_only=True)
        signature = signatures.lookup(callee) if callee else None
        if signature is not None:
            where = f"line {line}: " if line else ""
            problems.extend(where + problem for problem in signature.problems(call))
    return problems


def _inserted_code(edits: Sequence[Edit]) -> Iterator[tuple[int | None, str]]:
    """The code each edit puts into the module, with the line it is anchored on."""
    for edit in edits:
        if isinstance(edit, ReplaceCall):
            yield edit.anchor.line, f"{edit.callee}({edit.args})"
        elif isinstance(edit, (ReplaceExpression, InsertStatement, ReplaceStatement)):
            yield edit.anchor.line, edit.code
        elif isinstance(edit, AddModuleCode):
            yield None, edit.code


def _calls_in(code: str) -> list[ast.Call]:
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
