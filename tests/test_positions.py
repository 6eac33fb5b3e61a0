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
    assert ours, "no names or statements recorded"
    assert {node: theirs[node] for node in ours} == ours
    names = [node for node in theirs if isinstance(node, (cst.Name, cst.BaseStatement, cst.BaseSmallStatement))]
    assert all(node in ours for node in names)
