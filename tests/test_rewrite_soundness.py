"""`apply --phase all` over every corpus we have leaves no module's names worse, and one run is enough.

The check here is pyflakes run directly, keyed by message kind and name (not line), before
and after: no new undefined name, name bound twice or unused import in any rewritten file.
A second `apply` then changes nothing and `scan` finds nothing fixable.
"""

from __future__ import annotations

import ast
import shutil
from collections import Counter
from pathlib import Path

import pytest
from pyflakes.checker import Checker

from tests import corpus
from tests.conftest import snapshot
from tests.helpers import run_text
from tests.test_fixtures import FIXTURES, _options

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p for p in (ROOT / "fixtures").iterdir() if p.is_dir() and p.name.endswith("_sample"))
WATCHED = {"UndefinedName", "UndefinedExport", "UndefinedLocal", "RedefinedWhileUnused", "UnusedImport", "ImportShadowedByLoopVar"}


def flakes(source: bytes, name: str) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for message in Checker(ast.parse(source), filename=name).messages:
        kind, subject = type(message).__name__, str(message.message_args[0])
        # A star import kept after its last visible use is not shown to be unused: it may serve
        # names no static analysis sees, so the rewrite keeps it.
        if kind in WATCHED and not (kind == "UnusedImport" and subject.endswith("*")):
            found[(kind, subject)] += 1
    return found


def worse(before: bytes, after: bytes, name: str) -> list[tuple[str, str]]:
    old, new = flakes(before, name), flakes(after, name)
    return sorted(key for key, count in new.items() if count > old[key])


def _generated(root: Path) -> None:
    corpus.write_corpus(root, 120, seed=10)


def _sample(source: Path):
    def make(root: Path) -> None:
        shutil.copytree(source, root, dirs_exist_ok=True)

    return make


TREES = [pytest.param(_sample(p), id=p.name) for p in SAMPLES] + [pytest.param(_generated, id="generated")]


@pytest.mark.parametrize("make", TREES)
def test_apply_all_adds_no_name_problem_and_reaches_the_fixed_point(make, tmp_path: Path, cli) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    make(root)
    before = snapshot(root)
    # Every fix, unsafe ones too: each one written must pass the same check.
    first = cli("apply", "--phase", "all", "--unsafe-fixes", "--format", "json", cwd=root)
    assert first.code in (0, 1), first.err
    after = snapshot(root)
    changed = [path for path in before if after[path] != before[path]]
    assert changed, "the corpus shows no rewrite at all"
    problems = {
        path: worse(before[path], after[path], path) for path in changed if path.endswith(".py")
    }
    assert {path: found for path, found in problems.items() if found} == {}

    second = cli("apply", "--phase", "all", "--unsafe-fixes", "--format", "json", cwd=root)
    assert second.code in (0, 1), second.err
    assert second.json()["changed_files"] == []
    assert snapshot(root) == after
    scan = cli("scan", "--format", "json", "--no-cache", cwd=root).json()
    assert [f for f in scan["findings"] if f["fixable"]] == []


def _fixture_files() -> list:
    return [
        pytest.param(path, id=f"{path.parent.name}/{path.name}")
        for path in sorted(FIXTURES.glob("*/*.py"))
        if not path.name.endswith(".after.py")
    ]


@pytest.mark.parametrize("path", _fixture_files())
def test_every_fixture_rewrite_adds_no_name_problem(path: Path) -> None:
    source = path.read_bytes()
    result = run_text(source, **{**_options(source.decode("utf-8", "replace")), "unsafe_fixes": True})
    if result.rewritten is not None:
        assert worse(source, result.rewritten, path.name) == []
