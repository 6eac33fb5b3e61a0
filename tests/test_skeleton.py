"""Skeleton parsing: the top-level functions and classes that mention nothing are parsed without
their bodies, and a scan reports exactly what it reports from the whole parse."""

from __future__ import annotations

import ast
import itertools
import random
import re
import textwrap
from pathlib import Path

import hypothesmith
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings

from migrator import engine
from migrator.analysis import skeleton
from migrator.analysis.skeleton import parse_skeleton
from migrator.session import Session
from tests import corpus
from tests.conftest import FACTORY, write

ROOT = Path(__file__).resolve().parent.parent


def _made(text: str, mentions: list[int] | None = None) -> tuple[str, list] | None:
    return skeleton.skeleton(textwrap.dedent(text), mentions or [])


def _shape(tree: ast.Module) -> list[tuple[str, str | None, int]]:
    return [(type(n).__name__, getattr(n, "name", None), n.lineno) for n in tree.body]


def test_bodies_go_and_every_line_and_header_stays():
    text = textwrap.dedent(
        '''\
        import os


        @route("/a:b")
        @other
        def handler(a: int = (1,
                              2)) -> dict[str, int]:
            """A docstring that holds
        def fake():
            a definition at column 0."""
            return {"a": 1, 'b(': r"x\\"["}


        class Thing(Base):  # a comment: with a colon (and a bracket
            x = 1
        \fVALUE = 1
        '''
    )
    made = skeleton.skeleton(text, [])
    assert made is not None
    skeleton_text, stubs = made
    assert skeleton_text.count("\n") == text.count("\n")
    assert [stub[:3] for stub in stubs] == [(4, 6, 7), (14, 14, 14)]
    tree = parse_skeleton(skeleton_text, stubs)
    assert tree is not None
    assert _shape(tree) == _shape(ast.parse(text))
    assert "a definition at column 0" not in skeleton_text and "@route(\"/a:b\")" in skeleton_text


def test_a_statement_that_mentions_a_name_keeps_its_body():
    text = "def kept():\n    return get_agent_instance_factory()\n\n\ndef stubbed():\n    return 1\n"
    made = skeleton.skeleton(text, [2])
    assert made is not None
    assert "get_agent_instance_factory()" in made[0] and "return 1" not in made[0]


@pytest.mark.parametrize(
    "text",
    [
        "x = 1\r\ndef f():\r\n    return 2\r\n",
    ],
)
def test_windows_line_ends_are_kept(text):
    made = skeleton.skeleton(text, [])
    assert made is not None and made[0].count("\r\n") == text.count("\r\n")
    assert parse_skeleton(*made) is not None


@pytest.mark.parametrize(
    "text",
    [
        'name = f"{row["name"]}"\ndef f():\n    return 1\n',  # a PEP 701 f-string
        "name = rf'{row['name']}'\ndef f():\n    return 1\n",  # with a raw prefix before the f
        'name = fR"{row["name"]}"\ndef f():\n    return 1\n',  # or after it
        'name = F"{\n    row}"\ndef f():\n    return 1\n',  # a line break in the replacement field
        "x = 1\rdef f():\r    return 2\r",  # bare carriage returns
        "x = )\ndef f():\n    return 1\n",  # a bracket closed twice
        "VALUE = 1\n",  # nothing to stub
    ],
)
def test_no_skeleton_where_the_lexer_could_be_wrong_or_nothing_is_gained(text):
    assert skeleton.skeleton(text, []) is None


@pytest.mark.parametrize(
    "text",
    [
        '# f"{row["name"]}" in a comment\ndef f():\n    return 1\n',
        'note = "an f\'{x\' inside a string"\ndef f():\n    return 1\n',
        'name = f"{row[\'name\']}" + rf"{{literal}}"\ndef f():\n    return 1\n',
    ],
)
def test_an_f_string_the_lexer_reads_right_keeps_the_skeleton(text):
    made = skeleton.skeleton(text, [])
    assert made is not None
    tree = parse_skeleton(*made)
    assert tree is not None and _shape(tree) == _shape(ast.parse(text))


def test_a_line_join_at_column_0_ends_the_stubbed_statement():
    text = "def f():\n    return 1\n\\\nx = 2\n"
    made = skeleton.skeleton(text, [])
    assert made is not None
    tree = parse_skeleton(*made)
    assert tree is not None and _shape(tree) == _shape(ast.parse(text))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_a_skeleton_keeps_every_top_level_statement_of_any_module(generated):
    # The generated code is both the body of a function to stub and the top level after it,
    # so the lexer must find where that body ends whatever strings and brackets it holds.
    body = textwrap.indent(generated, "    ")
    text = f"def stubbed():\n{body}\n    pass\n{generated}\n\nclass After:\n    pass\n"
    try:
        full = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    made = skeleton.skeleton(text, [])
    tree = parse_skeleton(*made) if made is not None else None
    if "\r" not in text and not skeleton._NESTED_FSTRING.search(text):
        assert tree is not None, "a module the lexer can read gets a skeleton"
    if tree is None:
        return
    assert _shape(tree) == _shape(full)
    stubbed = {stub[0] for stub in made[1]}
    for kept, original in zip(tree.body, full.body):
        first = min([original.lineno, *(d.lineno for d in getattr(original, "decorator_list", ()))])
        if first not in stubbed:
            assert ast.dump(kept, include_attributes=True) == ast.dump(original, include_attributes=True)


def _stubbed_reference(text: str, stubs: list, names: set[str]) -> bool:
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b")
    lines = text.splitlines(keepends=True)
    offsets = [0, *itertools.accumulate(map(len, lines))]
    spans = ((offsets[stub[2] - 1], offsets[min(stub[3], len(lines))]) for stub in stubs)
    return any(pattern.search(text[start:end]) for start, end in spans)


@pytest.mark.parametrize("path", sorted((ROOT / "migrator").rglob("*.py")), ids=lambda p: p.name)
def test_stubbed_names_finds_a_whole_word_exactly_where_a_regex_does(path):
    text = path.read_text()
    made = skeleton.skeleton(text, [])
    if made is None:
        return
    words = sorted(set(re.findall(r"[A-Za-z_]\w*", text)))
    rng = random.Random(path.name)
    for _ in range(40):
        names = set(rng.sample(words, min(3, len(words))))
        names |= {name[1:] for name in names if len(name) > 2}  # a part of a word is no whole word
        assert skeleton.stubbed_names(text, made[1], names) == _stubbed_reference(text, made[1], names)


def _findings(root: Path, monkeypatch: pytest.MonkeyPatch, min_bytes: int) -> list[dict]:
    monkeypatch.setattr(skeleton, "MIN_BYTES", min_bytes)
    result = Session.open([root], ["all"]).run(jobs=1)
    return [msgspec.structs.asdict(finding) for finding in result.findings] + [
        {"error": (r.path, r.message)} for r in result.files if r.message
    ]


@pytest.mark.parametrize("tree", ["fixtures/realistic_sample", "fixtures/netra_sample", "fixtures/rules", "migrator"])
def test_a_scan_reports_the_same_with_and_without_skeletons(tree, monkeypatch):
    always = _findings(ROOT / tree, monkeypatch, 0)
    never = _findings(ROOT / tree, monkeypatch, 10**12)
    assert always == never
    assert tree == "migrator" or always, "the tree has findings to compare"


def test_a_generated_corpus_scans_the_same_with_and_without_skeletons(tmp_path, monkeypatch):
    corpus.write_corpus(tmp_path, 120)
    assert _findings(tmp_path, monkeypatch, 0) == _findings(tmp_path, monkeypatch, 10**12)


REGISTRY_MODULE = """
    from netra_backend.app.agents.supervisor.agent_registry import get_singleton_registry

    registry = get_singleton_registry()


    async def handle(name, user_context):
        return registry.get(name)


    def describe():
        return registry.describe_everything()
"""


def test_a_name_the_findings_assign_that_a_stubbed_function_uses_forces_the_whole_parse(tmp_path, monkeypatch):
    # `describe` mentions nothing the scan looks for, but uses `registry`: the plan for the
    # getter's assignment must see that use, so the module is parsed whole.
    write(tmp_path, {"pyproject.toml": "[tool.migrator]\n", "app/service.py": REGISTRY_MODULE})
    parsed: list[bool] = []
    real = skeleton.stubbed_names

    def spy(text, stubs, names):
        parsed.append(real(text, stubs, names))
        return parsed[-1]

    monkeypatch.setattr(skeleton, "stubbed_names", spy)
    always = _findings(tmp_path, monkeypatch, 0)
    assert parsed == [True]
    assert always == _findings(tmp_path, monkeypatch, 10**12)
    # `handle` names no deprecated name, only the method; the whole parse finds the call on `registry`.
    assert any(f.get("line") == 8 and f.get("rule") for f in always), always


DICT_LOOKUPS = """
    from netra_backend.app.agents.supervisor.agent_registry import AgentRegistry


    def test_lookup():
        registry = AgentRegistry()
        assert registry.get("triage") is None


    def test_rows(items):
        rows = [item for item in items if item.get("status") is not None]
        return {row.get("id"): row for row in rows}


    class TestCache:
        def test_hit(self, cache):
            assert cache.get("key") == 1
"""


def test_a_function_that_only_calls_a_method_of_that_name_is_stubbed(tmp_path, monkeypatch):
    # `.get()` is a method of the legacy registry, but the receivers in `test_rows` and
    # `TestCache` are made nowhere the tool can tell: their bodies are not parsed.
    write(tmp_path, {"pyproject.toml": "[tool.migrator]\n", "tests/test_lookups.py": DICT_LOOKUPS})
    models = []
    real = engine._analyze
    monkeypatch.setattr(engine, "_analyze", lambda *args, **kwargs: models.append(real(*args, **kwargs)) or models[-1])
    always = _findings(tmp_path, monkeypatch, 0)
    assert [model.skeletal for model in models] == [True]
    stubs = (n for n in models[0].tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
    stubbed = {n.name for n in stubs if n.end_lineno == n.lineno}
    assert stubbed == {"test_rows", "TestCache"}
    assert always == _findings(tmp_path, monkeypatch, 10**12)
    assert {f.get("line") for f in always if f.get("rule")} >= {6, 7}, always


ROUTES = f"""
    from {FACTORY} import get_agent_instance_factory
    from app.helpers import shape


    async def handle(user_id, thread_id, run_id):
        return get_agent_instance_factory()


    def unrelated(rows):
        # a comment the stub holds
        total = 0
        for row in rows:
            total += row
        return total


    # a comment between the two
    def also_unrelated():
        return {{"a": 1,
                 "b": 2}}
"""


def _rewritten_with_models(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list, list]:
    """Apply with skeletons from any size; the models each rewrite got, and what each check from skeletons gave."""
    monkeypatch.setattr(skeleton, "MIN_BYTES", 0)
    models: list = []
    on_skeleton: list = []
    real = engine._rewrite_verified
    real_check = engine._skeleton_check

    def spied_check(*args):
        check = real_check(*args)
        return lambda new_text: on_skeleton.append(check(new_text)) or on_skeleton[-1]

    monkeypatch.setattr(engine, "_rewrite_verified", lambda text, model, *rest: models.append(model) or real(text, model, *rest))
    monkeypatch.setattr(engine, "_skeleton_check", spied_check)
    result = Session.open([root], ["all"]).run(fix=True, unsafe_fixes=True, jobs=1)
    return models, on_skeleton, result.files


def test_a_rewrite_is_made_and_checked_from_the_skeleton_and_keeps_every_stubbed_byte(tmp_path, monkeypatch):
    write(tmp_path, {"pyproject.toml": "[tool.migrator]\n", "app/routes.py": ROUTES})
    models, on_skeleton, files = _rewritten_with_models(tmp_path, monkeypatch)
    assert models and models[0].skeletal and len(models[0].stubs) == 2
    assert on_skeleton and all(checked is not None for checked in on_skeleton), "the skeletons vouched for the rewrite"
    text = (tmp_path / "app/routes.py").read_text()
    rewritten = files[0].rewritten.decode()
    assert "create_agent_instance_factory(" in rewritten
    tail = text[text.index("def unrelated") :]
    assert rewritten.endswith(tail), "the stubbed statements are copied as they were"
    monkeypatch.setattr(skeleton, "MIN_BYTES", 10**12)
    whole = Session.open([tmp_path], ["all"]).run(fix=True, unsafe_fixes=True, jobs=1)
    assert whole.files[0].rewritten == files[0].rewritten


def test_a_changed_name_a_stubbed_body_uses_is_checked_from_the_whole_trees(tmp_path, monkeypatch):
    # The rewrite drops the import `handle` used; `unrelated` uses the same module-level name
    # in a body the skeleton left out, so only the whole trees can say the import is still used.
    module = ROUTES.replace("for row in rows:", "for row in shape(rows):").replace(
        "return get_agent_instance_factory()", "return get_agent_instance_factory(), shape"
    )
    write(tmp_path, {"pyproject.toml": "[tool.migrator]\n", "app/routes.py": module})
    models, on_skeleton, files = _rewritten_with_models(tmp_path, monkeypatch)
    assert models and models[0].skeletal
    assert on_skeleton == [None], "the skeletons did not vouch for the rewrite"
    rewritten = files[0].rewritten.decode()
    assert "from app.helpers import shape" in rewritten and "shape(rows)" in rewritten


def test_a_stub_the_rewrite_did_not_keep_line_for_line_is_not_moved():
    stubs = [(5, 5, 5, 9, 10)]
    kept = [("equal", 0, 3, 0, 3), ("insert", 3, 3, 3, 4), ("equal", 3, 12, 4, 13)]
    assert engine._moved_stubs(stubs, kept) == ((6, 6, 6, 10, 10),)
    split = [("equal", 0, 6, 0, 6), ("replace", 6, 7, 6, 7), ("equal", 7, 12, 7, 12)]
    assert engine._moved_stubs(stubs, split) is None


def _applied(root: Path, monkeypatch: pytest.MonkeyPatch, min_bytes: int) -> list[tuple]:
    monkeypatch.setattr(skeleton, "MIN_BYTES", min_bytes)
    result = Session.open([root], ["all"]).run(fix=True, unsafe_fixes=True, jobs=1)
    return [(r.path, r.status, r.rewritten, r.message, r.findings) for r in result.files]


@pytest.mark.parametrize("tree", ["fixtures/realistic_sample", "fixtures/netra_sample"])
def test_apply_rewrites_the_same_with_and_without_skeletons(tree, monkeypatch):
    always = _applied(ROOT / tree, monkeypatch, 0)
    assert any(rewritten for _, _, rewritten, _, _ in always)
    assert always == _applied(ROOT / tree, monkeypatch, 10**12)


def test_apply_rewrites_a_generated_corpus_the_same_with_and_without_skeletons(tmp_path, monkeypatch):
    corpus.write_corpus(tmp_path, 120)
    always = _applied(tmp_path, monkeypatch, 0)
    assert sum(1 for _, _, rewritten, _, _ in always if rewritten) >= 10
    assert always == _applied(tmp_path, monkeypatch, 10**12)


def test_a_module_with_windows_line_ends_is_rewritten_from_skeletons_as_from_whole_trees(tmp_path, monkeypatch):
    module = textwrap.dedent(ROUTES).replace("\n", "\r\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.migrator]\n")
    (tmp_path / "app" / "routes.py").write_bytes(module.encode())
    models, on_skeleton, files = _rewritten_with_models(tmp_path, monkeypatch)
    assert models[0].skeletal and on_skeleton and all(checked is not None for checked in on_skeleton)
    rewritten = files[0].rewritten
    assert b"create_agent_instance_factory(" in rewritten and rewritten.count(b"\r\n") == rewritten.count(b"\n")
    monkeypatch.setattr(skeleton, "MIN_BYTES", 10**12)
    whole = Session.open([tmp_path], ["all"]).run(fix=True, unsafe_fixes=True, jobs=1)
    assert whole.files[0].rewritten == rewritten
