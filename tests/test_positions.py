"""The rewriter's own position pass agrees with LibCST's PositionProvider on every fixture."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from migrator.transforms._positions import positions

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures").rglob("*.py"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_positions_match_libcst(path):
    module = cst.parse_module(path.read_bytes())
    ours = positions(module)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    wanted = [n for n in theirs if isinstance(n, (cst.Name, cst.BaseStatement, cst.BaseSmallStatement, cst.BaseSuite))]
    assert set(wanted) <= set(ours)
    assert {node: theirs[node] for node in ours} == ours


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_focused_positions_are_exact_where_asked_and_spans_elsewhere(path):
    module = cst.parse_module(path.read_bytes())
    full = positions(module)
    everywhere = positions(module, range(1, 10_000))
    assert {node: full[node] for node in everywhere if node in full} == {
        node: everywhere[node] for node in everywhere if node in full
    }
    nowhere = positions(module, ())
    assert set(nowhere) == set(module.body)
    for statement in module.body:
        span, exact = nowhere[statement], full[statement]
        assert span.start.line <= exact.start.line and exact.end.line <= span.end.line
