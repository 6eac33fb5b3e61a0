"""What a rewrite parses and checks only in part gives the same result as the whole: LibCST's
parse with untouched bodies stubbed, and the name check over the part of each module that the
changed lines' names depend on."""

from __future__ import annotations

import ast
import re
import shutil
import textwrap
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from migrator import engine, name_scope, verify
from migrator.analysis import skeleton
from migrator.analysis.model import Pos
from migrator.session import Session
from migrator.transforms import _stubs
from migrator.transforms._kept_lines import split_lines
from migrator.transforms._rewriter import rewrite
from migrator.transforms.edits import AddImport, ReplaceExpression
from tests import corpus

ROOT = Path(__file__).resolve().parent.parent


def _sources() -> list[str]:
    """The modules of this repository and its fixtures: real code with real imports."""
    texts = []
    for path in sorted(p for folder in ("migrator", "fixtures") for p in (ROOT / folder).rglob("*.py")):
        try:
            texts.append(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            continue
    return [text for text in texts if len(text) < 40_000]


SOURCES = _sources()
WORD = re.compile(r"[^\W\d]\w*")


# -- the stubbed LibCST parse ------------------------------------------------------------------

MODULE = textwrap.dedent(
    '''\
    import os


    def untouched(a):
        """Its body is not parsed."""
        # a comment inside
        x = [
            1,
        ]
        return x
        # trailing comment at the body's indentation


    class Kept:
        def method(self):
            return os.sep
    # comment before the touched function

    def touched():
        value = os.getcwd()
        return value


    def last():
        return 1
    '''
)


def _replace_getcwd(text: str) -> tuple[ast.Module, list]:
    tree = ast.parse(text)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "getcwd")
    # A call's edit is anchored on the called name: the attribute's, here.
    return tree, [ReplaceExpression(Pos(call.lineno, call.func.end_col_offset - len("getcwd")), "os.getcwdb()", call=True)]


def test_untouched_statements_become_stand_ins_of_the_same_lines():
    tree, edits = _replace_getcwd(MODULE)
    stubbed, indexes = _stubs.stubbed_text(MODULE, tree, {edits[0].anchor.line})
    assert stubbed.count("\n") == MODULE.count("\n")
    assert [tree.body[n].name for n in indexes] == ["untouched"]  # `Kept` is before the touched one
    assert "def untouched" not in stubbed and '"""Its body' not in stubbed
    stand_in = ast.parse(stubbed).body[1]
    assert isinstance(stand_in, ast.If) and (stand_in.lineno, stand_in.end_lineno) == (4, 10)
    assert ast.dump(ast.parse(stubbed).body[3]) == ast.dump(tree.body[3])


def test_a_rewrite_from_stubs_is_the_rewrite_from_the_whole_parse(monkeypatch):
    tree, edits = _replace_getcwd(MODULE)
    parsed: list[object] = []
    real = _stubs.stubbed_text
    monkeypatch.setattr(_stubs, "stubbed_text", lambda *a: parsed.append(real(*a)) or parsed[-1])
    with_stubs = rewrite(MODULE, edits, tree=tree)
    monkeypatch.setattr(_stubs, "MIN_LINES", 10**9)
    whole = rewrite(MODULE, edits, tree=tree)
    assert parsed and parsed[0] is not None, "the first rewrite parsed stubs"
    assert with_stubs == whole == MODULE.replace("os.getcwd()", "os.getcwdb()")


def test_a_line_that_moves_to_another_block_counts_as_changed():
    # Without `def b():`, `y = x` is in `a`, where `x` is a local: its names count as changed.
    before = "def a():\n    x = 1\n\n\ndef b():\n    y = x\n"
    after = "def a():\n    x = 1\n\n\n    y = x\n"
    assert {"x", "y"} <= _change(before, after).words
    # Without `else:`, both imports are in one branch.
    before = "if a:\n    import os\nelse:\n    import os\n"
    assert "os" in _change(before, "if a:\n    import os\n    import os\n").words
    assert _change(before, before.replace("if a", "if b")).words == {"a", "b"}


def test_a_stub_the_rewrite_would_change_sends_it_to_the_whole_parse(monkeypatch):
    # A new import goes before the first function, which then gets blank lines of its own:
    # that function was stubbed, so its text must come from a whole parse.
    text = "def first(a):\n    b = a\n    c = b\n    d = c\n    return d\n\n\ndef second():\n    return 1\n\n\ndef third():\n    return getcwd()\n"
    tree = ast.parse(text)
    edits = [AddImport("os", "getcwd")]
    calls: list[bool] = []
    real = _stubs.kept_whole
    monkeypatch.setattr(_stubs, "kept_whole", lambda *a: calls.append(real(*a)) or calls[-1])
    new = rewrite(text, edits, tree=tree)
    assert calls == [False]
    assert new == "from os import getcwd\n\n\n" + text


# -- the name check over the relevant part ---------------------------------------------------------


def _change(before: str, after: str) -> verify.Change:
    return verify.Change.between(before, after, ast.parse(before), ast.parse(after))


def test_a_change_that_can_alter_how_any_name_is_read_checks_whole_modules():
    assert _change("x = 1\n", "from m import *\nx = 1\n").words is None
    assert _change("from __future__ import annotations\nx = 1\n", "x = 1\n").words is None
    # Names by whose binding pyflakes reads other names: typing's, and `__all__`.
    assert _change("from typing import cast\nx = cast('T', 1)\n", "x = cast('T', 1)\n").words is None
    assert _change("from typing import Optional\nx: Optional['T']\n", "from typing import Optional\nx: Optional['U']\n").words is None
    assert _change('__all__ = ["a"]\n', '__all__ = ["b"]\n').words is None
    aliased = "import typing as t\nx = t.cast('T', 1)\nt = 1\n"
    assert _change(aliased, aliased.replace("t = 1", "t = 2")).words is None
    change = _change("x = 1\ny = 2\n", "x = 1\ny = other\n")
    assert change.words == {"y", "other"}
    assert change.concerns("a.other as b") and not change.concerns("x")


def test_the_relevant_part_keeps_what_the_changed_names_can_depend_on():
    text = textwrap.dedent(
        """\
        import typing


        def overload(fn):
            return fn


        @overload
        def changed(value):
            return value


        def setter():
            global LIMIT
            LIMIT = 1


        def walrus(a=(cached := 1)):
            return a


        def helper():
            return 2


        class Unrelated:
            def method(self):
                return helper()
        """
    )
    tree = ast.parse(text)
    part = name_scope.relevant_part(tree, text, frozenset({"changed"}))
    names = [getattr(node, "name", type(node).__name__) for node in part.body]
    assert names == ["Import", "overload", "changed", "setter", "walrus"]


def _verdict(before: str, after: str, change: verify.Change) -> tuple[list[str], list]:
    before_tree, after_tree = ast.parse(before), ast.parse(after)
    old = verify.names_of(before_tree, "m.py", before, change)
    new = verify.names_of(after_tree, "m.py", after, change)
    unused = verify.newly_unused_imports(old, new, after_tree, after.splitlines())
    return verify.name_problems(old, new), sorted((r.statement, r.name) for r in unused)


def _mutated(data: st.DataObject, sources: list[str] = SOURCES) -> tuple[str, str]:
    """A module of this repository and the same module with one line changed, added or removed."""
    text = data.draw(st.sampled_from(sources))
    lines = split_lines(text)
    words = sorted(set(WORD.findall(text))) or ["name"]
    at = data.draw(st.integers(0, max(0, len(lines) - 1)))
    line = lines[at] if lines else ""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    kind = data.draw(st.sampled_from(["delete", "rename", "import", "use", "star", "future", "typing"]))
    if kind == "delete":
        new = lines[:at] + lines[at + 1 :]
    elif kind == "rename":
        found = list(WORD.finditer(line))
        if not found:
            return text, text
        hit = data.draw(st.sampled_from(found))
        replacement = data.draw(st.sampled_from([*words, "fresh_name"]))
        new = [*lines[:at], line[: hit.start()] + replacement + line[hit.end() :], *lines[at + 1 :]]
    elif kind == "import":
        name = data.draw(st.sampled_from(words))
        new = [*lines[:at], f"{indent}from somewhere import {name}\n", *lines[at:]]
    elif kind == "use":
        name = data.draw(st.sampled_from(words))
        new = [*lines[:at], f"{indent}print({name})\n", *lines[at:]]
    elif kind == "typing":
        name = data.draw(st.sampled_from(words))
        new = [*lines[:at], f"{indent}import typing as {name}\n", *lines[at:]]
    elif kind == "star":
        new = ["from somewhere import *\n", *lines]
    else:
        new = ["from __future__ import annotations\n", *lines]
    return text, "".join(new)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_the_relevant_part_gives_the_verdict_of_the_whole_modules(data):
    before, after = _mutated(data)
    try:
        compile(after, "m.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return
    assert _verdict(before, after, _change(before, after)) == _verdict(before, after, verify.WHOLE)


# -- apply, from end to end --------------------------------------------------------------------


def _applied(root: Path) -> list[tuple]:
    result = Session.open([root], ["all"]).run(fix=True, unsafe_fixes=True, jobs=1)
    return [(r.path, r.status, r.rewritten, r.message, r.findings) for r in result.files]


# Large modules hold many functions that share no name with what a rewrite changes.
UNRELATED = """

def unrelated_{n}(value):
    total = value
    for item in range(3):
        total += item
    return total
"""


def _padded(root: Path, source: Path) -> None:
    """The sample at `source`, each Python file followed by functions no rewrite touches."""
    shutil.copytree(source, root)
    for path in root.rglob("*.py"):
        path.write_bytes(path.read_bytes() + "".join(UNRELATED.format(n=n) for n in range(12)).encode())


@pytest.mark.parametrize(
    "tree", ["fixtures/realistic_sample", "fixtures/netra_sample", "generated", "padded realistic_sample"]
)
def test_apply_writes_and_refuses_the_same_as_with_whole_parses_and_checks(tree, tmp_path, monkeypatch):
    root = ROOT / tree
    if tree == "generated":
        root = tmp_path
        corpus.write_corpus(root, 150)
    elif tree.startswith("padded"):
        root = tmp_path / "padded"
        _padded(root, ROOT / "fixtures" / tree.split()[1])
    monkeypatch.setattr(_stubs, "MIN_LINES", 2)
    reduced: list[bool] = []
    stubbed: list[bool] = []

    def spy(tree, *rest):
        part = real(tree, *rest)
        reduced.append(len(part.body) < len(tree.body))
        return part

    real, real_stubs = name_scope.relevant_part, _stubs.stubbed_text
    monkeypatch.setattr(verify, "relevant_part", spy)
    monkeypatch.setattr(_stubs, "stubbed_text", lambda *a: stubbed.append(real_stubs(*a) is not None) or real_stubs(*a))
    partial = _applied(root)
    assert any(rewritten for _, _, rewritten, _, _ in partial)
    if tree.startswith("padded"):
        assert any(reduced), "the name check left statements out"
        assert any(stubbed), "LibCST parsed stubs"
    monkeypatch.setattr(_stubs, "MIN_LINES", 10**9)
    monkeypatch.setattr(verify.Change, "between", classmethod(lambda cls, *texts_and_trees: verify.WHOLE))
    assert partial == _applied(root)


# The modules that have a skeleton at all.
SKELETAL = [text for text in SOURCES if skeleton.skeleton(text, []) is not None]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_the_skeletons_give_the_verdict_of_the_whole_modules_wherever_they_vouch(data):
    before, after = _mutated(data, SKELETAL)
    try:
        compile(after, "m.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return
    # The statements around the changed line are never stubbed: the analysis finds a mention there.
    changed = [n for n, (a, b) in enumerate(zip(split_lines(before), split_lines(after)), 1) if a != b] or [1]
    made = skeleton.skeleton(before, sorted({changed[0] - 1, changed[0], changed[0] + 1}))
    parsed = skeleton.parse_skeleton(*made) if made is not None else None
    if parsed is None:
        event("no skeleton")
        return
    model = types.SimpleNamespace(tree=parsed, stubs=tuple(made[1]))
    try:
        checked = engine._skeleton_check(before, model, "m.py")(after)
    except SyntaxError:
        return  # the whole path compiles what the rewrite touched too, and refuses it
    if checked is None:
        event("the whole trees decide")
        return
    event("compared")
    new_skeleton, old, new = checked
    unused = verify.newly_unused_imports(old, new, new_skeleton.tree, after.splitlines())
    verdict = verify.name_problems(old, new), sorted((r.statement, r.name) for r in unused)
    assert verdict == _verdict(before, after, verify.WHOLE)
