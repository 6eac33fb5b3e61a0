"""The file index: an unchanged file is not read again, a changed one is, and a change to a
definition the facts came from recomputes the results that depend on it."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from migrator import discovery
from migrator.file_index import FORMAT, INDEX_DIR, KEEP
from tests.conftest import FACTORY, write

AGENTS = """
    from netra_backend.app.agents.base import BaseAgent


    class TriageSubAgent(BaseAgent):
        \"\"\"Handles request triage.\"\"\"
"""
NOT_AN_AGENT = """
    class TriageSubAgent:
        \"\"\"Handles request triage.\"\"\"
"""
HANDLER = """
    from app.agents import TriageSubAgent


    async def handle(user_context, llm):
        return TriageSubAgent(llm)
"""
GETTER_USE = f"""
    from {FACTORY} import get_agent_instance_factory


    async def handle():
        return get_agent_instance_factory()
"""


def _age(root: Path, *only: str) -> None:
    """Date files back (all, or `only` these), so none is too recent for the index to trust."""
    past = time.time() - 60
    for path in [root / relpath for relpath in only] or root.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/agents.py": AGENTS,
            "app/handler.py": HANDLER,
            "app/routes.py": GETTER_USE,
            **{f"app/clean_{n}.py": "VALUE = 1\n" for n in range(5)},
        },
    )
    _age(tmp_path)
    return tmp_path


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = discovery.read_path

    def counting(path):
        seen.append(os.path.relpath(path))
        return real(path)

    monkeypatch.setattr(discovery, "read_path", counting)
    return seen


def _index(root: Path) -> Path:
    """The one index a run wrote under `root`."""
    (written,) = (root / INDEX_DIR).glob("*.json")
    return written


def _findings(cli, root: Path) -> list[tuple[str, str]]:
    report = cli("scan", "-f", "json", cwd=root).json()
    return sorted((f["rule"], f["path"]) for f in report["findings"])


def test_a_second_scan_of_an_unchanged_tree_reads_no_file(cli, tree, reads):
    first = cli("scan", "-f", "json", cwd=tree)
    assert reads and _index(tree).is_file()
    reads.clear()
    second = cli("scan", "-f", "json", cwd=tree)
    assert reads == []
    assert second.out == first.out
    assert ("MIG008", "app/handler.py") in _findings(cli, tree)


def test_only_the_changed_file_is_read_again_and_its_new_findings_reported(cli, tree, reads):
    cli("scan", "-f", "json", cwd=tree)
    write(tree, {"app/clean_3.py": GETTER_USE})
    _age(tree, "app/clean_3.py")
    reads.clear()
    assert ("MIG001", "app/clean_3.py") in _findings(cli, tree)
    assert sorted(set(reads)) == ["app/clean_3.py"]


def test_a_file_rewritten_with_the_same_size_and_mtime_is_still_read_again(cli, tree, reads):
    cli("scan", "-f", "json", cwd=tree)
    target = tree / "app/clean_2.py"
    before = target.stat()
    target.write_text("VALUE = 2\n")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime: only ctime tells
    reads.clear()
    cli("scan", "-f", "json", cwd=tree)
    assert "app/clean_2.py" in reads


def test_a_change_to_the_definition_the_facts_came_from_recomputes_its_dependants(cli, tree):
    assert ("MIG008", "app/handler.py") in _findings(cli, tree)
    # handler.py does not change; the class it builds stops being an agent, then is one again.
    write(tree, {"app/agents.py": NOT_AN_AGENT})
    _age(tree, "app/agents.py")
    assert ("MIG008", "app/handler.py") not in _findings(cli, tree)
    write(tree, {"app/agents.py": AGENTS})
    _age(tree, "app/agents.py")
    assert ("MIG008", "app/handler.py") in _findings(cli, tree)


def test_a_getter_whose_definition_becomes_fresh_per_call_is_no_longer_reported(cli, tree):
    module = FACTORY.replace(".", "/") + ".py"
    shared = "_factory = None\n\n\ndef get_agent_instance_factory():\n    return _factory\n"
    write(tree, {module: shared})
    _age(tree, module)
    assert ("MIG001", "app/routes.py") in _findings(cli, tree)
    fresh = "class Factory:\n    pass\n\n\ndef get_agent_instance_factory():\n    return Factory()\n"
    write(tree, {module: fresh})
    _age(tree, module)
    assert ("MIG001", "app/routes.py") not in _findings(cli, tree)


def test_a_file_modified_just_before_the_scan_is_read_again_by_the_next(cli, tree, reads):
    write(tree, {"app/clean_1.py": "VALUE = 3\n"})  # modified now: racy for the index
    cli("scan", "-f", "json", cwd=tree)
    reads.clear()
    cli("scan", "-f", "json", cwd=tree)
    assert set(reads) == {"app/clean_1.py"}


def test_a_corrupt_index_is_ignored_and_written_anew(cli, tree, reads):
    first = cli("scan", "-f", "json", cwd=tree)
    _index(tree).write_text("{not json")
    again = cli("scan", "-f", "json", cwd=tree)
    assert again.out == first.out
    assert json.loads(_index(tree).read_text())["format"] == FORMAT


def test_no_cache_neither_reads_nor_writes_the_index(cli, tree):
    cli("scan", "--no-cache", "-f", "json", cwd=tree)
    assert not (tree / INDEX_DIR).exists()


def test_a_run_without_the_cache_takes_no_file_stat_and_a_cached_run_takes_each(cli, tree, monkeypatch):
    stats = []
    monkeypatch.setattr(discovery, "_signature", lambda entry: stats.append(entry.name) or None)
    for argv in (("scan", "--no-cache"), ("check", "--no-cache"), ("apply", "--phase", "all", "--dry-run")):
        cli(*argv, "-f", "json", cwd=tree)
        assert stats == [], argv
    cli("scan", "-f", "json", cwd=tree)
    assert sorted(stats) == sorted(path.name for path in (tree / "app").glob("*.py"))
    assert len(stats) == 8


def test_runs_of_other_rules_keep_their_own_index_and_read_nothing_once_warm(cli, tree, reads):
    every, one_rule = ("check", "-f", "json"), ("check", "--select", "MIG008", "-f", "json")
    firsts = [cli(*argv, cwd=tree).out for argv in (every, one_rule)]
    assert len(list((tree / INDEX_DIR).glob("*.json"))) == 2
    reads.clear()
    assert [cli(*argv, cwd=tree).out for argv in (every, one_rule)] == firsts
    assert reads == []


def test_only_the_most_recent_indexes_are_kept(cli, tree):
    rules = ["MIG001", "MIG002", "MIG003", "MIG005", "MIG008", "MIG010"]
    cli("check", "--select", rules[0], "-f", "json", cwd=tree)
    # An index another run is writing right now, under its temporary name, older than them all.
    writing = tree / INDEX_DIR / f".{_index(tree).name}.x1y2.migrator-tmp"
    writing.write_text("{")
    os.utime(writing, (0, 0))
    for rule in rules[1:]:
        cli("check", "--select", rule, "-f", "json", cwd=tree)
    assert len(list((tree / INDEX_DIR).glob("*.json"))) == KEEP
    assert writing.exists()
    # The last run's index is among those kept: the same run again reads nothing.
    before = {path.name: path.stat().st_mtime_ns for path in (tree / INDEX_DIR).glob("*.json")}
    cli("check", "--select", rules[-1], "-f", "json", cwd=tree)
    assert {path.name: path.stat().st_mtime_ns for path in (tree / INDEX_DIR).glob("*.json")} == before


def test_an_index_that_cannot_be_written_is_a_usage_error(cli, tree):
    (tree / ".migrator").write_text("a file where the folder goes")
    result = cli("scan", "-f", "json", cwd=tree)
    assert result.code == 2
    assert ".migrator" in result.err


def test_a_cached_result_that_asked_about_another_module_is_recomputed_when_the_answer_changes(cli, tree):
    # The patch target's message says whether app/service.py still binds the getter; the test
    # file does not change, the module it names does.
    write(
        tree,
        {
            "app/service.py": f"from {FACTORY} import get_agent_instance_factory\n",
            "tests/test_service.py": (
                "from unittest.mock import patch\n\n\n"
                "@patch('app.service.get_agent_instance_factory')\ndef test_it(factory):\n    assert factory\n"
            ),
        },
    )
    _age(tree)

    def patch_messages() -> list[str]:
        report = cli("scan", "-f", "json", cwd=tree).json()
        return [f["reason"] or f["message"] for f in report["findings"] if f["rule"] == "MIG010"]

    assert any("still defines" in text for text in patch_messages())
    write(tree, {"app/service.py": "VALUE = 1\n"})
    _age(tree, "app/service.py")
    assert any("stale target" in text for text in patch_messages())


def test_a_file_outside_an_earlier_narrower_run_is_still_searched_for_agent_classes(cli, tree):
    # The first run looks at app/ only; lib/builder.py is read there for the facts alone and
    # never searched for the agent classes those facts add. The full run must search it.
    write(tree, {"lib/builder.py": "from app.agents import TriageSubAgent\n\n\nasync def build(llm):\n    return TriageSubAgent(llm)\n"})
    _age(tree, "lib/builder.py")
    narrow = cli("scan", "-f", "json", "app", cwd=tree).json()
    assert "lib/builder.py" not in {f["path"] for f in narrow["findings"]}
    assert ("MIG008", "lib/builder.py") in _findings(cli, tree)


def test_a_one_file_check_after_a_scan_reads_nothing_and_keeps_the_whole_index(cli, tree, reads):
    # A pre-commit hook names one file; the facts still come from the whole tree, through the index.
    whole = cli("scan", "-f", "json", cwd=tree)
    reads.clear()
    one = cli("check", "-f", "json", "app/handler.py", cwd=tree)
    assert reads == []
    assert [(f["rule"], f["path"]) for f in one.json()["findings"]] == [("MIG008", "app/handler.py")]
    again = cli("scan", "-f", "json", cwd=tree)
    assert reads == [] and again.out == whole.out


def test_a_one_file_check_sees_a_definition_changed_outside_it(cli, tree, reads):
    cli("scan", "-f", "json", cwd=tree)
    write(tree, {"app/agents.py": NOT_AN_AGENT})
    _age(tree, "app/agents.py")
    reads.clear()
    one = cli("check", "-f", "json", "app/handler.py", cwd=tree)
    assert "app/agents.py" in reads
    assert one.json()["findings"] == []
    write(tree, {"app/agents.py": AGENTS})
    _age(tree, "app/agents.py")
    assert ("MIG008", "app/handler.py") in _findings(cli, tree)


# -- apply after a scan ------------------------------------------------------------------------


def test_apply_after_a_scan_reads_only_the_files_it_may_rewrite(cli, tree, reads):
    write(tree, {"app/fixable.py": GETTER_USE.replace("def handle():", "def handle(user_context):")})
    _age(tree, "app/fixable.py")
    cli("scan", "-f", "json", cwd=tree)
    reads.clear()
    done = cli("apply", "--phase", "all", "-f", "json", cwd=tree).json()
    assert done["changed_files"] == ["app/fixable.py"]
    # routes.py has a finding but nothing to fix: its scan result stands, as for the clean files.
    assert sorted(set(reads)) == ["app/fixable.py"]
    assert ("MIG001", "app/routes.py") in {(f["rule"], f["path"]) for f in done["findings"]}


def _copy_sample(sample: str, root: Path) -> None:
    """A shipped sample copied to `root`, every file old enough for the index to trust."""
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures" / sample, root)
    _age(root)


@pytest.mark.parametrize("unsafe", [False, True])
@pytest.mark.parametrize("sample", ["realistic_sample", "netra_sample"])
def test_apply_after_a_scan_reports_and_rewrites_as_apply_alone(cli, tmp_path, sample, unsafe):
    fresh, scanned = tmp_path / "fresh", tmp_path / "scanned"
    for root in (fresh, scanned):
        _copy_sample(sample, root)
    cli("scan", "-f", "json", cwd=scanned)
    argv = ["apply", "--phase", "all", "--allow-dirty", "-f", "json", *(["--unsafe-fixes"] if unsafe else [])]
    alone = cli(*argv, "--no-cache", cwd=fresh).json()
    after_scan = cli(*argv, cwd=scanned).json()
    assert alone["changed_files"], "the sample has fixes to make"
    for report in (alone, after_scan):
        report.pop("run_id")
        report.pop("root")
    assert after_scan == alone
    for path in alone["changed_files"]:
        assert (scanned / path).read_bytes() == (fresh / path).read_bytes()
    # What the next scan reports of the rewritten tree does not depend on the index either.
    assert _findings(cli, scanned) == sorted(
        (f["rule"], f["path"]) for f in cli("scan", "--no-cache", "-f", "json", cwd=fresh).json()["findings"]
    )


# -- a scan after apply ------------------------------------------------------------------------


def test_a_check_after_apply_reads_only_what_the_apply_rewrote(cli, tree, reads):
    write(tree, {"app/fixable.py": GETTER_USE.replace("def handle():", "def handle(user_context):")})
    _age(tree, "app/fixable.py")
    done = cli("apply", "--phase", "all", "-f", "json", cwd=tree).json()
    assert done["changed_files"] == ["app/fixable.py"]
    reads.clear()
    kept = cli("check", "-f", "json", cwd=tree)
    # routes.py has a finding with nothing to fix: the apply's result is what a scan gives, kept.
    assert sorted(set(reads)) == ["app/fixable.py"]
    assert ("MIG001", "app/routes.py") in {(f["rule"], f["path"]) for f in kept.json()["findings"]}
    assert kept.out == cli("check", "--no-cache", "-f", "json", cwd=tree).out


def _applied(cli, root: Path, sample: str, *flags: str) -> set[str]:
    """The sample copied to `root` and applied (with the index on); the files it rewrote."""
    _copy_sample(sample, root)
    return set(cli("apply", "--phase", "all", "--allow-dirty", "-f", "json", *flags, cwd=root).json()["changed_files"])


@pytest.mark.parametrize("unsafe", [False, True])
@pytest.mark.parametrize("sample", ["realistic_sample", "netra_sample"])
def test_a_scan_after_apply_reports_as_a_scan_without_the_index(cli, tmp_path, sample, unsafe):
    root = tmp_path / "tree"
    assert _applied(cli, root, sample, *(["--unsafe-fixes"] if unsafe else [])), "the sample has fixes to make"
    kept = cli("scan", "-f", "json", cwd=root)
    assert kept.out == cli("scan", "--no-cache", "-f", "json", cwd=root).out


@pytest.mark.parametrize("sample", ["realistic_sample", "netra_sample"])
def test_a_scan_after_apply_reads_only_what_it_rewrote_or_failed_to_fix(cli, tmp_path, sample, reads):
    root = tmp_path / "tree"
    changed = _applied(cli, root, sample)
    reads.clear()
    findings = cli("scan", "-f", "json", cwd=root).json()["findings"]
    read_again = set(reads)
    unfixed = {f["path"] for f in findings if f["fixable"] and f["safety"] == "safe"}
    # The safe fixes leave the facts as they were: of the files with findings, those the apply
    # made no fix in (every finding needs a person, or its fix is unsafe) keep its result.
    assert read_again <= changed | unfixed
    assert {f["path"] for f in findings if f["fixable"]} - changed - unfixed - read_again
