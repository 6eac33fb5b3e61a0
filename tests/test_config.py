"""Configuration: found upward, validated strictly, read into a frozen object."""

from __future__ import annotations

import re
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator import phases
from migrator.config import FACTORY_MODULE, load_config, parse_config
from migrator.exit_codes import UsageError
from migrator.phases import PhaseMap


def test_defaults_without_a_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(tmp_path)
    assert config.root == tmp_path.resolve() and config.source is None
    assert config.import_target("create_agent_instance_factory") == FACTORY_MODULE
    assert config.context_names == ("user_context",)


def test_root_is_the_nearest_folder_with_a_migrator_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.migrator]\ncontext_names = ['ctx']\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    config = load_config(nested)
    assert config.root == tmp_path.resolve()
    assert config.context_names == ("ctx",)


def test_migrator_toml_takes_top_level_keys(tmp_path):
    (tmp_path / "migrator.toml").write_text("[imports]\nUserExecutionContext = 'migrator.runtime'\n")
    config = load_config(tmp_path)
    assert config.import_target("UserExecutionContext") == "migrator.runtime"


def test_config_is_frozen():
    config = parse_config({}, root=Path("/p"), source=None)
    with pytest.raises(AttributeError):
        config.include = ("x",)  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.imports["x"] = "y"  # type: ignore[index]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"colour": 1}, "unknown key 'colour' in [tool.migrator]"),
        ({"exclude": "legacy/"}, "key 'exclude' expects a list of strings, got str 'legacy/'"),
        ({"context_names": []}, "key 'context_names' expects a non-empty list of identifiers"),
        ({"phases": {"2D": {"paths": ["x/"]}}}, "key 'phases.2D' names an unknown phase"),
        ({"phases": {"2A": {"path": ["x/"]}}}, "unknown key 'path' in [phases.2A]"),
        ({"imports": {"UserExecutionContext": "not a module"}}, "expects a dotted module path"),
    ],
)
def test_bad_config_names_file_key_and_expectation(table, message):
    with pytest.raises(UsageError) as error:
        parse_config(table, root=Path("/p"), source=Path("/p/pyproject.toml"))
    assert "/p/pyproject.toml" in str(error.value)
    assert message in str(error.value)


def test_invalid_toml_is_a_usage_error(tmp_path):
    (tmp_path / "migrator.toml").write_text("include = [\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_config(tmp_path)


def test_configured_phase_paths_and_aliases():
    config = parse_config(
        {"phases": {"2A": {"aliases": ["prod"], "paths": ["netra_backend/"]}}}, root=Path("/p"), source=None
    )
    phases = PhaseMap(config.phases)
    assert phases.phase_of("netra_backend/app/x.py") == "2A"
    assert phases.phase_of("tools/x.py") is None
    assert phases.resolve(["prod"]) == {"2A"}


@pytest.mark.parametrize(
    ("path", "phase"),
    [
        ("netra_backend/app/routes/agents.py", "2A"),
        ("tests/unit/test_x.py", "2B"),
        ("netra_backend/tests/unit/agents/test_y.py", "2B"),
        ("netra_backend/app/test_helpers.py", "2B"),
        ("pkg/thing_test.py", "2B"),
        ("conftest.py", "2B"),
        ("test_framework/base.py", "2B"),
        ("examples/usage.py", "2C"),
        ("scripts/load_test_isolation.py", "2C"),
        ("docs/guide.md", "2C"),
        ("README.md", "2C"),
        ("examples/tests/test_z.py", "2B"),
    ],
)
def test_default_phases(path, phase):
    assert PhaseMap(parse_config({}, root=Path("/p"), source=None).phases).phase_of(path) == phase


def test_phase_names_resolve_ids_aliases_and_all():
    phases = PhaseMap(parse_config({}, root=Path("/p"), source=None).phases)
    assert phases.resolve(["2a", "docs"]) == {"2A", "2C"}
    assert phases.resolve(["all"]) == {"2A", "2B", "2C"}
    with pytest.raises(UsageError, match="unknown phase"):
        phases.resolve(["staging"])


_PATTERN_PARTS = [
    *("tests/", "test/", "**/tests/", "*.md", "test_*.py", "*_test.py", "conftest.py", "docs/", "a/b/"),
    *("/top.py", "!tests/keep.py", "*", "# note", "", "x?.py", "[ab].py", "**/deep/**"),
]
_PATH_PARTS = [
    *("tests", "test", "docs", "a", "b", "deep", "top.py", "x1.py", "a.py", "test_a.py", "a_test.py"),
    *("conftest.py", "r.md", "keep.py"),
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_PATTERN_PARTS), min_size=1, max_size=6),
    st.lists(st.lists(st.sampled_from(_PATH_PARTS), min_size=1, max_size=4).map("/".join), min_size=1, max_size=10),
)
def test_joined_phase_patterns_match_exactly_what_pathspec_matches(patterns, paths):
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    matches = phases._matcher(patterns, phases._joined(patterns))
    for path in paths:
        assert matches(path) == spec.match_file(path), (patterns, path)


def test_current_and_declared_legacy_names_are_read() -> None:
    config = parse_config(
        {"current": ["get_db_session"], "legacy": {"get_thing": "app.things"}}, root=Path("/p"), source=None
    )
    assert config.current == ("get_db_session",)
    assert config.declared_legacy == {"get_thing"}
    assert config.legacy["get_thing"] == "app.things"


@pytest.mark.parametrize(("key", "value"), [("scan-old-fences", "yes"), ("current", "get_db_session")])
def test_fact_override_keys_reject_wrong_types(key: str, value: object) -> None:
    with pytest.raises(UsageError, match=key):
        parse_config({key: value}, root=Path("/p"), source=None)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_PATTERN_PARTS), min_size=1, max_size=4), min_size=3, max_size=3),
    st.lists(st.lists(st.sampled_from(_PATH_PARTS), min_size=1, max_size=4).map("/".join), min_size=1, max_size=10),
)
def test_a_path_goes_to_the_first_phase_whose_patterns_pathspec_matches(patterns, paths):
    ids = ("2A", "2B", "2C")
    phase_map = PhaseMap([phases.Phase(pid, (), tuple(found), pid) for pid, found in zip(ids, patterns)])
    specs = {pid: pathspec.GitIgnoreSpec.from_lines(found) for pid, found in zip(ids, patterns)}
    for path in paths:
        expected = next((pid for pid in phases.MATCH_ORDER if specs[pid].match_file(path)), None)
        assert phase_map.phase_of(path) == expected, (patterns, path)


_DEFAULT_PATH_PARTS = [
    *("tests", "test", "test_framework", "examples", "scripts", "docs", "app", "testsuite", "mydocs"),
    *("x.py", "test_a.py", "a_test.py", "_test.py", "conftest.py", "conftest.pyc", "r.md", ".md", "notes.mdx", "test_.py"),
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_DEFAULT_PATH_PARTS), min_size=1, max_size=5).map("/".join))
def test_the_default_phases_regexes_match_what_pathspec_matches(path):
    # The default phases are matched without pathspec; their regexes must mean what it means.
    assert set(phases._DEFAULT_JOINED) == {phase.patterns for phase in phases.DEFAULT_PHASES}
    for phase in phases.DEFAULT_PHASES:
        spec = pathspec.GitIgnoreSpec.from_lines(phase.patterns)
        assert (re.match(phases._DEFAULT_JOINED[phase.patterns], path) is not None) == spec.match_file(path), (phase.id, path)
