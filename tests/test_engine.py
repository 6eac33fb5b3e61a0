"""The per-file engine: typed outcomes, verification before writing, encodings kept."""

from __future__ import annotations

import codecs

import pytest

import migrator.transforms._rewriter as rewriter
from migrator.results import Status
from migrator.rules import load_rules
from migrator.transforms import TRANSFORMS
from tests.conftest import FACTORY
from tests.helpers import assert_rewrites, assert_unchanged, make_config, run_text

HEADER = f"from {FACTORY} import get_agent_instance_factory\n"


def test_file_without_mentions_is_not_parsed():
    result = run_text("def broken(:\n")
    assert result.status is Status.UNCHANGED and result.findings == ()


def test_syntax_error_with_mention_is_a_failed_outcome():
    result = run_text(HEADER + "def broken(:\n")
    assert result.status is Status.FAILED
    assert result.message == "cannot parse: line 2: invalid syntax"


def test_undecodable_file_is_a_failed_outcome():
    result = run_text(HEADER.encode() + b"x = '\xff'\n")
    assert result.status is Status.FAILED and result.message.startswith("cannot decode")


def test_rewrite_that_does_not_parse_is_never_produced(monkeypatch):
    monkeypatch.setattr(rewriter, "rewrite", lambda source, edits, **options: source + "def (:\n")
    result = run_text(HEADER + "\n\nasync def f(user_context):\n    return get_agent_instance_factory()\n")
    assert result.status is Status.FAILED and result.rewritten is None
    assert "rewrite rejected" in result.message
    assert [f.fixable for f in result.findings] == [True, True]


def test_internal_error_in_one_file_is_an_outcome(monkeypatch, tmp_path):
    from migrator import engine
    from migrator.discovery import SourceFile

    path = tmp_path / "x.py"
    path.write_text(HEADER)
    monkeypatch.setattr(engine, "_analyze", lambda *a, **k: 1 / 0)
    settings = engine.Settings.build(make_config(), load_rules((), TRANSFORMS.keys()))
    result = engine.process_file(SourceFile(path, "x.py"), "2A", settings)
    assert result.status is Status.FAILED and "ZeroDivisionError" in result.message


def test_crlf_endings_are_kept_in_inserted_lines():
    source = (HEADER + "\n\nasync def f(user_id, thread_id):\n    return get_agent_instance_factory()\n").replace("\n", "\r\n")
    result = run_text(source.encode())
    text = result.rewritten.decode()
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")


def test_bom_and_latin1_are_kept():
    bom = codecs.BOM_UTF8 + (HEADER + "\n\ndef f(user_context):\n    return get_agent_instance_factory()\n").encode()
    assert run_text(bom).rewritten.startswith(codecs.BOM_UTF8)
    latin = ("# -*- coding: latin-1 -*-\n" + HEADER + "\n\ndef f(user_context):\n    return 'é', get_agent_instance_factory()\n").encode("latin-1")
    out = run_text(latin).rewritten
    assert "'é'".encode("latin-1") in out
    out.decode("latin-1")


def test_finding_positions_are_one_based_characters():
    findings = assert_unchanged(HEADER + "X = ('é', get_agent_instance_factory())\n")
    call = next(f for f in findings if f.rule == "MIG001")
    assert (call.line, call.column, call.end_column) == (2, 11, 39)


def test_keeps_comment_inside_call_parentheses():
    assert_rewrites(
        f"""\
        from {FACTORY} import get_agent_instance_factory


        def f(user_context):
            return get_agent_instance_factory(  # why
            )
        """,
        f"""\
        from {FACTORY} import create_agent_instance_factory


        def f(user_context):
            return create_agent_instance_factory(  # why
            user_context)
        """,
    )


@pytest.mark.parametrize("names", [("ctx",), ("request_context", "user_context")])
def test_context_names_are_configurable(names):
    config = make_config({"context_names": list(names)})
    source = HEADER + f"\n\ndef f({names[0]}):\n    return get_agent_instance_factory()\n"
    result = run_text(source, config=config)
    assert f"create_agent_instance_factory({names[0]})".encode() in result.rewritten


def test_configured_legacy_module_and_reexports():
    config = make_config({"legacy": {"get_agent_instance_factory": "core.factory"}, "reexports": ["core"]})
    for module in ("core.factory", "core"):
        findings = assert_unchanged(f"from {module} import get_agent_instance_factory\nF = get_agent_instance_factory()\n", config=config)
        assert [f.rule for f in findings] == ["MIG002", "MIG001"]
    assert assert_unchanged(HEADER + "F = get_agent_instance_factory()\n", config=config) == []


MANUAL_ONLY = HEADER + "\n\nasync def handle():\n    return get_agent_instance_factory()\n"
PATCHED = "from unittest.mock import patch\n\n\n@patch('app.routes.get_agent_instance_factory')\ndef test_x(mocked):\n    pass\n"


@pytest.mark.parametrize(
    "relpath, source, unsafe",
    [
        ("app/module.py", MANUAL_ONLY, False),
        ("app/module.py", MANUAL_ONLY, True),
        ("docs/guide.md", "# Guide\n\n```python\n" + PATCHED + "```\n", True),
        # A snippet's fixes are unsafe: without --unsafe-fixes, a run that fixes makes none.
        ("docs/guide.md", "# Guide\n\n```python\n" + MANUAL_ONLY + "```\n", False),
    ],
)
def test_a_run_that_fixes_gives_what_a_scan_gives_when_it_fixes_nothing(relpath, source, unsafe):
    fixing = run_text(source, relpath=relpath, unsafe_fixes=unsafe)
    scanning = run_text(source, relpath=relpath, fix=False)
    assert fixing.findings and fixing.status is Status.UNCHANGED
    assert not any(f.fixable and (unsafe or not f.unsafe) for f in fixing.findings)
    assert fixing == scanning
    # The lines each finding spans too, which the equality above leaves out: fingerprints read them.
    assert [f.statement for f in fixing.findings] == [f.statement for f in scanning.findings]
    assert all(f.statement for f in fixing.findings)
