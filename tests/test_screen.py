"""The screen that decides which files are parsed: every needle in one pass, called-only names
wanted only in a call's shape, and never a file the analysis would report on turned away."""

from __future__ import annotations

import itertools
import pickle
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator import engine, project
from migrator.analysis.legacy import LegacyIndex
from migrator.analysis.visitor import analyze_module
from migrator.screen import Needles, Screen, called_at
from migrator.session import Session
from tests.conftest import FACTORY, write

AGENT = b"TriageSubAgent"


def test_needles_finds_every_needle_that_occurs_overlapping_ones_too():
    needles = Needles([b"db_session", b"get_db_session", b"AgentRegistry", b"absent"])
    assert needles.found(b"x = get_db_session()\nAgentRegistry") == {b"db_session", b"get_db_session", b"AgentRegistry"}
    assert needles.found(b"nothing here") == set()
    assert Needles([]).found(b"anything") == set()


WORDS = [b"ab", b"bcd", b"abcd", b"cd", b"get_db_session", b"db_session", b"Agent", b"BaseAgent", b"\xc3\xa9t"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.sampled_from(WORDS) | st.binary(min_size=1, max_size=4), min_size=1, max_size=150),
    st.lists(st.sampled_from([*WORDS, b"x", b" ", b"\n", b"(", b"\xc3"]), max_size=40),
)
def test_the_needles_found_are_exactly_those_in_the_bytes(needles, pieces):
    # Overlapping needles (`ab`, `bcd`) and sets above the SIMD searcher's 64 needles included.
    raw = b"".join(pieces)
    found = Needles(needles)
    assert found.found(raw) == {needle for needle in needles if needle in raw}
    assert found.any_in(raw) == any(needle in raw for needle in needles)
    every = {(needle, start) for needle, start, _ in found.occurrences(raw)}
    assert every == {(n, at) for n in set(needles) for at in range(len(raw)) if raw.startswith(n, at)}


def test_needles_and_screens_survive_pickling_for_worker_processes():
    screen = pickle.loads(pickle.dumps(Screen([b"AgentRegistry"], [AGENT])))
    assert screen == Screen([b"AgentRegistry"], [AGENT])
    assert screen.wants(b"a = TriageSubAgent(llm)") and not screen.wants(b"import TriageSubAgent")


@pytest.mark.parametrize(
    "text",
    [
        "TriageSubAgent(llm)",
        "TriageSubAgent (llm)",
        "agents.TriageSubAgent(llm)",
        "(TriageSubAgent)(llm)",
        "x = (TriageSubAgent  # the triage one\n     (llm))",
        "x = TriageSubAgent \\\n(llm)",
        "from app.agents import TriageSubAgent as Triage",
        "from app.agents import (\n    TriageSubAgent\n    as Triage,\n)",
    ],
)
def test_a_called_name_is_wanted_in_each_shape_a_call_can_take(text):
    raw = text.encode()
    at = raw.index(AGENT)
    assert called_at(raw, at, at + len(AGENT))
    assert Screen([], [AGENT]).wants(raw)


@pytest.mark.parametrize(
    "text",
    [
        "from app.agents import TriageSubAgent",
        "def f(agent: TriageSubAgent) -> None: ...",
        "isinstance(agent, TriageSubAgent)",
        "KNOWN = [TriageSubAgent]",
        "agents: list[TriageSubAgent] = []",
        "MyTriageSubAgent(llm)",
        "TriageSubAgentFactory(llm)",
        "# TriageSubAgent is built by the factory",
    ],
)
def test_a_called_name_that_is_only_mentioned_is_not_wanted(text):
    assert not Screen([], [AGENT]).wants(text.encode())
    assert Screen([AGENT], []).wants(text.encode()) or AGENT not in text.encode()


def test_a_plain_needle_is_wanted_wherever_it_occurs_even_if_also_called_only():
    screen = Screen([AGENT], [AGENT])
    assert screen.called == frozenset()
    assert screen.wants(b"from app.agents import TriageSubAgent")


def test_beyond_looks_only_for_what_the_other_screen_lacks():
    before = Screen([b"AgentRegistry"])
    after = Screen([b"AgentRegistry", b"get_global_bridge"], [AGENT])
    added = after.beyond(before)
    assert added.plain == {b"get_global_bridge"} and added.called == {AGENT}
    for text in (b"get_global_bridge()", b"TriageSubAgent(x)", b"isinstance(a, TriageSubAgent)", b"clean = 1"):
        # Of the files `before` turns away, `added` wants exactly those `after` wants.
        if not before.wants(text):
            assert added.wants(text) == after.wants(text)


SHAPES = (
    "agent = {name}(llm)",
    "agent = agents.{name}(llm)",
    "agent = ({name})(llm)",
    "agent = ({name}  # note\n    (llm))",
    "agent = {alias}(llm)",
    "return [{name}]",
    "if isinstance(x, {name}):\n        pass",
)
IMPORTS = (
    "from app.agents.triage import TriageSubAgent",
    "from app.agents.triage import TriageSubAgent as Triage",
    "from app.agents import triage as agents",
    "from app.agents.triage import *",
)


@pytest.mark.parametrize(("shape", "imported"), list(itertools.product(SHAPES, IMPORTS)))
def test_the_screen_never_turns_away_a_file_with_a_call_the_analysis_finds(shape, imported):
    index = LegacyIndex.build([("TriageSubAgent", "app.agents.triage")], (), called_only=["TriageSubAgent"])
    body = shape.format(name="TriageSubAgent", alias="Triage")
    text = f"{imported}\n\n\ndef handle(llm, x):\n    {body}\n"
    model = analyze_module(text, "app.handler", False, index)
    calls = [ref for ref in model.references if ref.kind == "call"]
    if calls:
        assert Screen([], index.called_needles).wants(text.encode()), text


AGENTS = """
    from netra_backend.app.agents.base import BaseAgent


    class TriageSubAgent(BaseAgent):
        \"\"\"Handles request triage.\"\"\"
"""


def test_an_agent_class_re_exported_by_its_package_is_found_where_it_is_built(tmp_path: Path, monkeypatch):
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/agents/__init__.py": "from .triage import TriageSubAgent\n",
            "app/agents/triage.py": AGENTS,
            "app/handler.py": "from app.agents import TriageSubAgent\n\n\nasync def handle(llm):\n    return TriageSubAgent(llm)\n",
            "app/typing_only.py": "from app.agents import TriageSubAgent\n\n\ndef kind(a: TriageSubAgent) -> bool:\n    return True\n",
        },
    )
    # Without an index the sweep defers the package, which only imports; the agent class
    # defined elsewhere makes it parsed after the sweep.
    parsed = _first_pass_parses(monkeypatch)
    result = Session.open([tmp_path], ["all"]).run()
    assert "app/agents/__init__.py" in parsed
    assert [(f.rule, f.path) for f in result.findings] == [("MIG008", "app/handler.py")]


def _first_pass_parses(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real = project._first_pass
    monkeypatch.setattr(project, "_first_pass", lambda relpath, *rest: parsed.append(relpath) or real(relpath, *rest))
    return parsed


def test_without_an_agent_class_a_package_that_only_imports_is_not_parsed(tmp_path: Path, monkeypatch):
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/__init__.py": "from .models import Thing\n",
            "app/models.py": "class Thing:\n    pass\n",
            "app/routes.py": f"from {FACTORY} import get_agent_instance_factory\n\n\nasync def handle():\n    return get_agent_instance_factory()\n",
        },
    )
    parsed = _first_pass_parses(monkeypatch)
    deferred = Session.open([tmp_path], ["all"]).run()
    assert "app/__init__.py" not in parsed and deferred.findings
    # A run that keeps an index parses every package, and finds the same.
    assert Session.open([tmp_path], ["all"]).run(use_cache=True).findings == deferred.findings
    assert "app/__init__.py" in parsed


@pytest.mark.parametrize("sample", ["netra_sample", "realistic_sample"])
def test_the_samples_scan_the_same_with_their_packages_parsed_after_the_sweep_or_during_it(tmp_path: Path, sample: str):
    root = tmp_path / sample
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / sample, root)
    deferred = Session.open([root], ["all"]).run()
    eager = Session.open([root], ["all"]).run(use_cache=True)
    assert deferred.findings and deferred.findings == eager.findings


def test_a_test_double_is_not_indexed_so_its_construction_is_no_candidate(tmp_path: Path, monkeypatch):
    double = "from netra_backend.app.agents.base import BaseAgent\n\n\nclass FakeAgent(BaseAgent):\n    pass\n"
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "tests/doubles.py": double,
            "tests/test_handler.py": "from tests.doubles import FakeAgent\n\n\ndef test_it():\n    assert FakeAgent()\n",
        },
    )
    analysed: list[str] = []
    real = engine.process_bytes
    monkeypatch.setattr(engine, "process_bytes", lambda raw, relpath, *rest: analysed.append(relpath) or real(raw, relpath, *rest))
    result = Session.open([tmp_path], ["all"]).run()
    assert result.findings == ()
    assert "tests/test_handler.py" not in analysed
