"""Parsing the command line: the contract's flags, options between paths, and refusals (exit 2)."""

from __future__ import annotations

import pytest

from migrator import cli_parser, gate
from migrator.cli import COMMANDS
from migrator.exit_codes import ExitCode

# The flags the CLI contract names, per command (DESIGN.md, "CLI contract").
CONTRACT = {
    "scan": ["--phase", "--format", "--output", "--jobs", "--no-cache", "--shard", "--select", "--ignore"],
    "check": [
        "--phase", "--format", "--output", "--baseline", "--update-baseline", "--exit-zero", "--shard",
        "--select", "--ignore",
    ],
    "apply": [
        "--phase", "--dry-run", "--diff", "--rule", "--allow-dirty", "--jobs", "--format", "--unsafe-fixes",
        "--interactive", "--select", "--ignore",
    ],
    "baseline": ["--output"],
    "merge-reports": ["--format", "--output"],
    "rollback": ["--force"],
    "rules": [],
    "explain": ["RULE_ID"],
}


def test_every_command_of_the_contract_is_there_with_its_flags(cli, tmp_path):
    assert [command.name for command in COMMANDS] == list(CONTRACT)
    top = cli("-h", cwd=tmp_path)
    assert top.code == ExitCode.CLEAN
    for name, flags in CONTRACT.items():
        assert name in top.out
        own = cli(name, "-h", cwd=tmp_path)
        assert own.code == ExitCode.CLEAN and own.out.startswith(f"usage: migrator {name} ")
        for flag in flags:
            assert flag in own.out, (name, flag)


def test_options_may_come_between_paths(cli, project):
    first = cli("scan", "app", "--phase", "2A", "tests", "-f", "json", cwd=project)
    second = cli("scan", "--phase", "2A", "-f", "json", "app", "tests", cwd=project)
    assert first.code == second.code == ExitCode.CLEAN
    assert first.json() == second.json() and first.json()["summary"]["by_phase"] == {"2A": 2}


def test_after_a_double_dash_every_word_is_a_path_even_one_that_looks_like_an_option(cli, project):
    (project / "-o.py").write_bytes((project / "app" / "routes.py").read_bytes())
    before = sorted(path.name for path in project.iterdir())
    result = cli("check", "-f", "json", "--", "-o.py", "app", cwd=project)
    assert result.code == ExitCode.FINDINGS
    assert {f["path"] for f in result.json()["findings"]} == {"-o.py", "app/routes.py"}
    # `-o.py` read as `-o .py` would have written the report to a file named `.py`.
    assert sorted(path.name for path in project.iterdir() if path.name != ".migrator") == before


def test_a_command_without_paths_takes_its_argument_after_a_double_dash(cli, project):
    result = cli("explain", "--", "MIG001", cwd=project)
    assert result.code == ExitCode.CLEAN and result.out.startswith("MIG001 ")


def test_repeated_options_add_up(cli, project):
    doc = cli("scan", "-p", "2A", "--phase", "tests", "-f", "json", cwd=project).json()
    assert doc["summary"]["by_phase"] == {"2A": 2, "2B": 2}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("scan", "--format", "xml"), "invalid choice: 'xml' (choose from table, json, sarif, github)"),
        (("apply", "--phase", "2A", "--format", "sarif"), "invalid choice: 'sarif' (choose from table, json)"),
        (("scan", "--jobs", "-1"), "must be 0 or more, not -1"),
        (("scan", "--jobs", "two"), "not a whole number: 'two'"),
        (("apply",), "the following arguments are required: -p/--phase"),
        (("baseline",), "the following arguments are required: -o/--output"),
        (("merge-reports",), "the following arguments are required: REPORT"),
        (("explain",), "the following arguments are required: RULE_ID"),
        (("scan", "--no-cach"), "unrecognized arguments: --no-cach"),
        (("check", "--bogus"), "unrecognized arguments: --bogus"),
        (("bogus",), "invalid choice: 'bogus'"),
        (("--bogus", "scan"), "unrecognized arguments: --bogus (the command comes first"),
    ],
)
def test_a_bad_command_line_exits_2_and_says_what_is_wrong(cli, project, args, says):
    result = cli(*args, cwd=project)
    assert result.code == ExitCode.USAGE
    assert says in result.err and result.out == ""
    assert not (project / ".migrator").exists()


def test_an_interrupted_run_exits_130_and_says_so(cli, project, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gate, "open_session", interrupt)
    result = cli("check", cwd=project)
    assert result.code == ExitCode.INTERRUPTED == 130
    assert result.err == "migrator: interrupted\n" and result.out == ""


def test_no_arguments_print_the_help_on_stderr_and_exit_2(cli, tmp_path):
    result = cli(cwd=tmp_path)
    assert result.code == ExitCode.USAGE and result.out == ""
    assert result.err.startswith("usage: migrator") and all(command.name in result.err for command in COMMANDS)


def test_a_command_builds_only_its_own_parser(cli, project, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the whole tree of parsers was built")

    monkeypatch.setattr(cli_parser, "top_parser", refuse)
    assert cli("scan", "-f", "json", cwd=project).code == ExitCode.CLEAN
    with pytest.raises(AssertionError, match="whole tree"):
        cli("-h", cwd=project)
