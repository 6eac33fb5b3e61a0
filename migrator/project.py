"""Facts about the whole project that single files need: gathered once per run, before the files."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
from collections.abc import Iterable, Mapping

from migrator._frozen import FrozenDict
from migrator.analysis.agents import (
    BASE_AGENT,
    REGISTRATION,
    AgentClass,
    FileAgents,
    resolve_agents,
    scan_file,
)
from migrator.sourcefile import DecodeError, SourceText

# The pytest fixture that gives a test its user context (a conftest.py may define it).
FIXTURE_NAME = "test_user_context"


@dataclasses.dataclass(frozen=True)
class ProjectFacts:
    """Cross-file facts: conftest.py fixtures, agent classes and the registry's default agents."""

    conftest_fixture_dirs: frozenset[str] = frozenset()
    agent_classes: Mapping[str, AgentClass] = FrozenDict()
    default_agents: tuple[tuple[str, str], ...] = ()  # (name, class qualname), in registration order

    def agent(self, qualname: str) -> AgentClass | None:
        return self.agent_classes.get(qualname)

    def conftest_defines_fixture(self, relpath: str) -> bool:
        """Whether a conftest.py in the file's folder or above defines the fixture."""
        folder = relpath.rpartition("/")[0]
        while True:
            if folder in self.conftest_fixture_dirs:
                return True
            if not folder:
                return False
            folder = folder.rpartition("/")[0]

    def fingerprint(self) -> str:
        """A stable digest, so cached results are reused only under the same facts."""
        text = repr((sorted(self.conftest_fixture_dirs), sorted(self.agent_classes.items()), self.default_agents))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def first_pass_reads(relpath: str, raw: bytes) -> bool:
    """Whether the first pass needs a file: it may define or register an agent class, or it is
    a conftest.py that may define the `test_user_context` fixture. The first pass reads `.py`
    files only."""
    if _is_conftest(relpath) and _FIXTURE in raw:
        return True
    return _BASE_AGENT in raw or (_REGISTER in raw and REGISTRATION.search(raw) is not None)


_BASE_AGENT = BASE_AGENT.encode()
_FIXTURE = FIXTURE_NAME.encode()
# The literal part of REGISTRATION: a substring search rules out most files faster than the regex.
_REGISTER = b".register("


def from_sources(sources: Iterable[tuple[str, bytes | str]]) -> ProjectFacts:
    """The facts of the given (relpath, source) pairs; files that do not decode or parse are skipped."""
    scanned: list[FileAgents] = []
    fixture_dirs: set[str] = set()
    for relpath, raw in sources:
        try:
            text = SourceText.decode(raw).text if isinstance(raw, bytes) else raw
            tree = ast.parse(text)
            if _is_conftest(relpath) and _defines_fixture(tree):
                fixture_dirs.add(relpath.rpartition("/")[0])
            scanned.append(scan_file(text, relpath, tree))
        except (DecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
            # A file too deeply nested for the parser is reported by the engine, not here.
            continue
    defaults = tuple(
        dict.fromkeys((name, qualname) for item in scanned for name, qualname, default in item.registrations if default)
    )
    return ProjectFacts(
        conftest_fixture_dirs=frozenset(fixture_dirs),
        agent_classes=FrozenDict(resolve_agents(scanned)),
        default_agents=defaults,
    )


def _is_conftest(relpath: str) -> bool:
    return relpath.rpartition("/")[2] == "conftest.py"


def _defines_fixture(tree: ast.Module) -> bool:
    """Whether a conftest.py defines `test_user_context` at its top level."""
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == FIXTURE_NAME for n in tree.body)
