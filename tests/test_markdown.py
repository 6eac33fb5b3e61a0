"""Python fences in Markdown: document positions, fence-only rewrites, broken fences reported."""

from __future__ import annotations

import textwrap

import msgspec

from migrator.exit_codes import ExitCode
from migrator.markdown import python_fences
from migrator.results import Status
from tests.helpers import make_config, run_text

DOC = textwrap.dedent(
    """\
    # Using the factory

    Getting a factory:

    ```python
    factory = get_agent_instance_factory()
    ```

    Shell:

    ```bash
    get_agent_instance_factory  # not Python
    ```

    1. In a list:

       ```py
       async def handle(user_id, thread_id):
           return get_agent_instance_factory()
       ```

    Text after.
    """
)


def test_findings_carry_the_documents_line_numbers():
    result = run_text(DOC, relpath="docs/guide.md")
    calls = [(f.line, f.column) for f in result.findings if f.rule == "MIG001"]
    assert calls == [(6, 11), (19, 15)]
    assert {f.phase for f in result.findings} == {"2C"}


def test_rewrite_changes_only_the_fences():
    result = run_text(DOC, relpath="docs/guide.md")
    assert result.status is Status.CHANGED
    after = result.rewritten.decode()
    before_lines, after_lines = DOC.splitlines(), after.splitlines()
    assert before_lines[:4] == after_lines[:4]
    assert after_lines[-1] == "Text after."
    assert "get_agent_instance_factory  # not Python" in after
    assert "    return create_agent_instance_factory(user_context)" in after
    assert "   async def handle(user_id, thread_id):\n       user_context = UserExecutionContext" in after
    assert "\n   from migrator" not in after and "\n   from netra_backend" in after
    for fence in python_fences(after):
        compile(fence.code, "fence", "exec")
    assert run_text(after, relpath="docs/guide.md").rewritten is None


def test_fence_that_does_not_parse_is_reported_and_left_alone():
    doc = "Intro\n\n```python\n>>> get_agent_instance_factory()\n```\n\n```python\nfactory = get_agent_instance_factory()\n```\n"
    result = run_text(doc, relpath="README.md", unsafe_fixes=True)
    assert result.problems and "line 3 does not parse" in result.problems[0]
    after = result.rewritten.decode()
    assert ">>> get_agent_instance_factory()" in after
    assert "factory = create_agent_instance_factory(user_context)" in after


def test_crlf_markdown_keeps_its_line_endings():
    doc = DOC.replace("\n", "\r\n")
    after = run_text(doc, relpath="docs/guide.md").rewritten.decode()
    assert "\n" not in after.replace("\r\n", "")


def test_check_fails_on_a_broken_fence_that_mentions_a_deprecated_name(cli, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.md").write_text("```python\nget_agent_instance_factory(\n```\n")
    result = cli("check", "--format", "json", cwd=tmp_path)
    assert result.code == ExitCode.FINDINGS
    assert result.json()["errors"][0]["path"] == "docs/x.md"


GUIDE = textwrap.dedent(
    """\
    # Migration guide

    ## BEFORE

    ```python
    factory = get_agent_instance_factory()
    ```

    ❌ Never keep one factory:

    ```python
    FACTORY = get_agent_instance_factory()
    ```

    ```python
    # OLD: shared by everyone
    factory = get_agent_instance_factory()
    ```

    ## What's Breaking

    ```python
    get_agent_instance_factory()
    ```

    ## Running a job

    ```python
    async def job(user_context):
        return get_agent_instance_factory()
    ```
    """
)


def test_fences_labelled_as_the_old_pattern_are_neither_reported_nor_rewritten():
    result = run_text(GUIDE, relpath="docs/guide.md")
    assert [(f.rule, f.line) for f in result.findings] == [("MIG001", 30)]
    rewritten = result.rewritten.decode("utf-8")
    assert rewritten.count("get_agent_instance_factory()") == 4
    assert "create_agent_instance_factory(user_context)" in rewritten


def test_old_fences_are_scanned_when_the_config_asks():
    config = msgspec.structs.replace(make_config(), scan_old_fences=True)
    result = run_text(GUIDE, relpath="docs/guide.md", config=config)
    assert sorted(f.line for f in result.findings if f.rule == "MIG001") == [6, 12, 17, 23, 30]


def test_old_fence_labels_come_from_the_heading_and_the_paragraph_before():
    fences = python_fences(GUIDE)
    assert [fence.shows_old_pattern for fence in fences] == [True, True, True, True, False]
