"""The baseline ratchet: only new findings fail, moved ones stay tolerated, fixed ones tighten it."""

from __future__ import annotations

import json

from migrator.baseline import statement_text
from migrator.exit_codes import ExitCode
from migrator.results import Finding
from tests.conftest import FACTORY, write

NEW_CALL = f"""
    from {FACTORY} import get_agent_instance_factory


    async def other(user_id, thread_id):
        return get_agent_instance_factory()
"""


def make_baseline(cli, project, tmp_path):
    target = tmp_path / "baseline.json"
    result = cli("baseline", "--output", str(target), cwd=project)
    assert result.code == ExitCode.CLEAN, result.err
    return target


def test_statement_text_collapses_whitespace_over_the_finding_lines():
    finding = Finding("a.py", 2, 5, 3, 9, "MIG001", "2A", "m", True)
    assert statement_text(["x", "  f = get(  ", "    1)", "y"], finding) == "f = get( 1)"


def test_baseline_file_holds_fingerprints_not_just_lines(cli, project, tmp_path):
    doc = json.loads(make_baseline(cli, project, tmp_path).read_text())
    assert doc["kind"] == "migrator-baseline" and doc["version"] == 1
    assert len(doc["findings"]) == 6
    assert all(len(entry["fingerprint"]) == 32 for entry in doc["findings"])
    assert len({entry["fingerprint"] for entry in doc["findings"]}) == 6


def test_check_passes_on_the_baselined_tree(cli, project, tmp_path):
    baseline = make_baseline(cli, project, tmp_path)
    result = cli("check", "--baseline", str(baseline), "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    doc = result.json()
    assert doc["findings"] == [] and doc["summary"]["tolerated"] == 6


def test_check_fails_on_new_findings_only_and_shows_only_them(cli, project, tmp_path):
    baseline = make_baseline(cli, project, tmp_path)
    write(project, {"app/other.py": NEW_CALL})
    result = cli("check", "--baseline", str(baseline), "--format", "json", cwd=project)
    assert result.code == ExitCode.FINDINGS
    doc = result.json()
    assert {f["path"] for f in doc["findings"]} == {"app/other.py"}
    assert doc["summary"]["findings"] == 2 and doc["summary"]["tolerated"] == 6
    github = cli("check", "--baseline", str(baseline), "--format", "github", cwd=project)
    assert github.out and all("file=app/other.py" in line for line in github.out.splitlines())
    assert "6 tolerated by the baseline" in github.err


def test_a_second_identical_call_in_a_baselined_file_is_new(cli, project, tmp_path):
    baseline = make_baseline(cli, project, tmp_path)
    routes = project / "app" / "routes.py"
    routes.write_text(routes.read_text() + "\n\nasync def again(user_id, thread_id, run_id):\n    factory = get_agent_instance_factory()\n    return factory\n")
    doc = cli("check", "--baseline", str(baseline), "--format", "json", cwd=project).json()
    assert [(f["path"], f["rule"], f["line"]) for f in doc["findings"]] == [("app/routes.py", "MIG001", 11)]


def test_moved_findings_stay_tolerated(cli, project, tmp_path):
    baseline = make_baseline(cli, project, tmp_path)
    routes = project / "app" / "routes.py"
    routes.write_text('"""Routes."""\n\nimport os\n\n\n' + routes.read_text().replace("    return factory", "    # keep it\n    return factory"))
    assert cli("check", "--baseline", str(baseline), cwd=project).code == ExitCode.CLEAN


def test_fixed_findings_are_reported_and_update_baseline_tightens_the_file(cli, project, tmp_path):
    baseline = make_baseline(cli, project, tmp_path)
    assert cli("apply", "--phase", "2A", cwd=project).code == ExitCode.CLEAN
    result = cli("check", "--baseline", str(baseline), cwd=project)
    assert result.code == ExitCode.CLEAN
    assert "2 finding(s) of the baseline were fixed since" in result.err
    assert len(json.loads(baseline.read_text())["findings"]) == 6
    write(project, {"app/other.py": NEW_CALL})
    tightened = cli("check", "--baseline", str(baseline), "--update-baseline", cwd=project)
    assert tightened.code == ExitCode.FINDINGS and "tightened" in tightened.err
    entries = json.loads(baseline.read_text())["findings"]
    assert len(entries) == 4 and not {e["path"] for e in entries} & {"app/routes.py", "app/other.py"}


def test_a_partial_run_keeps_the_entries_of_files_it_did_not_scan(cli, project, tmp_path):
    baseline = make_baseline(cli, project, tmp_path)
    result = cli("check", "app", "--baseline", str(baseline), "--update-baseline", cwd=project)
    assert result.code == ExitCode.CLEAN and "already tight" in result.err
    assert len(json.loads(baseline.read_text())["findings"]) == 6


def test_a_json_report_still_works_as_a_baseline(cli, project, tmp_path):
    report = tmp_path / "report.json"
    cli("scan", "--format", "json", "--output", str(report), cwd=project)
    assert cli("check", "--baseline", str(report), cwd=project).code == ExitCode.CLEAN
    write(project, {"app/other.py": NEW_CALL})
    assert cli("check", "--baseline", str(report), cwd=project).code == ExitCode.FINDINGS


def test_missing_or_broken_baseline_is_a_usage_error(cli, project, tmp_path):
    missing = cli("check", "--baseline", str(tmp_path / "none.json"), cwd=project)
    assert missing.code == ExitCode.USAGE and "migrator baseline --output" in missing.err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert cli("check", "--baseline", str(broken), cwd=project).code == ExitCode.USAGE
    assert cli("check", "--update-baseline", cwd=project).code == ExitCode.USAGE
