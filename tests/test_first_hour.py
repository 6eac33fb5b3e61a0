"""What a new user meets first: version and help, loud failures, quiet and verbose output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect

import migrator
from migrator.exit_codes import ExitCode
from tests.conftest import FACTORY, write

ROOT = Path(__file__).resolve().parent.parent


def test_version_and_short_help(cli, tmp_path):
    version = cli("--version", cwd=tmp_path)
    assert version.code == ExitCode.CLEAN and version.out == f"migrator {migrator.__version__}\n"
    short = cli("-h", cwd=tmp_path)
    assert short.code == ExitCode.CLEAN and "merge-reports" in short.out
    assert "--shard" in cli("check", "-h", cwd=tmp_path).out


def test_check_of_an_empty_folder_exits_2_and_says_why(cli, tmp_path):
    result = cli("check", cwd=tmp_path)
    assert result.code == ExitCode.USAGE
    assert "no file to scan" in result.err and "right folder" in result.err


def test_every_command_refuses_a_run_with_no_file(cli, project):
    write(project, {"notes.txt": "nothing to scan\n"})
    for args in (("scan", "notes.txt"), ("check", "--phase", "docs", "app"), ("apply", "--phase", "all", "notes.txt")):
        result = cli(*args, cwd=project)
        assert result.code == ExitCode.USAGE, args


def test_check_output_writes_the_report_to_a_file(cli, project, tmp_path):
    target = tmp_path / "check.json"
    result = cli("check", "--format", "json", "--output", str(target), cwd=project)
    assert result.code == ExitCode.FINDINGS and result.out == ""
    assert '"findings"' in target.read_text()


def test_exit_zero_is_the_one_opt_out(cli, project):
    assert cli("check", "--exit-zero", cwd=project).code == ExitCode.CLEAN
    assert cli("check", "--exit-zero", "nowhere", cwd=project).code == ExitCode.USAGE


def test_github_format_is_chosen_under_github_actions(cli, project, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("check", cwd=project)
    assert result.code == ExitCode.FINDINGS
    assert result.out.startswith("::") and "file=app/routes.py" in result.out
    assert cli("check", "--format", "json", cwd=project).json()["version"] == 1


def test_quiet_keeps_stderr_empty_and_verbose_names_the_configuration(cli, project):
    quiet = cli("check", "-q", "--format", "json", cwd=project)
    assert quiet.code == ExitCode.FINDINGS and quiet.err == "" and quiet.json()["findings"]
    verbose = cli("scan", "-v", cwd=project)
    assert "pyproject.toml" in verbose.err and "file(s) to scan" in verbose.err
    assert cli("scan", "-q", "-v", cwd=project).code == ExitCode.USAGE


def _table_on_a_terminal(project: Path, no_color: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "160"})
    if no_color:
        env["NO_COLOR"] = "1"
    child = pexpect.spawn(sys.executable, ["-m", "migrator", "scan", "--no-cache"], cwd=str(project), env=env,
                          encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def test_no_color_turns_off_every_style(project):
    assert "\x1b[" in _table_on_a_terminal(project, no_color=False)
    plain = _table_on_a_terminal(project, no_color=True)
    assert "MIG001" in plain and "\x1b[" not in plain


def test_legacy_names_defined_elsewhere_get_a_warning_naming_the_key(cli, tmp_path):
    write(tmp_path, {
        "pyproject.toml": "[tool.migrator]\n",
        "core/factory.py": "def get_agent_instance_factory():\n    return None\n",
        "app/routes.py": "from core.factory import get_agent_instance_factory\n\nF = get_agent_instance_factory()\n",
    })
    result = cli("check", cwd=tmp_path)
    assert result.code == ExitCode.CLEAN
    assert "warning" in result.err and "key 'legacy'" in result.err
    (tmp_path / "pyproject.toml").write_text('[tool.migrator.legacy]\nget_agent_instance_factory = "core.factory"\n')
    found = cli("check", cwd=tmp_path)
    assert found.code == ExitCode.FINDINGS and "warning" not in found.err


def test_apply_warns_when_the_import_target_does_not_exist(cli, project):
    result = cli("apply", "--phase", "2A", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert "key 'imports.UserExecutionContext'" in result.err
    assert "key 'imports.create_agent_instance_factory'" in result.err
    write(project, {"pyproject.toml": '[tool.migrator.imports]\nUserExecutionContext = "migrator.runtime"\n'
                                      'create_agent_instance_factory = "migrator.runtime"\n'})
    again = cli("apply", "--phase", "2B", cwd=project)
    assert "imports." not in again.err


def test_phase_patterns_that_match_nothing_are_named(cli, project):
    (project / "pyproject.toml").write_text("[tool.migrator.phases.2A]\npaths = ['app/', 'services/']\n")
    result = cli("scan", cwd=project)
    assert "key 'phases.2A.paths': pattern 'services/' matches no file" in result.err
    assert "'app/'" not in result.err


def test_rollback_force_keeps_a_copy_of_later_edits(cli, project):
    run_id = cli("apply", "--phase", "2A", "--format", "json", cwd=project).json()["run_id"]
    routes = project / "app" / "routes.py"
    routes.write_text(routes.read_text() + "# my later edit\n")
    result = cli("rollback", "--force", cwd=project)
    assert result.code == ExitCode.CLEAN and "kept a copy of 1 file(s)" in result.err
    kept = project / ".migrator" / "kept" / run_id / "app" / "routes.py"
    assert kept.read_text().endswith("# my later edit\n")
    assert f"from {FACTORY} import get_agent_instance_factory" in routes.read_text()


def test_force_exclude_drops_named_files_the_configuration_excludes(cli, project):
    write(project, {"vendor/lib.py": f"from {FACTORY} import get_agent_instance_factory\n"})
    (project / "pyproject.toml").write_text('[tool.migrator]\nexclude = ["vendor/"]\n')
    assert cli("check", "vendor/lib.py", cwd=project).code == ExitCode.FINDINGS
    assert cli("check", "vendor/lib.py", "--force-exclude", cwd=project).code == ExitCode.USAGE
    hook = cli("check", "vendor/lib.py", "app/clean.py", "--force-exclude", "--allow-no-files", "--format", "json", cwd=project)
    assert hook.code == ExitCode.CLEAN and hook.json()["summary"]["files_scanned"] == 1
    nothing = cli("check", "vendor/lib.py", "--force-exclude", "--allow-no-files", "--format", "json", cwd=project)
    assert nothing.code == ExitCode.CLEAN and nothing.json()["summary"]["files_scanned"] == 0


def test_an_output_path_that_cannot_be_written_is_a_usage_error(cli, project, tmp_path):
    result = cli("check", "--format", "json", "--output", str(tmp_path / "no" / "such" / "dir.json"), cwd=project)
    assert result.code == ExitCode.USAGE and "cannot write" in result.err
    table = tmp_path / "table.txt"
    assert cli("check", "--output", str(table), cwd=project).code == ExitCode.FINDINGS
    assert "app/routes.py:6:15: MIG001" in table.read_text()
