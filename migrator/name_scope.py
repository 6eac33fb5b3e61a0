"""Which names a rewrite can have made worse, and which part of a module pyflakes needs to tell.

Pyflakes' verdict on a name depends only on the statements that hold it, on where those
statements stand (in which function, class, branch or comprehension), and on how the names they
use are bound. A rewrite leaves most lines as they were, so the name check compares only what
pyflakes says of the names on the lines it changed, added or removed (`Change`), and gives
pyflakes only the part of each module those messages can depend on (`relevant_part`).

A line left as it was can still stand somewhere else: removing a `def` or `else:` line moves
the lines below it into the block above. `Change.between` compares where each kept line
stands before and after, and counts the names of every line that moved as changed too.
Imports that change what pyflakes says of any name (a star import, a `__future__` import) on
a changed line make the check compare whole modules.
"""

from __future__ import annotations

import ast
import bisect
import keyword
import re
from collections.abc import Callable, Iterator, Sequence

import msgspec

from migrator.analysis.positions import any_between, first_line
from migrator.transforms._kept_lines import line_opcodes, split_lines

_WORD = re.compile(r"[^\W\d]\w*")
_KEYWORDS = frozenset(keyword.kwlist)  # never a name; a soft keyword (`match`, `type`, `_`) can be
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_GLOBAL_EFFECT = re.compile(r"\bimport\s*\*|\b__future__\b")
# Names whose binding changes how pyflakes reads other names (a string in `cast("T", v)`,
# `Optional["T"]` or `Literal["a"]` is a name or not; the strings of `__all__` use imports):
# a changed line that holds one of them, or a name imported from `typing`, makes the check
# compare whole modules.
_TYPING_MODULES = frozenset(("typing", "typing_extensions"))
_READ_BY_BINDING = _TYPING_MODULES | frozenset(
    ("cast", "assert_type", "TypeVar", "ParamSpec", "TypeVarTuple", "NewType", "TypedDict", "NamedTuple",
     "TypeAlias", "overload", "Literal", "Annotated", "__all__")
)
_TYPING_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+typing(?:_extensions)?[ \t]+import\b(.*)|import[ \t]+typing(?:_extensions)?[ \t]+as[ \t]+(\w+))",
    re.MULTILINE,
)
_EXPRESSION_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class Change(msgspec.Struct, frozen=True):
    """The names a rewrite can have made worse: the identifiers on the lines it changed, added,
    removed or moved to another block. `words` is None when whole modules must be compared."""

    words: frozenset[str] | None
    # The lines of the rewritten text the rewrite changed or added, and those next to a change
    # (1-based); None when not known.
    new_lines: frozenset[int] | None = None

    @classmethod
    def between(
        cls,
        before_text: str,
        after_text: str,
        before: ast.Module,
        after: ast.Module,
        opcodes: Sequence[tuple[str, int, int, int, int]] | None = None,
    ) -> Change:
        """The change from `before_text` to `after_text`; `opcodes` are their `line_opcodes`,
        when the caller has them."""
        old, new = split_lines(before_text), split_lines(after_text)
        to_new: dict[int, int] = {}
        changed: list[str] = []
        touched_old: list[int] = []
        touched_new: list[int] = []
        for tag, i1, i2, j1, j2 in opcodes if opcodes is not None else line_opcodes(old, new):
            if tag == "equal":
                to_new.update(zip(range(i1 + 1, i2 + 1), range(j1 + 1, j2 + 1)))
                continue
            changed.extend(old[i1:i2])
            changed.extend(new[j1:j2])
            # The lines next to a change too: what is removed or added there can re-nest them.
            touched_old.extend(range(i1, i2 + 2))
            touched_new.extend(range(j1, j2 + 2))
        text = "".join(changed)
        new_lines = frozenset(touched_new)
        if _GLOBAL_EFFECT.search(text):
            return cls(None, new_lines)
        words = set(_WORD.findall(text))
        kept_new = set(to_new.values())
        places_old = _Places(before, lambda line: to_new.get(line))
        places_new = _Places(after, lambda line: line if line in kept_new else None)
        near_new = places_new.lines_of(touched_new)
        lines = places_old.lines_of(touched_old) | {i for i, j in to_new.items() if j in near_new}
        for line in sorted(lines):
            if line in to_new and places_old.place(line) != places_new.place(to_new[line]):
                words.update(_WORD.findall(old[line - 1]))
        words -= _KEYWORDS
        if not words.isdisjoint(_READ_BY_BINDING) or not words.isdisjoint(_typing_names(before_text, before)) or (
            not words.isdisjoint(_typing_names(after_text, after))
        ):
            return cls(None, new_lines)
        return cls(frozenset(words), new_lines)

    def touched_part(self, after: ast.Module) -> ast.Module:
        """The rewritten tree `after` without the top-level functions and classes that hold none
        of the lines the rewrite touched: what the compiler must see of it.

        What the compiler rejects in a function or class (`await` outside an async function, a
        misplaced `nonlocal`, `return` outside a function) lies within it; a rewrite that left one
        untouched cannot have put such an error there. Every other statement stays, in order, so
        a `__future__` import that no longer comes first is still seen.
        """
        if self.new_lines is None:
            return after
        ordered = sorted(self.new_lines)

        def kept(node: ast.stmt) -> bool:
            return not isinstance(node, _DEFINITIONS) or any_between(ordered, first_line(node), node.end_lineno or 0)

        body = [node for node in after.body if kept(node)]
        return after if len(body) == len(after.body) else ast.Module(body=body, type_ignores=after.type_ignores)

    def concerns(self, name: str) -> bool:
        # A keyword is never bound, so pyflakes names one only from a string of `__all__`,
        # which the relevant part always holds: such messages are always compared.
        words = _WORD.findall(name)
        return self.words is None or not self.words.isdisjoint(words) or not _KEYWORDS.isdisjoint(words)


WHOLE = Change(None)


def _typing_names(text: str, tree: ast.Module) -> set[str]:
    """The names a module binds to `typing` or to what it holds (`import typing as t` too): at
    module level, and on any line that imports from it."""
    names: set[str] = set()
    for node in _module_level_imports(tree.body):
        if isinstance(node, ast.ImportFrom) and node.module in _TYPING_MODULES:
            names |= _bound(node)
        elif isinstance(node, ast.Import):
            names.update(alias.asname or alias.name for alias in node.names if alias.name in _TYPING_MODULES)
    for match in _TYPING_IMPORT.finditer(text):
        names.update(_WORD.findall(match.group(1) or match.group(2)))
    return names


class _Places:
    """Where each line of a module's top-level statements stands: the blocks and comprehensions
    around it, each known by the kept line it starts on (or ends on), so the same block before
    and after a rewrite has the same key."""

    def __init__(self, tree: ast.Module, kept_as: Callable[[int], int | None]) -> None:
        self.body = tree.body
        self.firsts = [first_line(node) for node in tree.body]
        self.kept_as = kept_as
        self.places: dict[int, tuple] = {}
        self.done: set[int] = set()

    def lines_of(self, lines: Sequence[int]) -> set[int]:
        """Every line of the top-level statements that hold one of `lines`."""
        found: set[int] = set()
        for index in {self._statement_at(line) for line in lines} - {None}:
            node = self.body[index]
            found.update(range(self.firsts[index], (node.end_lineno or node.lineno) + 1))
        return found

    def place(self, line: int) -> tuple | None:
        index = self._statement_at(line)
        if index is None:
            return None
        if index not in self.done:
            self.done.add(index)
            self._fill(self.body[index], ())
        return self.places.get(line)

    def _statement_at(self, line: int) -> int | None:
        index = bisect.bisect_right(self.firsts, line) - 1
        if index < 0 or line > (self.body[index].end_lineno or 0):
            return None
        return index

    def _key(self, node: ast.AST) -> tuple:
        start = self.kept_as(node.lineno)  # type: ignore[attr-defined]
        if start is not None:
            return (type(node).__name__, "starts", start)
        end = self.kept_as(node.end_lineno or 0)  # type: ignore[attr-defined]
        if end is not None:
            return (type(node).__name__, "ends", end)
        return (type(node).__name__, "new", id(node))

    def _fill(self, node: ast.stmt, around: tuple) -> None:
        first, last = first_line(node), node.end_lineno or node.lineno
        key = self._key(node)
        blocks = [(field, getattr(node, field, None)) for field in ("body", "orelse", "finalbody")]
        blocks += [(f"part {n}", part.body) for n, part in enumerate((*getattr(node, "handlers", ()), *getattr(node, "cases", ())))]
        blocks = [(field, block) for field, block in blocks if isinstance(block, list) and block]
        if not blocks:
            for line in range(first, last + 1):
                self.places[line] = around
            for sub in ast.walk(node):
                if isinstance(sub, _EXPRESSION_SCOPES) and sub.end_lineno != sub.lineno:
                    for line in range(sub.lineno, (sub.end_lineno or sub.lineno) + 1):
                        self.places[line] = (*self.places[line], self._key(sub))
            return
        for line in range(first, last + 1):
            self.places[line] = (*around, (*key, "header"))
        for field, block in blocks:
            for child in block:
                self._fill(child, (*around, (*key, field)))


def relevant_part(tree: ast.Module, text: str, words: frozenset[str]) -> ast.Module:
    """`tree` without the top-level functions and classes no message about `words` depends on.

    Kept are every other statement; each function or class that holds one of `words`, or binds
    a module-level name from inside (`global`, `:=`); and, until nothing changes, each one
    whose name a kept statement uses: pyflakes reads some names (`overload`, `cast`) by what
    they are bound to.
    """
    words = with_import_bindings(words, tree)
    lines = split_lines(text)
    kept: list[bool] = []
    words_of: list[set[str]] = []
    for node in tree.body:
        segment = "".join(lines[first_line(node) - 1 : node.end_lineno])
        found = set(_WORD.findall(segment))
        words_of.append(found)
        kept.append(
            not isinstance(node, _DEFINITIONS) or not words.isdisjoint(found) or "global" in found or ":=" in segment
        )
    if all(kept):
        return tree
    used: set[str] = set().union(*(w for w, k in zip(words_of, kept) if k))
    grown = True
    while grown:
        grown = False
        for index, node in enumerate(tree.body):
            if not kept[index] and node.name in used:  # type: ignore[attr-defined]
                kept[index] = grown = True
                used |= words_of[index]
    return ast.Module(body=[node for node, k in zip(tree.body, kept) if k], type_ignores=tree.type_ignores)


def with_import_bindings(words: frozenset[str], tree: ast.Module) -> frozenset[str]:
    """`words`, and the names bound by each module-level import that mentions one of them: an
    unused import's message names its module too, so where a changed line holds only the
    module, the statements using the names the import binds matter as well."""
    imports = _module_level_imports(tree.body)
    return words.union(*(_bound(node) for node in imports if not words.isdisjoint(_mentioned(node))))


def bound_at_module_level(tree: ast.Module) -> set[str]:
    """Every name the module's own statements bind in its global scope (a superset: the targets
    of comprehensions at module level too); the bodies of functions and classes are not read,
    but their names, decorators, defaults and bases are."""
    names: set[str] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (*_DEFINITIONS, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                names.add(node.name)
                stack.extend(node.decorator_list)
            if isinstance(node, ast.ClassDef):
                stack.extend((*node.bases, *(keyword.value for keyword in node.keywords)))
            else:
                stack.extend((*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(_bound(node))
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)  # `except E as name`, a match capture
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        stack.extend(ast.iter_child_nodes(node))
    # A function's `global` statement binds a module-level name from inside.
    names.update(name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names)
    return names


def _module_level_imports(body: Sequence[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that bind module-level names: not inside a function or class."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, _DEFINITIONS):
            for field in ("body", "orelse", "finalbody"):
                yield from _module_level_imports(getattr(node, field, ()))
            for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
                yield from _module_level_imports(part.body)


def _mentioned(node: ast.Import | ast.ImportFrom) -> set[str]:
    words = set(_WORD.findall(getattr(node, "module", None) or ""))
    for alias in node.names:
        words.update(_WORD.findall(alias.name))
        if alias.asname:
            words.add(alias.asname)
    return words


def _bound(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.asname or alias.name.partition(".")[0] for alias in node.names}
    return {alias.asname or alias.name for alias in node.names if alias.name != "*"}
