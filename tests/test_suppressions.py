"""Inline suppressions: what they cover, what they keep from being rewritten, and MIG000."""

from __future__ import annotations

import textwrap

from migrator.exit_codes import ExitCode
from migrator.suppressions import find_suppressions, parse_comment
from tests.conftest import FACTORY, write
from tests.helpers import run_text

IMPORT = f"from {FACTORY} import get_agent_instance_factory"


def _run(source: str, **options):
    return run_text(textwrap.dedent(source), **options)


def _rules(result) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in result.findings]


def test_comment_with_several_ids_and_a_reason():
    found = parse_comment("# migrator: ignore[mig001, MIG005] asserts the old error", 3, 8)
    assert found.codes == ("MIG001", "MIG005") and found.reason == "asserts the old error"
    assert (found.line, found.column, found.end_column) == (3, 8, 8 + len("# migrator: ignore[mig001, MIG005] asserts the old error"))


def test_reason_stops_at_another_tools_directive_and_punctuation_is_no_reason():
    assert parse_comment("# migrator: ignore[MIG001] - kept on purpose  # noqa: E501", 1, 0).reason == "kept on purpose"
    assert parse_comment("# migrator: ignore[MIG001] --", 1, 0).reason == ""
    assert parse_comment("# type: ignore  # migrator: ignore[MIG001] why", 1, 0).codes == ("MIG001",)


def test_bracketless_comment_names_no_rule_and_lookalikes_are_not_suppressions():
    assert parse_comment("# migrator: ignore", 1, 0).codes == ()
    assert parse_comment("# migrator: ignore-me", 1, 0) is None
    assert parse_comment("# migrator: scan this later", 1, 0) is None


def test_marker_inside_a_string_is_not_a_suppression():
    assert find_suppressions('x = "# migrator: ignore[MIG001] why"\n# migrator: ignore[MIG002] why\n')[0].line == 2


def test_suppression_on_the_finding_line_keeps_it_unreported_and_unfixed():
    source = f"""\
        {IMPORT}

        def handle(user_context):
            return get_agent_instance_factory()  # migrator: ignore[MIG001] measured against the old factory
        """
    result = _run(source)
    assert result.rewritten is None
    assert result.suppressed == 1
    # The call stays, so its import cannot go.
    assert [(f.rule, f.fixable) for f in result.findings] == [("MIG002", False)]


def test_suppression_on_the_first_line_of_a_multiline_statement_covers_its_lines():
    source = f"""\
        {IMPORT}

        def handle(user_context):
            pair = (  # migrator: ignore[MIG001] kept for the comparison below
                None,
                get_agent_instance_factory(),
            )
            return pair
        """
    result = _run(source)
    assert result.suppressed == 1 and result.rewritten is None
    assert "MIG001" not in {f.rule for f in result.findings}


def test_suppression_on_a_middle_line_covers_only_that_line():
    source = f"""\
        {IMPORT}

        def handle(user_context):
            pair = (
                None,  # migrator: ignore[MIG001] not here
                get_agent_instance_factory(),
            )
            return pair
        """
    result = _run(source)
    assert result.suppressed == 0
    assert ("MIG001", 6) in _rules(result)
    assert ("MIG000", 5) in _rules(result)
    assert result.rewritten is not None


def test_several_ids_on_one_line_suppress_each_rule():
    source = f"""\
        def handle(user_context):
            {IMPORT}; return get_agent_instance_factory()  # migrator: ignore[MIG001,MIG002] legacy adapter
        """
    result = _run(source)
    assert result.suppressed == 2 and result.findings == () and result.rewritten is None


def test_one_id_used_and_one_unused_reports_only_the_unused():
    source = f"""\
        {IMPORT}  # migrator: ignore[MIG002,MIG001] re-exported for the plugins

        VALUE = 1
        """
    result = _run(source)
    assert result.suppressed == 1
    (problem,) = result.findings
    assert (problem.rule, problem.line, problem.fixable) == ("MIG000", 1, False)
    assert problem.message == "unused suppression: MIG001 reports nothing here" and problem.reason


def test_missing_reason_is_a_finding_and_still_suppresses():
    source = f"""\
        {IMPORT}

        def handle(user_context):
            return get_agent_instance_factory()  # migrator: ignore[MIG001]
        """
    result = _run(source)
    assert result.suppressed == 1
    problem = next(f for f in result.findings if f.rule == "MIG000")
    assert problem.message == "suppression without a reason"
    assert (problem.line, problem.column) == (4, 42)


def test_unknown_and_missing_ids_and_mig000_itself_are_findings():
    source = """\
        A = 1  # migrator: ignore[MIG999] typo
        B = 2  # migrator: ignore
        C = 3  # migrator: ignore[MIG000] no
        """
    messages = [(f.line, f.message) for f in _run(source).findings]
    assert messages == [
        (1, "suppression names unknown rule MIG999"),
        (2, "suppression names no rule"),
        (3, "MIG000 cannot be suppressed inline"),
    ]


def test_unused_counts_only_rules_that_run_on_the_file():
    source = "A = 1  # migrator: ignore[MIG003] the registry is built below\n"
    assert _rules(_run(source)) == [("MIG000", 1)]
    # MIG003 deselected: nothing says it would report here.
    assert _run(source, rules=("MIG000", "MIG001")).findings == ()
    # MIG000 deselected: no suppression finding at all.
    assert _run(source, rules=("MIG001", "MIG003")).findings == ()


def test_suppressions_work_when_mig000_is_not_selected():
    source = f"""\
        {IMPORT}

        def handle(user_context):
            return get_agent_instance_factory()  # migrator: ignore[MIG001]
        """
    result = _run(source, rules=("MIG001", "MIG002"))
    assert result.suppressed == 1 and [f.rule for f in result.findings] == ["MIG002"]


def test_suppressed_call_does_not_lend_its_context_to_the_next_fix():
    source = f"""\
        {IMPORT}

        async def handle(user_id, thread_id, run_id):
            old = get_agent_instance_factory()  # migrator: ignore[MIG001] compared with the new one
            new = get_agent_instance_factory()
            return old, new
        """
    result = _run(source)
    text = result.rewritten.decode()
    assert "old = get_agent_instance_factory()  # migrator: ignore[MIG001]" in text
    assert "new = create_agent_instance_factory(user_context)" in text
    # The context is built before the call that uses it, not before the suppressed one only.
    assert text.index("user_context = ") > text.index("old = ") and text.index("user_context = ") < text.index("new = ")
    compile(text, "x.py", "exec")
    assert result.suppressed == 1


def test_markdown_fence_suppressions_use_document_lines():
    doc = f"""\
        # Guide

        ```python
        {IMPORT}  # migrator: ignore[MIG002] shows the old import

        factory = get_agent_instance_factory()  # migrator: ignore[MIG001]
        ```
        """
    result = _run(doc, relpath="docs/guide.md")
    assert result.suppressed == 2
    assert _rules(result) == [("MIG000", 6)]
    assert result.rewritten is None


# End to end through the commands.


def test_scan_json_counts_suppressed_and_check_fails_on_mig000(cli, project):
    write(project, {
        "app/routes.py": f"""
            {IMPORT}  # migrator: ignore[MIG002] kept for the plugin loader


            async def handle(user_id, thread_id, run_id):
                return get_agent_instance_factory()  # migrator: ignore[MIG001]
        """,
        "app/stale.py": "VALUE = 1  # migrator: ignore[MIG001] migrated last year\n",
    })
    result = cli("scan", "--phase", "2A", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    doc = result.json()
    assert doc["summary"]["suppressed"] == 2
    assert [(f["rule"], f["path"], f["line"]) for f in doc["findings"]] == [
        ("MIG000", "app/routes.py", 6),
        ("MIG000", "app/stale.py", 1),
    ]
    assert cli("check", "--phase", "2A", cwd=project).code == ExitCode.FINDINGS
    assert cli("check", "--phase", "2A", "--ignore", "MIG000", cwd=project).code == ExitCode.CLEAN
    applied = cli("apply", "--phase", "2A", "--format", "json", cwd=project)
    assert applied.code == ExitCode.FINDINGS
    assert applied.json()["changed_files"] == []


def test_suppressed_counts_survive_the_cache_and_the_process_pool(cli, tmp_path):
    root = tmp_path / "many"
    body = f"""
        {IMPORT}  # migrator: ignore[MIG002] the module keeps the old path alive


        def handle(user_context):
            return get_agent_instance_factory()  # migrator: ignore[MIG001]
    """
    write(root, {"pyproject.toml": "[tool.migrator]\n", **{f"app/mod_{n}.py": body for n in range(60)}})
    pooled = cli("scan", "--jobs", "2", "--no-cache", "--format", "json", cwd=root).json()
    assert pooled["summary"]["suppressed"] == 120
    assert pooled["summary"]["by_rule"] == {"MIG000": 60}
    first = cli("scan", "--jobs", "1", "--format", "json", cwd=root).json()
    cached = cli("scan", "--jobs", "1", "--format", "json", cwd=root).json()
    assert first["summary"] == cached["summary"] == pooled["summary"]
    assert cached["findings"] == pooled["findings"]
