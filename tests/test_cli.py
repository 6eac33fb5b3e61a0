"""The commands end to end on real files: exit codes, JSON, writing, journal and rollback."""

from __future__ import annotations

import os
import stat

from migrator import discovery
from migrator.exit_codes import ExitCode
from tests.conftest import FACTORY, git, snapshot, write


def test_scan_json_counts_every_phase(cli, project):
    result = cli("scan", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    doc = result.json()
    assert doc["version"] == 1 and doc["tool"]["name"] == "migrator"
    assert doc["summary"]["by_phase"] == {"2A": 2, "2B": 2, "2C": 2}
    assert doc["summary"]["by_rule"] == {"MIG001": 3, "MIG002": 3}
    assert doc["summary"]["files_with_findings"] == 3
    call = next(f for f in doc["findings"] if f["path"] == "app/routes.py" and f["rule"] == "MIG001")
    assert (call["line"], call["column"], call["end_line"], call["end_column"]) == (6, 15, 6, 43)
    assert call["fixable"] is True and call["reason"] is None


def test_scan_table_goes_to_stdout_and_status_to_stderr(cli, project):
    result = cli("scan", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert "MIG001" in result.out and "app/routes.py" in result.out
    assert "finding(s)" in result.err and "finding(s)" not in result.out


def test_scan_phase_alias_selects_one_phase(cli, project):
    doc = cli("scan", "--phase", "tests", "--format", "json", cwd=project).json()
    assert {f["phase"] for f in doc["findings"]} == {"2B"}


def test_scan_writes_output_file(cli, project, tmp_path):
    target = tmp_path / "report.json"
    result = cli("scan", "--format", "json", "--output", str(target), cwd=project)
    assert result.code == ExitCode.CLEAN and result.out == ""
    assert '"version": 1' in target.read_text()


def test_unknown_phase_is_a_usage_error(cli, project):
    result = cli("scan", "--phase", "2Z", cwd=project)
    assert result.code == ExitCode.USAGE
    assert "unknown phase '2Z'" in result.err


def test_missing_path_is_a_usage_error(cli, project):
    assert cli("check", "nowhere", cwd=project).code == ExitCode.USAGE


def test_bad_config_names_file_and_key(cli, project):
    (project / "pyproject.toml").write_text("[tool.migrator]\nexclud = ['x']\n")
    result = cli("scan", cwd=project)
    assert result.code == ExitCode.USAGE
    assert "pyproject.toml" in result.err and "'exclud'" in result.err


def test_check_exits_1_while_findings_remain_and_0_when_clean(cli, project):
    assert cli("check", cwd=project).code == ExitCode.FINDINGS
    assert cli("check", "app/clean.py", cwd=project).code == ExitCode.CLEAN


def test_check_lists_findings_with_positions(cli, project):
    result = cli("check", "app", cwd=project)
    assert "app/routes.py:6:15: MIG001" in result.out


def test_check_fails_on_unparsable_file_that_mentions_the_name(cli, tmp_path):
    write(tmp_path, {"broken.py": "def f(:\n    get_agent_instance_factory()\n", "other.py": "def g(:\n"})
    result = cli("check", "--format", "json", cwd=tmp_path)
    assert result.code == ExitCode.FINDINGS
    errors = result.json()["errors"]
    assert [e["path"] for e in errors] == ["broken.py"]
    assert "cannot parse" in errors[0]["message"]


def test_check_baseline_tolerates_known_findings(cli, project, tmp_path):
    baseline = tmp_path / "baseline.json"
    cli("scan", "--format", "json", "--output", str(baseline), cwd=project)
    assert cli("check", "--baseline", str(baseline), cwd=project).code == ExitCode.CLEAN
    write(project, {"app/new.py": f"from {FACTORY} import get_agent_instance_factory\n"})
    assert cli("check", "--baseline", str(baseline), cwd=project).code == ExitCode.FINDINGS


def test_check_sarif_and_github_formats(cli, project):
    sarif = cli("check", "--format", "sarif", cwd=project)
    assert sarif.code == ExitCode.FINDINGS
    import json

    doc = json.loads(sarif.out)
    assert doc["version"] == "2.1.0"
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} == {"MIG001", "MIG002"}
    github = cli("check", "--format", "github", cwd=project)
    assert any(line.startswith("::warning file=app/routes.py,line=6,col=15") for line in github.out.splitlines())


def test_apply_rewrites_only_its_phase(cli, project):
    before = snapshot(project)
    result = cli("apply", "--phase", "2A", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    doc = result.json()
    assert doc["changed_files"] == ["app/routes.py"] and doc["fixed"] == 2 and doc["manual"] == 0
    assert doc["run_id"]
    after = snapshot(project)
    assert after["tests/test_routes.py"] == before["tests/test_routes.py"]
    assert after["examples/usage.py"] == before["examples/usage.py"]
    assert b"create_agent_instance_factory(user_context)" in after["app/routes.py"]
    compile(after["app/routes.py"], "routes.py", "exec")


def test_apply_is_idempotent(cli, project):
    cli("apply", "--phase", "all", cwd=project)
    first = snapshot(project)
    again = cli("apply", "--phase", "all", "--format", "json", cwd=project)
    assert again.json()["changed_files"] == []
    assert snapshot(project) == first


def test_apply_exits_1_when_manual_review_remains(cli, project):
    write(project, {"app/startup.py": f"from {FACTORY} import get_agent_instance_factory\n\nF = get_agent_instance_factory()\n"})
    result = cli("apply", "--phase", "production", cwd=project)
    assert result.code == ExitCode.FINDINGS
    assert "app/startup.py:3:5: MIG001" in result.out
    assert "module level" in result.out


def test_apply_dry_run_writes_nothing_and_diff_shows_changes(cli, project):
    before = snapshot(project)
    result = cli("apply", "--phase", "2A", "--dry-run", "--diff", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert "--- a/app/routes.py" in result.out and "+    factory = create_agent_instance_factory(user_context)" in result.out
    assert snapshot(project) == before
    assert not (project / ".migrator").exists()


def test_apply_requires_a_phase(cli, project):
    assert cli("apply", cwd=project).code == ExitCode.USAGE


def test_apply_keeps_mode_bits_and_leaves_no_temp_files(cli, project):
    target = project / "app/routes.py"
    os.chmod(target, 0o754)
    cli("apply", "--phase", "2A", cwd=project)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o754
    assert not list(project.rglob("*.migrator-tmp"))


def test_rollback_restores_original_bytes(cli, project):
    before = snapshot(project)
    cli("apply", "--phase", "all", cwd=project)
    assert snapshot(project) != before
    result = cli("rollback", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert snapshot(project) == before
    assert cli("rollback", cwd=project).code == ExitCode.USAGE


def test_rollback_of_a_named_run_and_refusal_of_changed_files(cli, project):
    before = snapshot(project)
    run_id = cli("apply", "--phase", "2A", "--format", "json", cwd=project).json()["run_id"]
    cli("apply", "--phase", "2B", cwd=project)
    (project / "app/routes.py").write_text("edited by hand\n")
    refused = cli("rollback", run_id, cwd=project)
    assert refused.code == ExitCode.USAGE and "app/routes.py" in refused.err
    assert (project / "app/routes.py").read_text() == "edited by hand\n"
    assert cli("rollback", run_id, "--force", cwd=project).code == ExitCode.CLEAN
    assert (project / "app/routes.py").read_bytes() == before["app/routes.py"]


def test_apply_refuses_dirty_git_tree(cli, project):
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "start")
    (project / "app/routes.py").write_text((project / "app/routes.py").read_text() + "# local edit\n")
    before = snapshot(project)
    refused = cli("apply", "--phase", "2A", cwd=project)
    assert refused.code == ExitCode.USAGE
    assert "uncommitted" in refused.err and "app/routes.py" in refused.err
    assert snapshot(project) == before
    assert cli("apply", "--phase", "2A", "--allow-dirty", cwd=project).code == ExitCode.CLEAN


def test_apply_in_clean_git_tree_proceeds(cli, project):
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "start")
    assert cli("apply", "--phase", "2A", cwd=project).code == ExitCode.CLEAN
    assert b"create_agent_instance_factory" in (project / "app/routes.py").read_bytes()


def test_unreadable_file_is_an_error_not_a_crash(cli, project, monkeypatch):
    target = project / "app/secret.py"
    target.write_text(f"from {FACTORY} import get_agent_instance_factory\n")
    if os.geteuid() != 0:
        os.chmod(target, 0)
    else:  # root reads any file, so make this one path fail the way a permission error would
        real = discovery.read_path

        def read_path(path):
            if os.fspath(path).endswith("/app/secret.py"):
                raise PermissionError(13, "Permission denied")
            return real(path)

        monkeypatch.setattr(discovery, "read_path", read_path)
    result = cli("check", "--format", "json", cwd=project)
    assert result.code == ExitCode.FINDINGS
    assert {"path": "app/secret.py", "message": "cannot read: Permission denied"} in result.json()["errors"]


def test_ignored_and_excluded_folders_are_not_scanned(cli, project):
    line = f"from {FACTORY} import get_agent_instance_factory\n"
    write(
        project,
        {
            ".gitignore": "generated/\n",
            "generated/x.py": line,
            ".venv/lib/x.py": line,
            "node_modules/x.py": line,
            "build/x.py": line,
            "app/x.py.backup": line,
        },
    )
    paths = {f["path"] for f in cli("scan", "--format", "json", cwd=project).json()["findings"]}
    assert paths == {"app/routes.py", "tests/test_routes.py", "examples/usage.py"}


def test_rules_and_explain(cli, project):
    listed = cli("rules", cwd=project)
    assert listed.code == ExitCode.CLEAN
    assert "MIG001" in listed.out and "MIG002" in listed.out
    explained = cli("explain", "mig001", cwd=project)
    assert explained.code == ExitCode.CLEAN
    for heading in ("What it finds", "Why it is a problem", "Before", "After"):
        assert heading in explained.out
    assert cli("explain", "MIG999", cwd=project).code == ExitCode.USAGE


def test_python_dash_m_runs(project):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "migrator", "rules"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0 and "MIG001" in done.stdout
