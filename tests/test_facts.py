"""The facts pass: what the codebase's own definitions say, and the user's config over them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator import project
from migrator.analysis import facts_scan
from migrator.analysis.agents import module_name_of
from migrator.analysis.facts import FRESH, PER_USER, RAISES, SHARED, facts_of_text
from tests.helpers import make_config

LEGACY = ("get_agent_instance_factory", "AgentRegistry", "get_db_session", "get_global_bridge")
REPO = Path(__file__).resolve().parent.parent


def sharing_of(source: str, name: str) -> str:
    found = facts_of_text(textwrap.dedent(source), "app/mod.py", LEGACY + ("get_singleton_registry",))
    return found.legacy[name][0]


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        ("_F = object()\ndef get_agent_instance_factory():\n    return _F\n", "get_agent_instance_factory", SHARED),
        (
            "import functools\n@functools.lru_cache(maxsize=None)\ndef get_agent_instance_factory():\n    return object()\n",
            "get_agent_instance_factory",
            SHARED,
        ),
        (
            "_F = None\ndef get_agent_instance_factory():\n    global _F\n    _F = _F or object()\n    return _F\n",
            "get_agent_instance_factory",
            SHARED,
        ),
        ("def get_agent_instance_factory():\n    '''Gone.'''\n    raise ValueError('use create')\n", "get_agent_instance_factory", RAISES),
        ("def get_db_session():\n    s = object()\n    yield s\n", "get_db_session", FRESH),
        ("class S:\n    pass\ndef get_db_session():\n    return S()\n", "get_db_session", FRESH),
        ("class AgentRegistry:\n    _instance = None\n", "AgentRegistry", SHARED),
        ("class AgentRegistry:\n    def __new__(cls):\n        return cls._one\n", "AgentRegistry", SHARED),
        ("class Slot:\n    r = None\nclass AgentRegistry:\n    def __init__(self):\n        Slot.r = self\n", "AgentRegistry", SHARED),
        ("class AgentRegistry:\n    def __init__(self):\n        self.sessions = {}\n", "AgentRegistry", PER_USER),
        ("class AgentRegistry:\n    pass\nAgentRegistry = AgentRegistry()\n", "AgentRegistry", SHARED),
        (
            "class B:\n    one = None\ndef installed():\n    return B.one\ndef get_singleton_registry():\n    return installed()\n",
            "get_singleton_registry",
            SHARED,
        ),
    ],
)
def test_sharing_is_read_from_the_definition(source: str, name: str, expected: str) -> None:
    assert sharing_of(source, name) == expected


def test_context_type_constructors_and_rejected_identities() -> None:
    source = textwrap.dedent(
        """\
        import dataclasses
        BLOCKED_VALUES = frozenset({"test", "Example"})
        ID_PREFIXES = ("demo_", "mock_")

        @dataclasses.dataclass(frozen=True)
        class UserExecutionContext:
            user_id: str
            thread_id: str
            run_id: str
            request_id: str = ""

            def __post_init__(self):
                if self.user_id.startswith(("fake_",)):
                    raise ValueError(self.user_id)

            @classmethod
            def from_request_supervisor(cls, user_id, thread_id, run_id, request_id=None):
                return cls(user_id, thread_id, run_id)
        """
    )
    context = facts_of_text(source, "app/context.py", ()).context
    assert context is not None
    assert context.constructors["from_request_supervisor"].required == ("user_id", "thread_id", "run_id")
    assert context.constructors[""].required == ("user_id", "thread_id", "run_id")
    assert context.placeholder_values == {"test", "example"}
    assert set(context.placeholder_prefixes) == {"demo_", "mock_", "fake_"}
    assert not context.accepts("example") and not context.accepts("mock_user") and context.accepts("user-1")


def test_context_sources_by_annotation_and_by_body() -> None:
    source = textwrap.dedent(
        """\
        import pytest

        @pytest.fixture
        def ctx() -> "UserExecutionContext":
            ...

        def make_context(user_id=None):
            return UserExecutionContext.from_request_supervisor(user_id or "u", "t", "r")

        def needs_ids(user_id, thread_id) -> UserExecutionContext:
            ...

        def unrelated():
            return 1
        """
    )
    sources = facts_of_text(source, "tests/support.py", ()).sources
    assert [(s.name, s.kind, s.required) for s in sources] == [
        ("ctx", "fixture", ()),
        ("make_context", "helper", ()),
        ("needs_ids", "helper", ("user_id", "thread_id")),
    ]


def _facts(files: dict[str, str], table: dict | None = None):
    config = make_config(table)
    sources = [(path, textwrap.dedent(text)) for path, text in files.items()]
    return project.from_sources(sources, config, list(files)).codebase


def test_runtime_rules_stand_when_the_tree_defines_no_context() -> None:
    facts = _facts({"app/a.py": "x = 1\n"})
    assert facts.context.source == "runtime"
    assert facts.context.constructors["from_request_supervisor"].required == ("user_id", "thread_id")
    assert "none" in facts.context.placeholder_values


def test_names_the_tree_does_not_define_keep_the_documented_default() -> None:
    facts = _facts({"app/a.py": "x = 1\n"})
    assert facts.sharing("get_agent_instance_factory") == SHARED
    assert "documented default" in facts.evidence("get_agent_instance_factory")


def test_config_declares_names_deprecated_or_current_over_the_facts() -> None:
    files = {
        "netra_backend/app/core/database.py": "def get_db_session():\n    yield object()\n",
        "netra_backend/app/agents/supervisor/agent_instance_factory.py": "def get_agent_instance_factory():\n    raise ValueError()\n",
    }
    plain = _facts(files)
    assert plain.sharing("get_db_session") == FRESH
    table = {"legacy": {"get_db_session": "netra_backend.app.core.database"}, "current": ["get_agent_instance_factory"]}
    overridden = _facts(files, table)
    assert overridden.sharing("get_db_session") == SHARED
    assert overridden.sharing("get_agent_instance_factory") == "current"


def test_patch_targets_know_which_modules_define_the_name() -> None:
    facts = _facts(
        {
            "pkg/defines.py": "def get_agent_instance_factory():\n    raise ValueError()\n",
            "pkg/imports_it.py": "from pkg.defines import get_agent_instance_factory\n",
            "pkg/empty.py": "x = 1\n",
        }
    )
    assert facts.defines("pkg.defines", "get_agent_instance_factory") is True
    assert facts.defines("pkg.imports_it", "get_agent_instance_factory") is True
    assert facts.defines("pkg.empty", "get_agent_instance_factory") is False
    assert facts.defines("pkg.missing", "get_agent_instance_factory") is None


def _scan(root: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "scan", ".", "--format", "json", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _project(tmp_path: Path, config: str, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.migrator]\n{config}\n", encoding="utf-8")
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


FRESH_SESSION_TREE = {
    "netra_backend/app/core/database.py": """\
        def get_db_session():
            session = object()
            yield session
        """,
    "netra_backend/app/routes/notes.py": """\
        from netra_backend.app.core.database import get_db_session

        def list_notes(user_context, db=get_db_session):
            return get_db_session()
        """,
}


def test_a_fresh_session_getter_is_not_reported(tmp_path: Path) -> None:
    root = _project(tmp_path, "", FRESH_SESSION_TREE)
    assert _scan(root)["findings"] == []


def test_the_config_still_declares_a_fresh_getter_deprecated(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.migrator.legacy]\nget_db_session = "netra_backend.app.core.database"', FRESH_SESSION_TREE)
    rules = {f["rule"] for f in _scan(root)["findings"]}
    assert {"MIG007", "MIG009"} <= rules


def test_a_rule_whose_symbols_resolve_to_nothing_fails_at_load(tmp_path: Path) -> None:
    root = _project(tmp_path, 'rules = ["own_rules"]', {"app/a.py": "x = 1\n"})
    own = root / "own_rules"
    own.mkdir()
    (own / "MIG900-nothing.toml").write_text(
        textwrap.dedent(
            """\
            summary = "nothing"
            message = "nothing"
            [match]
            symbols = ["get_something_nobody_defines"]
            kinds = ["call"]
            [docs]
            what = "w"
            why = "w"
            not_reported = "n"
            example = "identity_params"
            """
        ),
        encoding="utf-8",
    )
    (own / "MIG900").mkdir()
    (own / "MIG900" / "identity_params.py").write_text("x = 1\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "scan", "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "get_something_nobody_defines" in done.stderr and "resolves to nothing" in done.stderr


def test_explain_examples_are_fixture_cases_of_the_rule() -> None:
    from migrator.rules import load_rules
    from migrator.transforms import TRANSFORMS

    for rule in load_rules((), TRANSFORMS.keys()):
        folder = REPO / "fixtures" / "rules" / rule.id
        case = folder / f"{rule.docs.example}.before.py"
        alone = folder / f"{rule.docs.example}.py"
        assert case.is_file() or alone.is_file(), rule.id
        shown = (case if case.is_file() else alone).read_text(encoding="utf-8")
        assert rule.docs.before in shown


def test_a_same_named_function_elsewhere_is_not_the_legacy_definition() -> None:
    facts = _facts({"app/tools/helpers.py": "def get_agent_instance_factory():\n    return object()\n"})
    assert facts.sharing("get_agent_instance_factory") == SHARED
    assert "get_agent_instance_factory" not in facts.legacy


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the facts pass parses from now on, in order."""
    parsed: list[str] = []
    real = facts_scan.scan_facts

    def counting(text: str, relpath: str, *rest: object) -> object:
        parsed.append(relpath)
        return real(text, relpath, *rest)

    monkeypatch.setattr(facts_scan, "scan_facts", counting)
    return parsed


def test_first_pass_results_are_cached_by_content_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(root=tmp_path)
    files = [
        ("netra_backend/app/agents/supervisor/agent_instance_factory.py", b"def get_agent_instance_factory():\n    raise ValueError()\n"),
        ("tests/conftest.py", b"import pytest\n@pytest.fixture\ndef ctx() -> 'UserExecutionContext':\n    ...\n"),
    ]
    first = project.from_sources(files, config, [p for p, _ in files], use_cache=True)
    parsed = _count_parses(monkeypatch)
    again = project.from_sources(files, config, [p for p, _ in files], use_cache=True)
    assert parsed == [] and again == first
    changed = [files[0], ("tests/conftest.py", files[1][1] + b"x = 1\n")]
    project.from_sources(changed, config, [p for p, _ in changed], use_cache=True)
    assert parsed == ["tests/conftest.py"]


def test_the_runtime_context_is_read_again_only_when_its_source_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = tmp_path / "migrator" / "runtime"
    runtime.mkdir(parents=True)
    for name in ("context.py", "ids.py"):
        (runtime / name).write_bytes((REPO / "migrator" / "runtime" / name).read_bytes())
    monkeypatch.setattr(project, "__file__", str(tmp_path / "migrator" / "project.py"))
    cache = project.FirstPassReader.of(make_config(root=tmp_path), use_cache=True).cache
    first = project._runtime_context(cache)
    parsed = _count_parses(monkeypatch)
    assert project._runtime_context(cache) == first and parsed == []
    ids = runtime / "ids.py"
    ids.write_text(ids.read_text(encoding="utf-8") + '\nPLACEHOLDER_USER_IDS = frozenset({"nobody"})\n', encoding="utf-8")
    again = project._runtime_context(cache)
    assert parsed == [project.RUNTIME_CONTEXT]
    assert first is not None and again is not None and again.context is not None
    assert "nobody" in again.context.placeholder_values and "nobody" not in first.context.placeholder_values


def test_files_that_only_import_legacy_names_are_not_parsed_but_their_bindings_count() -> None:
    facts = _facts(
        {
            "pkg/multi.py": "from pkg.defines import (\n    other,\n    get_agent_instance_factory,\n)\n",
            "pkg/plain.py": "import os\nfrom pkg.defines import get_agent_instance_factory as g\n",
            "pkg/uses.py": "def f():\n    return get_agent_instance_factory()\n",
        }
    )
    assert facts.defines("pkg.multi", "get_agent_instance_factory") is True
    assert facts.defines("pkg.plain", "get_agent_instance_factory") is True
    assert facts.defines("pkg.uses", "get_agent_instance_factory") is False


def test_explain_says_what_a_rule_leaves_alone_and_shows_its_fixture_case() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "explain", "MIG003"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0
    assert "What it does not report, and why" in done.stdout
    assert "isinstance" in done.stdout and "per user" in done.stdout
    assert "fixture case startup_block" in done.stdout


def test_the_facts_fingerprint_is_the_same_in_every_process() -> None:
    probe = (
        "from pathlib import Path; from migrator import project; from migrator.config import load_config; "
        f"c = load_config(Path({str(REPO / 'fixtures' / 'realistic_sample')!r})); "
        "files = [(str(p.relative_to(c.root)), p.read_bytes()) for p in sorted(c.root.rglob('*.py'))]; "
        "print(project.from_sources(files, c, [f for f, _ in files]).fingerprint())"
    )
    prints = {
        subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(prints) == 1 and prints != {""}


_DEFINITION_PIECES = ["get_db_session", "def ", "async  def\t", "class ", " ", "\t", "=", ":", "\n", "\r\n", "x", "_", "(", "#"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_DEFINITION_PIECES), max_size=30))
def test_a_top_level_definition_is_found_where_an_anchored_regex_finds_it(pieces):
    text = "".join(pieces)
    name = "get_db_session"
    anchored = re.compile(rf"^(?:async[ \t]+def|def|class)[ \t]+{name}\b|^{name}[ \t]*[:=]", re.MULTILINE)
    assert facts_scan._defined_at_top_level(text, name) == (anchored.search(text) is not None)


_PATH_PART = st.sampled_from(["src", "app", "__init__", "tests", "a.b", ""])


@given(st.lists(_PATH_PART, min_size=1, max_size=4), st.sampled_from(["", ".py", ".md"]))
def test_module_name_of_a_path(parts, suffix):
    relpath = "/".join(parts) + suffix
    # The definition: the path's parts without `.py`, a trailing `__init__` and a leading `src`.
    expected = relpath[: -len(".py")].split("/") if relpath.endswith(".py") else relpath.split("/")
    if expected and expected[-1] == "__init__":
        expected = expected[:-1]
    if len(expected) > 1 and expected[0] == "src":
        expected = expected[1:]
    assert module_name_of(relpath) == ".".join(expected)
