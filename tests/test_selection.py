"""Rule selection: `select`, `ignore`, `extend-select`, `per-file-ignores` and `--select/--ignore`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from migrator.config import parse_config
from migrator.exit_codes import ExitCode, UsageError
from migrator.rules import load_rules
from migrator.selection import Layer, PerFileIgnores, cli_layer, enabled_ids, enabled_rules
from migrator.transforms import TRANSFORMS
from tests.conftest import FACTORY, write

IDS = ["MIG000", "MIG001", "MIG002", "MIG003", "MIG010", "MIG011"]


def _config(table: dict, source: Path | None = Path("/p/pyproject.toml")):
    return parse_config(table, root=Path("/p"), source=source)


def test_config_keys_are_read_and_upper_cased():
    config = _config({"select": ["mig001", "MIG00"], "ignore": ["MIG003"], "extend-select": ["MIG010"],
                      "per-file-ignores": {"tests/**": ["mig002"]}})
    assert config.select == ("MIG001", "MIG00") and config.ignore == ("MIG003",)
    assert config.extend_select == ("MIG010",)
    assert config.per_file_ignores == (("tests/**", ("MIG002",)),)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"select": "MIG001"}, "key 'select' expects a list of strings, got str 'MIG001'"),
        ({"ignore": ["MIG-1"]}, "key 'ignore' expects rule IDs or prefixes such as MIG001, MIG00 or ALL, got 'MIG-1'"),
        ({"extend-select": [1]}, "key 'extend-select' expects a list of strings"),
        ({"per-file-ignores": ["tests/"]}, "key 'per-file-ignores' expects a table"),
        ({"per-file-ignores": {"tests/": "MIG001"}}, "key 'per-file-ignores.tests/' expects a list of strings"),
        ({"extend_select": []}, "unknown key 'extend_select' in [tool.migrator]"),
    ],
)
def test_malformed_selection_keys_name_the_file_and_key(table, message):
    with pytest.raises(UsageError) as error:
        _config(table)
    assert str(error.value).startswith("/p/pyproject.toml: ")
    assert message in str(error.value)


def test_default_selects_every_rule():
    assert enabled_ids(IDS, [Layer("c")]) == frozenset(IDS)


def test_prefix_selects_every_rule_it_starts():
    assert enabled_ids(IDS, [Layer("c", select=("MIG00",))]) == {"MIG000", "MIG001", "MIG002", "MIG003"}
    assert enabled_ids(IDS, [Layer("c", select=("ALL",), ignore=("MIG01",))]) == {"MIG000", "MIG001", "MIG002", "MIG003"}


def test_more_specific_selector_wins_and_ignore_wins_a_tie():
    layer = Layer("c", select=("MIG",), ignore=("MIG00",), extend_select=("MIG001",))
    assert enabled_ids(IDS, [layer]) == {"MIG001", "MIG010", "MIG011"}
    assert enabled_ids(IDS, [Layer("c", select=("MIG001",), ignore=("MIG001",))]) == frozenset()


def test_command_line_select_replaces_the_config_and_ignore_narrows_it():
    config = Layer("c", select=("MIG001", "MIG002"), ignore=("MIG002",))
    assert enabled_ids(IDS, [config]) == {"MIG001"}
    assert enabled_ids(IDS, [config, cli_layer(["MIG002,MIG003"], [])]) == {"MIG002", "MIG003"}
    assert enabled_ids(IDS, [Layer("c", extend_select=("MIG001",)), cli_layer([], ["MIG00"])]) == {"MIG010", "MIG011"}


def test_repeated_and_comma_separated_options_add_up():
    layer = cli_layer(["mig001, MIG002", "MIG010"], ["MIG002"])
    assert layer.select == ("MIG001", "MIG002", "MIG010") and layer.ignore == ("MIG002",)
    assert enabled_ids(IDS, [Layer("c"), layer]) == {"MIG001", "MIG010"}


def test_unknown_rule_in_config_names_file_and_key():
    with pytest.raises(UsageError) as error:
        enabled_ids(IDS, [Layer("/p/pyproject.toml", ignore=("MIG099",))])
    assert str(error.value) == "/p/pyproject.toml: key 'ignore' names unknown rule 'MIG099'; `migrator rules` lists them"


def test_unknown_prefix_on_the_command_line_names_the_option():
    with pytest.raises(UsageError, match="command line: option --select names unknown rule 'XYZ'"):
        enabled_ids(IDS, [Layer("c"), cli_layer(["XYZ"], [])])
    with pytest.raises(UsageError, match="option --ignore expects rule IDs"):
        cli_layer([], ["MIG 1"])


def test_enabled_rules_reads_the_config_layer():
    rules = load_rules((), TRANSFORMS.keys())
    chosen = enabled_rules(rules, _config({"select": ["MIG00"], "ignore": ["MIG000", "MIG002"]}))
    assert [rule.id for rule in chosen] == [r.id for r in rules if r.id.startswith("MIG00") and r.id not in ("MIG000", "MIG002")]


def test_per_file_ignores_match_gitignore_style_globs():
    rules = load_rules((), TRANSFORMS.keys())
    config = _config({"per-file-ignores": {"tests/legacy/**": ["MIG003"], "conftest.py": ["MIG00"], "*.md": ["MIG001"]}})
    ignores = PerFileIgnores.build(config, rules)
    assert ignores.ignored("tests/legacy/old/test_a.py") == {"MIG003"}
    assert ignores.ignored("tests/test_b.py") == frozenset()
    assert "MIG001" in ignores.ignored("pkg/tests/conftest.py") and "MIG003" in ignores.ignored("pkg/tests/conftest.py")
    assert ignores.ignored("docs/guide.md") == {"MIG001"}


def test_per_file_ignores_with_unknown_rule_names_file_and_key():
    config = _config({"per-file-ignores": {"tests/**": ["MIG777"]}})
    with pytest.raises(UsageError) as error:
        PerFileIgnores.build(config, load_rules((), TRANSFORMS.keys()))
    assert str(error.value).startswith("/p/pyproject.toml: key 'per-file-ignores.\"tests/**\"' names unknown rule 'MIG777'")


# End to end: the commands read the config and the options.


def _rules_by_path(doc: dict) -> set[tuple[str, str]]:
    return {(f["rule"], f["path"]) for f in doc["findings"]}


def test_scan_select_option_keeps_only_those_rules(cli, project):
    result = cli("scan", "--select", "MIG001", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert result.json()["summary"]["by_rule"] == {"MIG001": 3}


def test_scan_ignore_option_is_repeatable_and_comma_separated(cli, project):
    result = cli("scan", "--ignore", "MIG002", "--ignore", "MIG003,MIG004", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert result.json()["summary"]["by_rule"] == {"MIG001": 3}


def test_check_passes_once_the_remaining_rules_are_ignored(cli, project):
    assert cli("check", "--format", "json", cwd=project).code == ExitCode.FINDINGS
    result = cli("check", "--ignore", "MIG001,MIG002", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert result.json()["findings"] == []


def test_check_with_unknown_rule_option_is_a_usage_error(cli, project):
    result = cli("check", "--select", "MIG0999", cwd=project)
    assert result.code == ExitCode.USAGE
    assert "option --select" in result.err and "'MIG0999'" in result.err


def test_config_selection_and_per_file_ignores_apply_to_scan(cli, project):
    (project / "pyproject.toml").write_text(
        '[tool.migrator]\nignore = ["MIG002"]\n[tool.migrator.per-file-ignores]\n"tests/**" = ["MIG001"]\n'
    )
    doc = cli("scan", "--format", "json", cwd=project).json()
    assert _rules_by_path(doc) == {("MIG001", "app/routes.py"), ("MIG001", "examples/usage.py")}
    # The command line's --select starts afresh; per-file ignores still hold.
    doc = cli("scan", "--select", "MIG00", "--format", "json", cwd=project).json()
    assert ("MIG002", "tests/test_routes.py") in _rules_by_path(doc)
    assert ("MIG001", "tests/test_routes.py") not in _rules_by_path(doc)


def test_migrator_toml_takes_selection_at_top_level(cli, project):
    (project / "pyproject.toml").unlink()
    (project / "migrator.toml").write_text('select = ["MIG002"]\n')
    doc = cli("scan", "--format", "json", cwd=project).json()
    assert doc["summary"]["by_rule"] == {"MIG002": 3}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('select = ["MIG099"]\n', "key 'select' names unknown rule 'MIG099'"),
        ('extend-select = ["ABC"]\n', "key 'extend-select' names unknown rule 'ABC'"),
        ('[tool.migrator.per-file-ignores]\n"tests/**" = ["MIG0090"]\n', "key 'per-file-ignores.tests/**' expects rule IDs"),
    ],
)
def test_unknown_rules_in_config_stop_every_command(cli, project, body, key):
    (project / "pyproject.toml").write_text("[tool.migrator]\n" + body)
    for args in (("scan",), ("check",), ("apply", "--phase", "2A")):
        result = cli(*args, cwd=project)
        assert result.code == ExitCode.USAGE, args
        assert "pyproject.toml" in result.err and key in result.err


def test_apply_select_fixes_only_the_selected_rules(cli, project):
    result = cli("apply", "--phase", "2A", "--select", "MIG001", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    doc = result.json()
    assert doc["fixed"] == 1 and _rules_by_path(doc) == {("MIG001", "app/routes.py")}
    text = (project / "app/routes.py").read_text()
    assert "create_agent_instance_factory(user_context)" in text
    # MIG002 was not selected, but no rewrite leaves an import it orphaned: the fix takes it along.
    imported = {alias.name for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert "get_agent_instance_factory" not in imported


def test_apply_ignore_leaves_the_ignored_rules_alone(cli, project):
    write(project, {"app/other.py": f"from {FACTORY} import get_agent_instance_factory\n"})
    result = cli("apply", "--phase", "2A", "--ignore", "MIG002", "--format", "json", cwd=project)
    assert result.code == ExitCode.CLEAN
    assert result.json()["changed_files"] == ["app/routes.py"]
    assert (project / "app/other.py").read_text() == f"from {FACTORY} import get_agent_instance_factory\n"


def test_apply_rule_option_and_select_option_combine(cli, project):
    result = cli("apply", "--phase", "2A", "--rule", "MIG001", "--rule", "MIG002", "--select", "MIG002", "--format", "json", cwd=project)
    # MIG001 is not selected, so the call stays and its import cannot go yet.
    assert result.code == ExitCode.FINDINGS
    assert [(f["rule"], f["fixable"]) for f in result.json()["findings"]] == [("MIG002", False)]
    # --rule MIG001 with --select MIG002 asks for no rule at all.
    result = cli("apply", "--phase", "2A", "--rule", "MIG001", "--select", "MIG002", cwd=project)
    assert result.code == ExitCode.USAGE and "leaves no rule to run" in result.err


def test_a_selection_that_leaves_no_rule_is_a_usage_error(cli, project):
    result = cli("check", "--select", "MIG001", "--ignore", "MIG001", cwd=project)
    assert result.code == ExitCode.USAGE
    assert "leaves no rule to run" in result.err
    (project / "pyproject.toml").write_text("[tool.migrator]\nselect = []\n")
    result = cli("check", cwd=project)
    assert result.code == ExitCode.USAGE
    assert "pyproject.toml: the rule selection leaves no rule to run" in result.err
