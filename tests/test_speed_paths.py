"""The fast paths keep the results: ast detection matches LibCST's, the cache, lazy imports, the pool."""

from __future__ import annotations

import ast
import difflib
import enum
import io
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator import batch, discovery, engine
from migrator.analysis.legacy import shortest_needles
from migrator.cache import CACHE_DIR, KEEP_RUNS, run_key
from migrator.progress import ProgressBar
from migrator.project import ProjectFacts
from migrator.report.json_report import indented
from migrator.results import FileResult, Finding, RunResult, Status
from migrator.rules import load_rules
from migrator.session import Session
from migrator.sourcefile import SourceText
from migrator.transforms import TRANSFORMS
from migrator.transforms._kept_lines import line_opcodes
from tests import corpus
from tests.conftest import write
from tests.cst_reference import CALL_RULE, IMPORT_RULE, find
from tests.helpers import make_config, run_text

ROOT = Path(__file__).resolve().parent.parent
_DIRECTIVE = re.compile(r"#\s*fixture:\s*.*\bpath=(\S+)")
COMPARED = (CALL_RULE, IMPORT_RULE)


def module_name_of(relpath: str) -> str:
    parts = relpath[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if len(parts) > 1 and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts)


def fast_findings(text: str | bytes, relpath: str) -> set[tuple[str, int, int]]:
    # Detection is compared, so inline suppressions are disarmed (same length, same positions),
    # and nothing is fixed: with fixes on, what is left is reported in the rewritten text.
    if isinstance(text, bytes):
        text = text.replace(b"migrator:", b"migrator-")
    else:
        text = text.replace("migrator:", "migrator-")
    result = run_text(text, relpath=relpath, fix=False)
    return {(f.rule, f.line, f.column) for f in result.findings if f.rule in COMPARED}


def reference_findings(text: str, relpath: str) -> set[tuple[str, int, int]]:
    config = make_config()
    symbols = {s for rule in load_rules((), TRANSFORMS.keys()) if rule.id in COMPARED for s in rule.symbols}
    return find(text, module_name_of(relpath), relpath.endswith("__init__.py"), config.legacy, config.reexports, symbols)


def _fixture_files() -> list:
    files = sorted((ROOT / "fixtures" / "rules").glob("*/*.py")) + sorted((ROOT / "fixtures" / "netra_sample").rglob("*.py"))
    return [pytest.param(path, id=str(path.relative_to(ROOT / "fixtures"))) for path in files]


@pytest.mark.parametrize("path", _fixture_files())
def test_fast_path_matches_libcst_reference_on_fixture(path: Path) -> None:
    raw = path.read_bytes()
    text = SourceText.decode(raw).text
    directive = _DIRECTIVE.match(text.split("\n", 1)[0])
    if directive:
        relpath = directive.group(1)
    elif "netra_sample" in path.parts:
        relpath = path.relative_to(ROOT / "fixtures" / "netra_sample").as_posix()
    else:
        relpath = "app/module.py"
    assert fast_findings(raw, relpath) == reference_findings(text, relpath)


def test_fast_path_matches_libcst_reference_on_generated_corpus() -> None:
    rng = random.Random(6)
    compared = 0
    for number in range(80):
        text = corpus.module_text(rng, number)
        relpath = f"{rng.choice(corpus.FOLDERS)}/mod_{number}.py"
        expected = reference_findings(text, relpath)
        assert fast_findings(text, relpath) == expected, f"{relpath}:\n{text}"
        compared += len(expected)
    assert compared > 100


def _count_analyses(monkeypatch) -> list[str]:
    analysed: list[str] = []
    real = engine.process_bytes

    def counting(raw, relpath, phase, settings):
        analysed.append(relpath)
        return real(raw, relpath, phase, settings)

    monkeypatch.setattr(engine, "process_bytes", counting)
    return analysed


def test_second_scan_reads_every_result_from_the_cache(cli, project, monkeypatch):
    analysed = _count_analyses(monkeypatch)
    first = cli("scan", "-f", "json", cwd=project)
    assert first.code == 0 and analysed
    entries = list((project / CACHE_DIR).glob("*/*"))
    assert len(entries) == len(analysed)
    analysed.clear()
    second = cli("scan", "-f", "json", cwd=project)
    assert second.out == first.out
    assert analysed == []


def test_changed_file_is_analysed_again_and_only_it(cli, project, monkeypatch):
    analysed = _count_analyses(monkeypatch)
    first = cli("scan", "-f", "json", cwd=project)
    routes = project / "app" / "routes.py"
    routes.write_text(routes.read_text() + "\n\nEXTRA = get_agent_instance_factory()\n")
    analysed.clear()
    second = cli("scan", "-f", "json", cwd=project)
    assert analysed == ["app/routes.py"]
    assert second.json()["summary"]["findings"] == first.json()["summary"]["findings"] + 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: (root / "pyproject.toml").write_text('[tool.migrator]\ncontext_names = ["ctx"]\n'), id="config"),
        pytest.param(
            lambda root: (root / "tests" / "conftest.py").write_text("def test_user_context():\n    return None\n"),
            id="project-facts",
        ),
    ],
)
def test_config_or_facts_change_invalidates_the_cache(cli, project, monkeypatch, change):
    analysed = _count_analyses(monkeypatch)
    cli("scan", "-f", "json", cwd=project)
    count = len(analysed)
    analysed.clear()
    change(project)
    cli("scan", "-f", "json", cwd=project)
    assert len(analysed) == count


def test_run_key_covers_tool_rules_config_and_facts(tmp_path):
    config = make_config()
    rules = load_rules((), TRANSFORMS.keys())
    base = run_key(config, rules, ProjectFacts())
    assert run_key(config, rules, ProjectFacts()) == base
    edited = tmp_path / rules[0].source.name
    edited.write_bytes(rules[0].source.read_bytes() + b"\n# edited\n")
    changed_rules = (msgspec.structs.replace(rules[0], source=edited), *rules[1:])
    assert run_key(config, changed_rules, ProjectFacts()) != base
    assert run_key(config, rules[1:], ProjectFacts()) != base
    assert run_key(make_config({"context_names": ["ctx"]}), rules, ProjectFacts()) != base
    assert run_key(config, rules, ProjectFacts(conftest_fixture_dirs=frozenset({"tests"}))) != base


def test_corrupt_cache_entries_are_ignored(cli, project, monkeypatch):
    analysed = _count_analyses(monkeypatch)
    first = cli("scan", "-f", "json", cwd=project)
    entries = list((project / CACHE_DIR).glob("*/*"))
    for number, entry in enumerate(entries):
        entry.write_bytes([b"", b"{not json", b'{"path": 1}', b"[]"][number % 4])
    analysed.clear()
    second = cli("scan", "-f", "json", cwd=project)
    assert second.out == first.out
    assert len(analysed) == len(entries)


def test_no_cache_neither_reads_nor_writes(cli, project):
    cli("scan", "--no-cache", "-f", "json", cwd=project)
    assert not (project / CACHE_DIR).exists()
    honest = cli("scan", "-f", "json", cwd=project)
    for entry in (project / CACHE_DIR).glob("*/*"):
        data = json.loads(entry.read_bytes())
        data["findings"] = [[*row[:7], "from the cache", *row[8:]] for row in data["findings"]]
        entry.write_text(json.dumps(data))
    tampered = cli("scan", "-f", "json", cwd=project)
    assert "from the cache" in tampered.out
    bypassed = cli("scan", "--no-cache", "-f", "json", cwd=project)
    assert bypassed.out == honest.out


def _modules_imported_by_a_scan(root: Path, argv: list[str], prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with one of `prefixes` that `migrator <argv>` leaves imported, run in a fresh interpreter."""
    (root / "pyproject.toml").write_text("[tool.migrator]\n")
    for number in range(5):
        (root / f"clean_{number}.py").write_text("def get_factory():\n    return None\n")
    script = (
        "import sys\n"
        "from migrator.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(name for name in sys.modules if name.startswith({prefixes!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    return ast.literal_eval(done.stdout.strip().splitlines()[-1])


def test_scan_without_mentions_does_not_import_libcst(tmp_path):
    assert _modules_imported_by_a_scan(tmp_path, ["scan", ".", "--no-cache"], ("libcst",)) == []


def test_json_scan_without_mentions_imports_no_transform_rich_or_pool(tmp_path):
    heavy = ("libcst", "rich", "concurrent.futures.process", "migrator.transforms.replace_")
    assert _modules_imported_by_a_scan(tmp_path, ["scan", ".", "--no-cache", "-f", "json"], heavy) == []


def test_a_cached_json_scan_outside_a_git_work_tree_starts_no_process_and_renders_no_diff(tmp_path):
    for _ in range(2):  # the second run takes everything from the cache
        imported = _modules_imported_by_a_scan(tmp_path, ["scan", ".", "-f", "json"], ("subprocess", "difflib"))
    assert imported == []


def test_a_project_with_the_default_phases_and_no_ignore_file_is_scanned_without_pathspec(tmp_path):
    assert _modules_imported_by_a_scan(tmp_path, ["scan", ".", "--no-cache", "-f", "json"], ("pathspec",)) == []


def test_every_transform_name_resolves_to_its_module():
    rules = load_rules((), TRANSFORMS.keys())
    named = {rule.transform or rule.reporter for rule in rules} - {None}
    assert set(TRANSFORMS) == named, "every transform module is named by a rule file, and every name resolves"
    for name in TRANSFORMS:
        module = TRANSFORMS[name]
        assert module.__name__ == f"migrator.transforms.{name}"
        assert callable(module.plan)
    with pytest.raises(KeyError):
        TRANSFORMS["no_such_transform"]


@pytest.fixture
def big_corpus(tmp_path) -> Path:
    root = tmp_path / "big"
    corpus.write_corpus(root, batch.PARALLEL_THRESHOLD + 30, every_file_calls=True)
    return root


def test_jobs_two_and_jobs_one_give_identical_json(cli, big_corpus):
    serial = cli("scan", "--no-cache", "--jobs", "1", "-f", "json", cwd=big_corpus)
    pooled = cli("scan", "--no-cache", "--jobs", "2", "-f", "json", cwd=big_corpus)
    assert serial.code == pooled.code == 0
    assert pooled.out == serial.out
    assert serial.json()["summary"]["files_with_findings"] >= batch.PARALLEL_THRESHOLD


def test_apply_rewrites_files_on_the_parallel_path(cli, big_corpus):
    files = sorted(p for p in big_corpus.rglob("*.py"))
    applied = cli("apply", "--phase", "all", "--jobs", "2", "--allow-dirty", "-f", "json", cwd=big_corpus)
    report = applied.json()
    assert len(report["changed_files"]) == len(files)
    assert all("create_agent_instance_factory(user_context)" in path.read_text() for path in files)
    after = cli("scan", "--no-cache", "-f", "json", cwd=big_corpus).json()
    assert not [f for f in after["findings"] if f["rule"] in COMPARED]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_stays_silent_off_a_terminal():
    stream = io.StringIO()
    with ProgressBar("scanning", stream=stream, delay=0) as bar:
        bar.start(10)
        for _ in range(10):
            bar.advance()
    assert stream.getvalue() == ""


def test_progress_bar_draws_on_a_terminal_once_the_run_is_long():
    stream = _Terminal()
    with ProgressBar("scanning", stream=stream, delay=0) as bar:
        bar.start(10)
        for _ in range(10):
            bar.advance()
    assert "scanning" in stream.getvalue()
    quick = _Terminal()
    with ProgressBar("scanning", stream=quick, delay=60) as bar:
        bar.start(10)
        bar.advance(10)
    assert quick.getvalue() == ""


def test_concurrent_scans_share_the_cache_safely(tmp_path):
    root = tmp_path / "shared"
    corpus.write_corpus(root, 40)
    command = [sys.executable, "-m", "migrator", "scan", "-f", "json", "."]
    runs = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for _ in range(3)]
    outputs = [run.communicate()[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1] == outputs[2]
    assert not list((root / CACHE_DIR).glob("*/.tmp-*"))
    again = subprocess.run(command, cwd=root, capture_output=True, check=True)
    assert again.stdout == outputs[0]


def test_old_run_folders_are_pruned(cli, project):
    base = project / CACHE_DIR
    for number in range(6):
        (base / f"old{number}").mkdir(parents=True)
        (base / f"old{number}" / "entry").write_text("{}")
    cli("scan", "-f", "json", cwd=project)
    assert len([p for p in base.iterdir() if p.is_dir()]) == KEEP_RUNS


def test_prefilter_keeps_only_needles_no_other_needle_explains():
    assert shortest_needles([b"get_global_db_session", b"db_session", b"AgentRegistry", b"db_session"]) == (
        b"db_session",
        b"AgentRegistry",
    )


def _count_reads(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = discovery.read_path

    def counting(path):
        reads.append(os.fspath(path).rpartition("/")[2])
        return real(path)

    monkeypatch.setattr(discovery, "read_path", counting)
    return reads


def test_scan_reads_each_project_file_once_and_again_only_to_analyse_it(cli, project, monkeypatch):
    reads = _count_reads(monkeypatch)
    analysed = _count_analyses(monkeypatch)
    result = cli("scan", "--no-cache", "-f", "json", "app", cwd=project)
    assert result.code == 0
    python = sorted(p.name for p in project.rglob("*.py"))
    # The first pass looks at the whole project, the run at `app/` only: one read each by the
    # sweep, and one more for each file the analysis parses.
    again = sorted(path.rpartition("/")[2] for path in analysed)
    assert analysed, "the project has files to analyse"
    assert sorted(name for name in reads if name.endswith(".py")) == sorted([*python, *again])


AGENTS = """
    from netra_backend.app.agents.base import BaseAgent


    class TriageSubAgent(BaseAgent):
        \"\"\"Handles request triage.\"\"\"
"""

HANDLER = """
    from app.agents import TriageSubAgent


    async def handle(user_context, llm, tools, request):
        agent = TriageSubAgent(llm, tools)
        return await agent.execute(request, user_context.run_id)
"""


def test_names_the_first_pass_finds_are_searched_in_files_the_prefilter_passed(cli, tmp_path, monkeypatch):
    # handler.py mentions no deprecated name; only the agent class the first pass finds in
    # agents.py makes it a candidate.
    write(tmp_path, {"pyproject.toml": "[tool.migrator]\n", "app/agents.py": AGENTS, "app/handler.py": HANDLER})
    analysed = _count_analyses(monkeypatch)
    result = cli("scan", "--no-cache", "-f", "json", cwd=tmp_path)
    findings = result.json()["findings"]
    assert [(f["rule"], f["path"]) for f in findings] == [("MIG008", "app/handler.py")]
    assert "app/handler.py" in analysed


def test_progress_counts_every_file_once_when_the_first_pass_adds_needles(tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.migrator]\n", "app/agents.py": AGENTS, "app/handler.py": HANDLER})
    for number in range(5):
        write(tmp_path, {f"app/clean_{number}.py": "VALUE = 1\n"})

    class Counting:
        total = 0
        done = 0

        def start(self, total: int) -> None:
            self.total = total

        def advance(self, count: int = 1) -> None:
            self.done += count

    counting = Counting()
    result = Session.open([tmp_path], ["all"]).run(progress=counting)
    assert [f.path for f in result.findings] == ["app/handler.py"]
    assert counting.total == counting.done == 7


@pytest.mark.parametrize("count", [1, 3, 16])
def test_chunks_hold_every_item_once_in_order_and_nearly_equal_loads(count):
    rng = random.Random(count)
    items = [rng.choice([1, 5, 40, 700, 9000]) for _ in range(500)]
    chunks = batch._split(items, count, lambda item: item)
    assert sorted(item for chunk in chunks for item in chunk) == sorted(items)
    # Each chunk keeps the items' order: here, distinct tags let the check see it.
    tagged = list(enumerate(items))
    for chunk in batch._split(tagged, count, lambda pair: pair[1]):
        assert [place for place, _ in chunk] == sorted(place for place, _ in chunk)
    loads = [sum(chunk) for chunk in chunks]
    assert len(chunks) == count and max(loads) - min(loads) <= max(items)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "d"]), max_size=12),
    st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "e\n"]), max_size=12),
)
def test_line_opcodes_are_an_edit_script_from_old_to_new(old, new):
    opcodes = line_opcodes(old, new)
    built: list[str] = []
    at_old = at_new = 0
    for tag, i1, i2, j1, j2 in opcodes:
        assert (i1, j1) == (at_old, at_new), "the opcodes cover both sides in order"
        if tag == "equal":
            assert old[i1:i2] == new[j1:j2]
        built.extend(new[j1:j2])
        at_old, at_new = i2, j2
    assert (at_old, at_new) == (len(old), len(new))
    assert built == new
    # Without lines shared at either end it is difflib's own script.
    if not old or not new or (old[0] != new[0] and old[-1] != new[-1]):
        assert opcodes == difflib.SequenceMatcher(None, old, new).get_opcodes()


class _Level(str, enum.Enum):
    LOW = "low"


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.just("\0findings\0"),
    st.just(_Level.LOW),  # a subclass of a scalar type
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.dictionaries(st.text(), _JSON_SCALARS, max_size=6), st.dictionaries(st.text(), _JSON_VALUES, max_size=4)
        ),
        max_size=5,
    ),
    st.dictionaries(st.text(), _JSON_VALUES, max_size=3),
)
def test_the_json_report_is_written_as_indent_two_writes_it(findings, others):
    kept = {key: value for key, value in others.items() if key != "findings"}
    doc = {"version": 1, **kept, "findings": findings, "errors": []}
    assert indented(doc) == json.dumps(doc, indent=2)


_FINDINGS = st.builds(
    Finding,
    path=st.sampled_from(["a.py", "b/c.py"]),
    line=st.integers(1, 3),
    column=st.integers(1, 3),
    end_line=st.integers(1, 3),
    end_column=st.integers(1, 3),
    rule=st.sampled_from(["MIG001", "MIG002"]),
    phase=st.sampled_from(["2A", "2B"]),
    message=st.sampled_from(["m", "n"]),
    fixable=st.booleans(),
    reason=st.just(None),
    safety=st.sampled_from([None]),
    statement=st.just(None),
).map(
    # A statement is the text of the finding's lines: findings alike in everything else share it.
    lambda finding: msgspec.structs.replace(finding, statement=f"{finding.line}-{finding.end_line}" if finding.fixable else None)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_FINDINGS, max_size=6), max_size=4))
def test_a_run_lists_its_findings_by_place_then_by_what_they_say(per_file):
    files = tuple(FileResult(f"f{n}.py", "2A", Status.UNCHANGED, tuple(found)) for n, found in enumerate(per_file))

    def place_then_words(f: Finding) -> tuple:
        return (f.path, f.line, f.column, f.end_line, f.end_column, f.rule, f.phase, f.message, f.fixable, f.reason, f.safety)

    assert list(RunResult(files).findings) == sorted((f for found in per_file for f in found), key=place_then_words)
