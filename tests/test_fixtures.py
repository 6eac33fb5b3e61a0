"""Every fixture case of every rule, collected from fixtures/rules/<RULE>/.

`<case>.before.py` must become `<case>.after.py`, which must parse and be a fixed point.
`decoy_<case>.py` must yield no finding at all; `manual_<case>.py` must stay unchanged with
every finding sent to manual review with a reason. A first-line comment
`# fixture: path=tests/test_x.py` sets the path the case pretends to live at (hence its phase);
`# fixture: unsafe-fixes` writes the fixes marked unsafe too, as `apply --unsafe-fixes` does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import libcst
import pytest

from tests.helpers import run_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
_DIRECTIVE = re.compile(r"#\s*fixture:\s*(.*)")


def _options(text: str) -> dict:
    first = text.split("\n", 1)[0]
    found = _DIRECTIVE.match(first)
    options: dict = {}
    if found:
        for item in found.group(1).split():
            key, _, value = item.partition("=")
            if key == "path":
                options["relpath"] = value
            elif key == "unsafe-fixes":
                options["unsafe_fixes"] = True
            elif key == "conftest":
                options["fixture_dirs"] = frozenset({"" if value == "." else value})
    return options


def _cases(kind: str) -> list:
    params = []
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for path in sorted(rule_dir.glob("*.py")):
            name = path.name
            if kind == "rewrite" and name.endswith(".before.py"):
                params.append(pytest.param(path, id=f"{rule_dir.name}/{name[: -len('.before.py')]}"))
            elif kind == "same" and not name.endswith((".before.py", ".after.py")):
                params.append(pytest.param(path, id=f"{rule_dir.name}/{path.stem}"))
    return params


@pytest.mark.parametrize("before_path", _cases("rewrite"))
def test_rewrite_case(before_path: Path) -> None:
    after_path = before_path.with_name(before_path.name.replace(".before.py", ".after.py"))
    before = before_path.read_bytes()
    after = after_path.read_bytes()
    options = _options(before.decode("utf-8", "replace"))
    result = run_text(before, **options)
    assert result.message is None, result.message
    rule = before_path.parent.name
    assert any(f.rule == rule and f.fixable for f in result.findings), "the case shows no fix of its own rule"
    assert result.rewritten == after
    ast.parse(after)
    libcst.parse_module(after)
    again = run_text(after, **options)
    assert again.rewritten is None, "applying the rules to the after file changed it"
    assert not [f for f in again.findings if f.fixable], "fixable findings remain after the rewrite"


@pytest.mark.parametrize("path", _cases("same"))
def test_unchanged_case(path: Path) -> None:
    source = path.read_bytes()
    result = run_text(source, **_options(source.decode("utf-8", "replace")))
    assert result.message is None, result.message
    assert result.rewritten is None
    if path.name.startswith("decoy_"):
        assert result.findings == ()
    else:
        assert path.name.startswith("manual_"), "unchanged cases are named decoy_* or manual_*"
        own = [f for f in result.findings if f.rule == path.parent.name]
        assert own, "a manual case must report its rule"
        assert all(not f.fixable and f.reason for f in own)


def test_fixture_directive_reads_path_and_unsafe_fixes():
    assert _options("# fixture: path=tests/test_x.py unsafe-fixes\nx = 1\n") == {"relpath": "tests/test_x.py", "unsafe_fixes": True}
    assert _options("x = 1  # fixture: unsafe-fixes\n") == {}
