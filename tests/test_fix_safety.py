"""Safe and unsafe fixes: which `apply` writes, and how every report shows them."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from migrator.analysis.model import Pos, Span
from migrator.exit_codes import ExitCode, UsageError
from migrator.rules import load_rule
from migrator.suppressions import SuppressionIndex
from migrator.transforms import TRANSFORMS
from migrator.transforms.edits import AddImport, Fix, Manual
from migrator.triage import decide
from tests.conftest import FACTORY, write

UNSAFE_RULE = """\
summary = "get_agent_instance_factory() call, fixed only on request"
message = "get_agent_instance_factory() returns one shared factory"
[match]
symbols = ["get_agent_instance_factory"]
kinds = ["call"]
[fix]
transform = "replace_factory_getter"
safety = "unsafe"
[fix.params]
replacement = "create_agent_instance_factory"
[docs]
what = "Calls of the getter."
why = "It is shared."
not_reported = "Nothing more than the shipped MIG001 leaves out."
example = "getter_call"
"""
# The example case lives beside the rule, inside the project: it shows the new way, so it is no finding.
EXAMPLE_CASE = "def handle(user_context):\n    return create_agent_instance_factory(user_context)\n"


def test_fix_safety_is_safe_or_unsafe():
    assert Fix(()).safety == "safe" and Fix((), safety="unsafe").safety == "unsafe"
    with pytest.raises(ValueError, match="fix safety must be one of safe, unsafe"):
        Fix((), safety="risky")


def test_rule_file_fix_safety_is_validated(tmp_path):
    path = tmp_path / "MIG101-unsafe-getter.toml"
    write(tmp_path, {"MIG101/getter_call.py": EXAMPLE_CASE})
    path.write_text(UNSAFE_RULE)
    assert load_rule(path, frozenset(TRANSFORMS)).fix_safety == "unsafe"
    path.write_text(UNSAFE_RULE.replace('safety = "unsafe"', 'safety = "maybe"'))
    with pytest.raises(UsageError, match=r"MIG101-unsafe-getter.toml: key 'fix.safety' expects one of safe, unsafe"):
        load_rule(path, frozenset(TRANSFORMS))
    detect_only = UNSAFE_RULE.replace('transform = "replace_factory_getter"\n', "").replace(
        '[fix.params]\nreplacement = "create_agent_instance_factory"\n', ""
    )
    path.write_text(detect_only)
    with pytest.raises(UsageError, match="key 'fix.safety' needs a 'fix.transform'"):
        load_rule(path, frozenset(TRANSFORMS))


def _ref(line: int) -> SimpleNamespace:
    start = Pos(line, 0)
    return SimpleNamespace(span=Span(start, Pos(line, 5)), stmt_line=line)


def test_a_fix_that_depends_on_an_unsafe_one_is_held_back_with_it():
    call, cleanup = _ref(3), _ref(1)
    use_rule = SimpleNamespace(id="MIG001", fix_safety="safe")
    cleanup_rule = SimpleNamespace(id="MIG002", fix_safety="safe")
    passes = []

    def plan_pass(held):
        passes.append(set(held))
        call_held = (id(call), "MIG001") in held
        planned = [] if call_held else [(call, use_rule, Fix((AddImport("m", "new"),), safety="unsafe"))]
        cleanup_plan = Manual("still used") if call_held else Fix((AddImport("m", "other"),))
        return [(cleanup, cleanup_rule, cleanup_plan), *planned]

    held_back = decide(plan_pass, SuppressionIndex(()), unsafe_fixes=False)
    assert passes == [set(), {(id(call), "MIG001")}]
    assert [(d.rule.id, d.safety, d.applied) for d in held_back.findings] == [("MIG002", "unsafe", False), ("MIG001", "unsafe", False)]
    written = decide(plan_pass, SuppressionIndex(()), unsafe_fixes=True)
    assert [(d.rule.id, d.safety, d.applied) for d in written.findings] == [("MIG002", "safe", True), ("MIG001", "unsafe", True)]


@pytest.fixture
def unsafe_project(project: Path) -> Path:
    """The sample project with MIG001 replaced by a house rule whose fixes are all unsafe."""
    write(project, {
        "pyproject.toml": '[tool.migrator]\nrules = ["house-rules/"]\nignore = ["MIG001"]\n',
        "house-rules/MIG101-unsafe-getter.toml": UNSAFE_RULE,
        "house-rules/MIG101/getter_call.py": EXAMPLE_CASE,
    })
    return project


def test_scan_reports_unsafe_fixes_and_the_fixes_that_wait_for_them(cli, unsafe_project):
    doc = cli("scan", "--phase", "2A", "--format", "json", cwd=unsafe_project).json()
    found = {(f["rule"], f["fixable"], f["safety"]) for f in doc["findings"]}
    assert found == {("MIG101", True, "unsafe"), ("MIG002", True, "unsafe")}


def test_apply_without_unsafe_fixes_writes_nothing_unsafe_and_exits_1(cli, unsafe_project):
    before = (unsafe_project / "app/routes.py").read_bytes()
    result = cli("apply", "--phase", "2A", "--format", "json", cwd=unsafe_project)
    assert result.code == ExitCode.FINDINGS
    doc = result.json()
    assert (doc["changed_files"], doc["fixed"], doc["manual"], doc["unsafe_not_applied"]) == ([], 0, 0, 2)
    assert (unsafe_project / "app/routes.py").read_bytes() == before


def test_apply_with_unsafe_fixes_writes_them(cli, unsafe_project):
    result = cli("apply", "--phase", "2A", "--unsafe-fixes", "--format", "json", cwd=unsafe_project)
    assert result.code == ExitCode.CLEAN
    doc = result.json()
    assert (doc["changed_files"], doc["fixed"], doc["unsafe_not_applied"]) == (["app/routes.py"], 2, 0)
    text = (unsafe_project / "app/routes.py").read_text()
    assert "create_agent_instance_factory(user_context)" in text and "get_agent_instance_factory" not in text
    ast.parse(text)
    assert cli("check", "--phase", "2A", cwd=unsafe_project).code == ExitCode.CLEAN


UNSAFE_SESSION_RULE = UNSAFE_RULE.replace('"get_agent_instance_factory"]', '"@db_session"]').replace(
    '"replace_factory_getter"', '"replace_db_session_getter"'
).replace('[fix.params]\nreplacement = "create_agent_instance_factory"\n', "")


def test_safe_fixes_are_written_and_unsafe_ones_kept_in_the_same_file(cli, project):
    write(project, {
        "pyproject.toml": '[tool.migrator]\nrules = ["house-rules/"]\nignore = ["MIG007"]\n',
        "house-rules/MIG107-unsafe-session.toml": UNSAFE_SESSION_RULE,
        "house-rules/MIG107/getter_call.py": EXAMPLE_CASE,
        "app/routes.py": f"""
            from netra_backend.app.core.database import get_global_db_session
            from netra_backend.app.services.user_execution_context import UserExecutionContext
            from {FACTORY} import get_agent_instance_factory


            async def handle(user_context: UserExecutionContext):
                db = get_global_db_session()
                factory = get_agent_instance_factory()
                return db, factory
        """,
    })
    result = cli("apply", "--phase", "2A", "--format", "json", cwd=project)
    assert result.code == ExitCode.FINDINGS
    doc = result.json()
    assert doc["changed_files"] == ["app/routes.py"] and doc["unsafe_not_applied"] == 2
    held = {(f["rule"], f["safety"]) for f in doc["findings"] if f["path"] == "app/routes.py" and f["safety"] == "unsafe"}
    assert held == {("MIG107", "unsafe"), ("MIG009", "unsafe")}
    text = (project / "app/routes.py").read_text()
    assert "factory = create_agent_instance_factory(user_context)" in text
    assert "db = get_global_db_session()" in text and "import get_global_db_session" in text
    again = cli("apply", "--phase", "2A", "--unsafe-fixes", "--format", "json", cwd=project)
    assert again.code == ExitCode.CLEAN and again.json()["fixed"] == 2
    text = (project / "app/routes.py").read_text()
    assert "db = user_context.db_session" in text and "get_global_db_session" not in text


def test_table_rules_and_explain_show_fix_safety(cli, unsafe_project):
    checked = cli("check", "--phase", "2A", cwd=unsafe_project)
    assert checked.code == ExitCode.FINDINGS
    assert "app/routes.py:6:15: MIG101" in checked.out and "[fix: unsafe]" in checked.out
    scanned = cli("scan", "--phase", "2A", cwd=unsafe_project)
    assert "of which unsafe" in scanned.out
    listed = cli("rules", cwd=unsafe_project).out.splitlines()
    assert any(line.startswith("MIG101") and "fix:unsafe" in line for line in listed)
    assert any(line.startswith("MIG001") and "fix:safe" in line for line in listed)
    explained = cli("explain", "MIG101", cwd=unsafe_project)
    assert explained.code == ExitCode.CLEAN and "automatic fix, unsafe" in explained.out
    assert "automatic fix, safe:" in cli("explain", "MIG001", cwd=unsafe_project).out


def test_explain_shows_when_a_transform_marks_its_fixes_unsafe(cli, project, monkeypatch):
    monkeypatch.setattr(TRANSFORMS["replace_factory_getter"], "UNSAFE_WHEN", "the context is invented.", raising=False)
    explained = cli("explain", "MIG001", cwd=project).out
    assert "automatic fix, safe except when the context is invented: those fixes are marked unsafe" in explained
    listed = cli("rules", cwd=project).out.splitlines()
    assert any(line.startswith("MIG001") and "fix:mixed" in line for line in listed)
