"""One light pass over the stdlib `ast`: scopes, bindings and uses of deprecated names.

Resolving a module's imports is a small table, so this pass replaces LibCST's
QualifiedNameProvider for detection at a fraction of its cost; LibCST is used only to rewrite.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Collection, Iterator, Sequence

import msgspec
from ahocorasick_rs import AhoCorasick

from migrator.analysis import skeleton
from migrator.analysis.agents import absolute_module
from migrator.analysis.legacy import LegacyIndex
from migrator.analysis.model import ModuleModel, StmtSlot
from migrator.analysis.positions import Columns, any_between, first_line, is_word_char
from migrator.analysis.receivers import Receivers
from migrator.analysis.references import (
    definition_references,
    import_references,
    patch_references,
    patch_target,
    use_references,
)
from migrator.analysis.scopes import Binding, Scope, resolve_expression

# `as NAME` (import aliases and the like): a literal start the regex engine can search for
# quickly; the word boundary before `as` is checked by hand, and the lookahead keeps matches
# from overlapping, so `has as x` still yields `x`.
_AS_NAME = re.compile(r"as(?=\s+([A-Za-z_]\w*))")
# Python's own line breaks; str.splitlines() also splits on form feeds and other separators.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class _Candidate:
    __slots__ = ("node", "scope", "path", "stmt", "parent")

    def __init__(self, node: ast.AST, scope: Scope, path: tuple[StmtSlot, ...], stmt: ast.stmt, parent: ast.AST):
        self.node, self.scope, self.path, self.stmt, self.parent = node, scope, path, stmt, parent


class _Analyzer:
    def __init__(self, text: str, module_name: str, is_package: bool, index: LegacyIndex) -> None:
        self.text = text
        self.lines = _LINE_BREAK.split(text) if "\r" in text else text.split("\n")
        self.tree: ast.Module | None = None
        self.bound_everywhere: frozenset[str] | None = None  # computed on first need
        self.module_name = module_name
        self.is_package = is_package
        self.index = index
        self.defined_here = index.defined_here(module_name)
        self.interesting = set(index.symbols) | _aliases(text)
        self.candidates: list[_Candidate] = []
        self.imports: list[tuple[ast.ImportFrom, ast.alias, Scope, tuple[StmtSlot, ...]]] = []
        self.definitions: list[tuple[ast.AST, Scope, tuple[StmtSlot, ...]]] = []
        self.path: tuple[StmtSlot, ...] = ()
        self.stmt: ast.stmt = ast.Pass(lineno=0, col_offset=0)
        self.blocks: dict[tuple[int, str], list[ast.stmt]] = {}
        # Method calls matter only on legacy objects, which only their makers create.
        self.methods = index.methods if any(name in text for name in index.maker_names) else frozenset()
        self.method_calls: list[_Candidate] = []
        self.assignments: list[_Candidate] = []
        self.call_parents: dict[int, ast.AST] = {}
        self.patches: list[_Candidate] = []
        # A top-level function or class whose text names none of these cannot hold a finding.
        # Where it names only a method (`.get`), a finding needs a receiver the tool can tell,
        # so it also names a maker or a variable holding a legacy object: see `analyze_module`.
        self.name_lines = _mention_lines(text, index.symbols, ())
        aliases = self.interesting - index.symbols
        if aliases:
            self.name_lines = sorted({*self.name_lines, *_mention_lines(text, aliases, ())})
        method_lines = _mention_lines(text, (), self.methods) if self.methods else []
        self.mention_lines = sorted({*self.name_lines, *method_lines}) if method_lines else self.name_lines

    # -- traversal -----------------------------------------------------------------------

    def run(self, tree: ast.Module, implicit: Sequence[str] = ()) -> Scope:
        module = Scope("module", tree, None)
        module.stars.extend((name, 0) for name in implicit)
        self.visit_block(tree, "body", tree.body, module)
        return module

    def visit_block(self, owner: ast.AST, field: str, stmts: list[ast.stmt], scope: Scope) -> None:
        saved_path, saved_stmt = self.path, self.stmt
        key = (id(owner), field)
        self.blocks[key] = stmts
        for position, stmt in enumerate(stmts):
            self.path = (*saved_path, StmtSlot(key, position))
            self.stmt = stmt
            self.visit_stmt(stmt, scope)
        self.path, self.stmt = saved_path, saved_stmt

    def visit_stmt(self, node: ast.stmt, scope: Scope) -> None:
        if scope.kind == "module" and isinstance(node, (*_FUNCTION_NODES, ast.ClassDef)) and not self.mentions(node):
            kind = "class" if isinstance(node, ast.ClassDef) else "def"
            scope.bind(Binding(node.name, node.lineno, kind, target=self.definition_target(node.name, scope), stmt=node))
            return
        if isinstance(node, _FUNCTION_NODES):
            self.visit_function(node, scope)
        elif isinstance(node, ast.ClassDef):
            self.visit_class(node, scope)
        elif isinstance(node, ast.Import):
            self.bind_import(node, scope)
        elif isinstance(node, ast.ImportFrom):
            self.bind_import_from(node, scope)
        else:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                self.note_self_attributes(node, scope)
                if isinstance(node.value, ast.Call) or isinstance(node, ast.AnnAssign):
                    self.assignments.append(_Candidate(node, scope, self.path, self.stmt, node))
            self.visit_children(node, scope)

    def mentions(self, node: ast.stmt) -> bool:
        """Whether the text of a statement (decorators included) contains a name worth a look."""
        return any_between(self.mention_lines, first_line(node), node.end_lineno or node.lineno)

    def visit_children(self, node: ast.AST, scope: Scope) -> None:
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self.visit_block(node, field, value, scope)
                else:
                    for item in value:
                        if isinstance(item, ast.AST):
                            self.visit_expr(item, scope, node)
            elif isinstance(value, ast.AST):
                self.visit_expr(value, scope, node)

    def visit_expr(self, node: ast.AST, scope: Scope, parent: ast.AST) -> None:
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id in self.interesting:
                    self.candidates.append(_Candidate(node, scope, self.path, self.stmt, parent))
            else:
                scope.bind(Binding(node.id, node.lineno, "assign"))
            return
        if isinstance(node, ast.Attribute) and node.attr in self.index.symbols:
            self.candidates.append(_Candidate(node, scope, self.path, self.stmt, parent))
        elif isinstance(node, ast.Call):
            self.call_parents[id(node)] = parent
            if isinstance(node.func, ast.Attribute) and node.func.attr in self.methods:
                self.method_calls.append(_Candidate(node, scope, self.path, self.stmt, parent))
            if patch_target(node, self.index.symbols) is not None:
                self.patches.append(_Candidate(node, scope, self.path, self.stmt, parent))
        elif isinstance(node, ast.Lambda):
            self.visit_arguments_outside(node.args, scope)
            inner = Scope("lambda", node, scope)
            self.bind_params(node.args, inner)
            self.visit_expr(node.body, inner, node)
            return
        elif isinstance(node, _COMPREHENSIONS):
            inner = Scope("comprehension", node, scope)
            for generator in node.generators:
                self.visit_expr(generator.iter, inner if generator is not node.generators[0] else scope, node)
                self.visit_expr(generator.target, inner, node)
                for condition in generator.ifs:
                    self.visit_expr(condition, inner, node)
            for element in ("elt", "key", "value"):
                if hasattr(node, element):
                    self.visit_expr(getattr(node, element), inner, node)
            return
        elif isinstance(node, (ast.ExceptHandler,)) and node.name:
            scope.bind(Binding(node.name, node.lineno, "assign"))
        elif isinstance(node, ast.alias):
            return
        self.visit_children(node, scope)

    # -- definitions ---------------------------------------------------------------------

    def visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        for decorator in node.decorator_list:
            self.visit_expr(decorator, scope, node)
        self.visit_arguments_outside(node.args, scope)
        if node.returns is not None:
            self.visit_expr(node.returns, scope, node)
        target = self.definition_target(node.name, scope)
        scope.bind(Binding(node.name, node.lineno, "def", target=target, stmt=node))
        if target is not None:
            self.definitions.append((node, scope, self.path))
        inner = Scope("function", node, scope)
        self.bind_params(node.args, inner)
        self.visit_block(node, "body", node.body, inner)

    def visit_class(self, node: ast.ClassDef, scope: Scope) -> None:
        for expr in (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)):
            self.visit_expr(expr, scope, node)
        target = self.definition_target(node.name, scope)
        scope.bind(Binding(node.name, node.lineno, "class", target=target, stmt=node))
        if target is not None:
            self.definitions.append((node, scope, self.path))
        inner = Scope("class", node, scope)
        self.visit_block(node, "body", node.body, inner)

    def definition_target(self, name: str, scope: Scope) -> str | None:
        if scope.kind != "module" or name not in self.defined_here:
            return None
        module = self.index.defining_module_of(self.module_name, name)
        return f"{module}.{name}" if module else None

    def visit_arguments_outside(self, args: ast.arguments, scope: Scope) -> None:
        for default in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            self.visit_expr(default, scope, args)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self.visit_expr(arg.annotation, scope, arg)

    def bind_params(self, args: ast.arguments, scope: Scope) -> None:
        for arg in scope.params() if scope.node is not None else ():
            scope.bind(Binding(arg.arg, arg.lineno, "param"))

    def note_self_attributes(self, node: ast.Assign | ast.AnnAssign, scope: Scope) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if scope.kind == "class" and isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            scope.self_attrs.add(node.target.id)
        function = scope if scope.kind == "function" else None
        owner = function.owner_class if function else None
        self_name = function.self_name() if function else None
        if owner is None or self_name is None:
            return
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == self_name:
                owner.self_attrs.add(target.attr)

    # -- imports -------------------------------------------------------------------------

    def bind_import(self, node: ast.Import, scope: Scope) -> None:
        for alias in node.names:
            if alias.asname:
                scope.bind(Binding(alias.asname, node.lineno, "import", alias.name, node, alias))
            else:
                top = alias.name.partition(".")[0]
                scope.bind(Binding(top, node.lineno, "import", top, node, alias))

    def bind_import_from(self, node: ast.ImportFrom, scope: Scope) -> None:
        module = self.absolute_module(node)
        for alias in node.names:
            if alias.name == "*":
                if module is not None:
                    scope.stars.append((module, node.lineno))
                continue
            local = alias.asname or alias.name
            target = f"{module}.{alias.name}" if module is not None else None
            scope.bind(Binding(local, node.lineno, "from", target, node, alias))
            if target is not None and target in self.index.canonical:
                self.imports.append((node, alias, scope, self.path))

    def absolute_module(self, node: ast.ImportFrom) -> str | None:
        return absolute_module(node, self.module_name, self.is_package)

    # -- resolution ----------------------------------------------------------------------

    def resolve(self, node: ast.expr, scope: Scope, line: int) -> tuple[str | None, Binding | None]:
        return resolve_expression(node, scope, line, self.index.exports)


def analyze_module(
    text: str,
    module_name: str,
    is_package: bool,
    index: LegacyIndex,
    *,
    snippet: bool = False,
    skeleton_ok: bool = False,
    tree: ast.Module | skeleton.Skeleton | None = None,
) -> ModuleModel:
    """Parse `text` with `ast` and find every use of the deprecated names in `index`.

    A `snippet` (a code fence in documentation) often omits its imports: there the deprecated
    names count even when nothing imports them. With `skeleton_ok`, a large module is parsed
    as its skeleton (`skeleton.py`): the top-level functions and classes that mention no
    deprecated name are parsed without their bodies, even where they call a method of a
    legacy object by name (`item.get(...)`). The result is the same, or the whole text is
    parsed after all: when a name the findings' statements assign, or a
    variable holding a legacy object, also occurs in what was left out. There the plans may
    look for its uses, and a method called on it is a finding. (Any other receiver the tool
    can tell is made in the same function, by a maker it names.) `tree` is the whole tree of
    `text`, or a skeleton of it whose stubs mention nothing, when the caller has parsed one
    already.
    """
    analyzer = given = None
    if isinstance(tree, skeleton.Skeleton):
        given, tree = tree, None
    elif skeleton_ok and tree is None and not snippet and len(text) >= skeleton.MIN_BYTES:
        analyzer = _Analyzer(text, module_name, is_package, index)
        made = skeleton.skeleton(text, analyzer.name_lines)
        parsed = skeleton.parse_skeleton(*made) if made is not None else None
        if made is not None and parsed is not None:
            given = skeleton.Skeleton(parsed, tuple(made[1]))
    if given is not None:
        model = _finish(analyzer or _Analyzer(text, module_name, is_package, index), given.tree, snippet)
        if not skeleton.stubbed_names(text, given.stubs, _assigned_names(model, index.called_only)):
            return msgspec.structs.replace(model, stubs=given.stubs)
    analyzer = _Analyzer(text, module_name, is_package, index)
    return _finish(analyzer, tree if tree is not None else ast.parse(text), snippet)


def _finish(analyzer: _Analyzer, tree: ast.Module, snippet: bool) -> ModuleModel:
    analyzer.tree = tree
    index = analyzer.index
    module_scope = analyzer.run(tree, implicit=sorted(index.defining_modules) if snippet else ())
    positions = Columns(analyzer.lines)
    references = [
        *import_references(analyzer, positions),
        *definition_references(analyzer, positions),
        *use_references(analyzer, positions),
        *patch_references(analyzer, positions),
    ]
    receivers = Receivers.find(analyzer.assignments, analyzer.method_calls, analyzer.index, positions)
    references.extend(receivers.references)
    references.sort(key=lambda ref: (ref.span.start, ref.kind))
    return ModuleModel(
        module_name=analyzer.module_name,
        tree=tree,
        module_scope=module_scope,
        references=references,
        lines=analyzer.lines,
        exported=_dunder_all(tree),
        blocks=analyzer.blocks,
        receivers=receivers,
        text=analyzer.text,
        defined_functions=frozenset(
            n.name for n in tree.body if isinstance(n, (*_FUNCTION_NODES, ast.ClassDef))
        ),
    )


def _assigned_names(model: ModuleModel, called_only: frozenset[str]) -> set[str]:
    """Names and attributes the statements holding a reference assign, and the receivers' names:
    the plans of legacy objects look for their other uses anywhere in the module. (What an agent
    class builds is no legacy object: no plan looks for the uses of what it is assigned to.)"""
    names: set[str] = set()
    for ref in model.references:
        if ref.stmt is None or ref.symbol in called_only:
            continue
        for node in ast.walk(ref.stmt):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
                names.add(node.attr)
    if model.receivers is not None:
        names.update(str(key[2]) for key in model.receivers.scopes if len(key) > 2)
    return names


def _aliases(text: str) -> set[str]:
    """The names after every `as` that starts a word (`\\bas\\s+NAME`)."""
    return {
        match.group(1)
        for match in _AS_NAME.finditer(text)
        if match.start() == 0 or not is_word_char(text[match.start() - 1])
    }


def _mention_lines(text: str, names: Collection[str], methods: Collection[str]) -> list[int]:
    """The sorted line numbers where one of `names` occurs as a whole word, or one of `methods`
    as a whole word after a dot (`\\b(?:names)\\b|\\.\\s*(?:methods)\\b`).

    One Aho–Corasick pass finds every occurrence of the words (much faster than one regex
    alternating over them, or a search per word); the word boundaries are checked by hand.
    """
    found: list[int] = []
    for words, after_dot in ((names, False), (methods, True)):
        for at, end in _occurrences(text, words):
            if end < len(text) and is_word_char(text[end]):
                continue
            before = at - 1
            if after_dot:
                while before >= 0 and text[before].isspace():
                    before -= 1
                hit = before >= 0 and text[before] == "."
            else:
                hit = before < 0 or not is_word_char(text[before])
            if hit:
                found.append(at)
    # A line's number is one more than the line breaks before it (`\r\n` counts once).
    crlf = "\r" in text
    lines: list[int] = []
    line, done = 1, 0
    for at in sorted(found):
        # `done` is the start of a word: never between the two characters of a `\r\n`.
        line += text.count("\n", done, at)
        if crlf:
            line += text.count("\r", done, at) - text.count("\r\n", done, at)
        done = at
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _occurrences(text: str, words: Collection[str]) -> Iterator[tuple[int, int]]:
    """Where each of `words` occurs in `text`, overlapping occurrences included: `(start, end)`."""
    if len(words) <= _FEW_WORDS:
        for word in words:
            at = text.find(word)
            while at != -1:
                yield at, at + len(word)
                at = text.find(word, at + 1)
        return
    for _, start, end in _automaton(frozenset(words)).find_matches_as_indexes(text, overlapping=True):
        yield start, end


# Up to this many words, a search per word is as fast as building and running an automaton.
_FEW_WORDS = 4


@functools.lru_cache(maxsize=16)
def _automaton(words: frozenset[str]) -> AhoCorasick:
    # The index's symbols are one frozenset per run: the cache hits on every file.
    return AhoCorasick(sorted(words))


def _dunder_all(tree: ast.Module) -> frozenset[str]:
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and stmt.value is not None:
                for element in getattr(stmt.value, "elts", ()):
                    if isinstance(element, ast.Constant) and isinstance(element.value, str):
                        names.add(element.value)
    return frozenset(names)
