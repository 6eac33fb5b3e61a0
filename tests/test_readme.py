"""The README is the first hour: its commands, its contents, its links and its reference."""

from __future__ import annotations

import re
from pathlib import Path

from migrator import config
from migrator.config_reference import PHASE_KEYS, TOP_LEVEL, markdown_reference

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _headings(text: str) -> list[tuple[int, str]]:
    inside_code = False
    found = []
    for line in text.splitlines():
        if line.startswith("```"):
            inside_code = not inside_code
        elif not inside_code and line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            found.append((level, line[level:].strip()))
    return found


def test_opens_with_the_two_commands():
    first_block = README.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert README.index("```bash") < README.index("\n## ")
    assert first_block[0].startswith("pip install . && migrator apply fixtures/netra_sample")
    assert first_block[0].endswith("; migrator scan fixtures/netra_sample")
    assert first_block[1] == "pip install -e '.[dev]' && pytest"


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q -e '.[dev]'" in script
    # The suite runs under the default interpreter, then in a venv per other supported Python.
    assert re.search(r'^\s*"\$python" -m pytest\b', script, re.MULTILINE)
    assert re.search(r"^\s*run_suite python$", script, re.MULTILINE)


def test_contents_link_every_section_and_every_link_resolves():
    anchors = {_slug(text) for level, text in _headings(README) if level >= 2}
    sections = [text for level, text in _headings(README) if level == 2 and text != "Contents"]
    contents = README.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    assert {_slug(s) for s in sections} <= set(linked)
    for anchor in re.findall(r"\]\(#([^)]+)\)", README):
        assert anchor in anchors, anchor
    for target in re.findall(r"\]\(((?:docs/|CHANGELOG|LICENSE)[^)#]*)", README):
        assert (ROOT / target).is_file(), target


def test_has_a_use_in_ci_section_with_workflow_hooks_baseline_and_exit_codes():
    section = README.split("## Use in CI\n", 1)[1].split("\n## ", 1)[0]
    assert "github/codeql-action/upload-sarif" in section and "--format sarif" in section
    assert "migrator-check" in section and "migrator-apply" in section
    assert "migrator baseline --output" in section and "--update-baseline" in section
    assert "| code | meaning |" in README


def test_configuration_reference_is_generated_from_the_schema():
    block = README.split("<!-- config:start -->\n", 1)[1].split("<!-- config:end -->", 1)[0]
    assert block == markdown_reference()


def test_the_schema_documents_exactly_the_keys_the_config_accepts():
    assert {key.name for key in TOP_LEVEL} == config._TOP_KEYS
    assert {key.name for key in PHASE_KEYS} == config._PHASE_KEYS


def test_runtime_and_benchmark_details_live_in_docs():
    assert "bench/run.py" not in README and "bench_runtime" not in README
    assert "bench/run.py" in (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")


def test_pre_commit_hooks_run_the_command_that_stays_migrator():
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert re.findall(r"^- id: (\S+)", hooks, re.MULTILINE) == ["migrator-check", "migrator-apply"]
    assert all(line.split(":", 1)[1].split()[0] == "migrator" for line in hooks.splitlines() if "entry:" in line)
