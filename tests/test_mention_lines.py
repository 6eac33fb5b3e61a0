"""The substring search for mentions finds exactly the lines the reference regex finds."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.analysis.visitor import _LINE_BREAK, _aliases, _mention_lines
from migrator.sourcefile import SourceText
from tests import corpus

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"get_agent_instance_factory", "AgentRegistry", "registry", "get", "factory_alias"}
METHODS = frozenset({"register", "get", "get_agent"})


def _spanning_reference(text: str, regex: re.Pattern) -> list[int]:
    # A match may span lines (`.\n    register`): it counts on the line where its name starts.
    starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
    found = set()
    for match in regex.finditer(text):
        name_start = match.start() + len(match.group()) - len(match.group().lstrip(". \t\r\n\f\v"))
        found.add(sum(1 for start in starts if start <= name_start))
    return sorted(found)


def check(text: str) -> None:
    assert _mention_lines(text, NAMES, METHODS) == _spanning_reference(
        text,
        re.compile(
            rf"\b(?:{'|'.join(sorted(map(re.escape, NAMES)))})\b|\.\s*(?:{'|'.join(sorted(map(re.escape, METHODS)))})\b"
        ),
    )
    # Every `as NAME`, overlapping ones included (`as as x` names both `as` and `x`).
    assert _aliases(text) == set(re.findall(r"\bas(?=\s+([A-Za-z_]\w*))", text))


def _fixture_files() -> list:
    files = sorted((ROOT / "fixtures").rglob("*.py")) + sorted((ROOT / "migrator").rglob("*.py"))
    return [pytest.param(path, id=str(path.relative_to(ROOT))) for path in files]


@pytest.mark.parametrize("path", _fixture_files())
def test_mentions_match_the_reference_on_real_files(path: Path) -> None:
    check(SourceText.decode(path.read_bytes()).text)


def test_mentions_match_the_reference_on_a_generated_corpus() -> None:
    rng = random.Random(11)
    for number in range(60):
        check(corpus.module_text(rng, number))


TOKENS = st.sampled_from(
    [*NAMES, *METHODS, ".", " ", "\n", "\r\n", "\r", "\t", "x", "_", "é", "1", "has", "as", " as ", "(", "#", "\\"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=40).map("".join))
def test_mentions_match_the_reference_on_arbitrary_text(text: str) -> None:
    check(text)
