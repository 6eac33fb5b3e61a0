"""SARIF 2.1.0: valid against the official schema, complete enough for code scanning, and stable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from migrator import repository
from migrator.exit_codes import ExitCode
from tests.conftest import git, write

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def assert_valid_sarif(doc: dict) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def sarif_of(cli, cwd: Path, *args: str) -> dict:
    result = cli("check", "--format", "sarif", *args, cwd=cwd)
    assert result.code in (ExitCode.CLEAN, ExitCode.FINDINGS), result.err
    return json.loads(result.out)


def test_schema_rejects_a_broken_document():
    with pytest.raises(AssertionError):
        assert_valid_sarif({"version": "2.1.0", "runs": [{"results": []}]})


def test_sample_report_validates_against_the_official_schema(cli, tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(ROOT / "fixtures" / "netra_sample", sample)
    doc = sarif_of(cli, sample)
    assert_valid_sarif(doc)
    assert len(doc["runs"][0]["results"]) > 50


def test_driver_describes_every_rule_with_help(cli, project):
    driver = sarif_of(cli, project)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "migrator" and driver["version"] and driver["informationUri"].startswith("https://")
    ids = [rule["id"] for rule in driver["rules"]]
    shipped = sorted(path.name.split("-", 1)[0] for path in (Path(__file__).resolve().parent.parent / "rules").glob("*.toml"))
    assert ids == shipped and len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "Before" in rule["help"]["text"] and "```python" in rule["help"]["markdown"]


def test_results_carry_rule_level_message_and_one_based_region(cli, project):
    doc = sarif_of(cli, project)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    call = next(
        r for r in doc["runs"][0]["results"]
        if r["ruleId"] == "MIG001" and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/routes.py"
    )
    assert rules[call["ruleIndex"]]["id"] == "MIG001"
    assert call["level"] == "warning" and call["message"]["text"]
    region = call["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]) == (6, 15, 6, 43)


def _fingerprints(doc: dict) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for r in doc["runs"][0]["results"]:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        found.setdefault((uri, r["ruleId"]), []).append(r["partialFingerprints"]["migratorFingerprint/v1"])
    return found


def test_fingerprints_survive_unrelated_edits_and_change_with_the_statement(cli, project):
    before = _fingerprints(sarif_of(cli, project))
    routes = project / "app" / "routes.py"
    routes.write_text("import os\n\n\n# a comment that moves every line down\n" + routes.read_text())
    after = _fingerprints(sarif_of(cli, project))
    assert after == before
    routes.write_text(routes.read_text().replace("factory = get_agent_instance_factory()", "made = get_agent_instance_factory()"))
    changed = _fingerprints(sarif_of(cli, project))
    assert changed[("app/routes.py", "MIG001")] != before[("app/routes.py", "MIG001")]
    assert changed[("app/routes.py", "MIG002")] == before[("app/routes.py", "MIG002")]


def _apply_fixes(text: str, replacements: list[dict]) -> str:
    lines = text.splitlines(keepends=True)
    for edit in sorted(replacements, key=lambda e: -e["deletedRegion"]["startLine"]):
        region = edit["deletedRegion"]
        assert region["startColumn"] == region["endColumn"] == 1
        lines[region["startLine"] - 1 : region["endLine"] - 1] = [edit["insertedContent"]["text"]]
    return "".join(lines)


def test_fixes_of_a_file_together_give_exactly_the_rewrite_of_apply(cli, project):
    doc = sarif_of(cli, project)
    results = [
        r for r in doc["runs"][0]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/routes.py"
    ]
    assert results and all(r["fixes"] for r in results if r["properties"]["fixable"])
    distinct = {
        json.dumps(edit, sort_keys=True)
        for r in results
        for fix in r.get("fixes", [])
        for change in fix["artifactChanges"]
        for edit in change["replacements"]
    }
    edits = [json.loads(edit) for edit in distinct]
    original = (project / "app" / "routes.py").read_text()
    assert cli("apply", "--phase", "all", "--unsafe-fixes", cwd=project).code == ExitCode.CLEAN
    assert _apply_fixes(original, edits) == (project / "app" / "routes.py").read_text()


def test_every_fixable_finding_of_the_sample_has_a_fix(cli, tmp_path):
    sample = tmp_path / "sample"
    shutil.copytree(ROOT / "fixtures" / "netra_sample", sample)
    results = sarif_of(cli, sample)["runs"][0]["results"]
    fixable = [r for r in results if r["properties"]["fixable"]]
    assert len(fixable) > 50
    missing = [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in fixable if not r.get("fixes")]
    assert missing == []
    edits: dict[str, set[str]] = {}
    for r in fixable:
        for change in r["fixes"][0]["artifactChanges"]:
            uri = change["artifactLocation"]["uri"]
            edits.setdefault(uri, set()).update(json.dumps(e, sort_keys=True) for e in change["replacements"])
    originals = {uri: (sample / uri).read_text() for uri in edits}
    cli("apply", "--phase", "all", "--unsafe-fixes", cwd=sample)
    for uri, distinct in edits.items():
        assert _apply_fixes(originals[uri], [json.loads(e) for e in distinct]) == (sample / uri).read_text(), uri


def test_manual_findings_have_no_fixes(cli, project):
    write(project, {"app/startup.py": "from netra_backend.app.agents.supervisor.agent_instance_factory import get_agent_instance_factory\n\nF = get_agent_instance_factory()\n"})
    doc = sarif_of(cli, project)
    manual = [r for r in doc["runs"][0]["results"] if not r["properties"]["fixable"]]
    assert manual and all("fixes" not in r and r["level"] == "error" for r in manual)


def test_paths_are_relative_to_the_repository_root(cli, tmp_path, project):
    monorepo = tmp_path / "repo"
    shutil.move(str(project), str(monorepo / "services" / "agents"))
    git(monorepo, "init", "-q")
    doc = sarif_of(cli, monorepo / "services" / "agents")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert "services/agents/app/routes.py" in uris
    github = cli("check", "--format", "github", cwd=monorepo / "services" / "agents")
    assert any(line.startswith("::warning file=services/agents/app/routes.py,line=6") for line in github.out.splitlines())
    plain = cli("check", "--format", "json", cwd=monorepo / "services" / "agents").json()
    assert "app/routes.py" in {f["path"] for f in plain["findings"]}


def test_only_the_formats_with_repository_paths_ask_git_where_the_repository_is(cli, tmp_path, project, monkeypatch):
    monorepo = tmp_path / "repo"
    shutil.move(str(project), str(monorepo / "services" / "agents"))
    git(monorepo, "init", "-q")
    asked = []
    real = repository._git_top
    monkeypatch.setattr(repository, "_git_top", lambda root: asked.append(root) or real(root))
    for fmt in ("json", "table", "sarif", "github"):
        cli("check", "--format", fmt, cwd=monorepo / "services" / "agents")
        asked.append(fmt)
    roots = [(monorepo / "services" / "agents").resolve()]
    assert [item if isinstance(item, str) else item.resolve() for item in asked] == [
        "json", "table", *roots, "sarif", *roots, "github"
    ]
