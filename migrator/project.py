"""Facts about the whole project that single files need: gathered once per run, before the files."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from migrator._frozen import FrozenDict
from migrator.analysis.agents import (
    BASE_AGENT,
    REGISTRATION,
    AgentClass,
    FileAgents,
    resolve_agents,
    scan_file,
)
from migrator.discovery import SourceFile
from migrator.sourcefile import DecodeError, SourceText
from migrator.transforms._test_shapes import FIXTURE_NAME


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




def collect(root: Path, files: Iterable[SourceFile]) -> ProjectFacts:
    """Gather the project facts for a run over `files`."""
    files = list(files)
    texts = []
    for source in files:
        if not source.relpath.endswith(".py"):
            continue
        try:
            raw = source.path.read_bytes()
        except OSError:
            continue
        if BASE_AGENT.encode() in raw or REGISTRATION.search(raw):
            texts.append((source.relpath, raw))
    facts = from_sources(texts)
    return dataclasses.replace(facts, conftest_fixture_dirs=find_conftest_fixture_dirs(root, files))


def from_sources(sources: Iterable[tuple[str, bytes | str]]) -> ProjectFacts:
    """The agent facts of the given (relpath, source) pairs; files that do not parse are skipped."""
    scanned: list[FileAgents] = []
    for relpath, raw in sources:
        try:
            text = SourceText.decode(raw).text if isinstance(raw, bytes) else raw
            scanned.append(scan_file(text, relpath))
        except (DecodeError, SyntaxError, ValueError):
            continue
    defaults = tuple(
        dict.fromkeys((name, qualname) for item in scanned for name, qualname, default in item.registrations if default)
    )
    return ProjectFacts(agent_classes=FrozenDict(resolve_agents(scanned)), default_agents=defaults)


def find_conftest_fixture_dirs(root: Path, files: Iterable[SourceFile]) -> frozenset[str]:
    """Folders (relative to the root) whose conftest.py defines the `test_user_context` fixture.

    Every folder above the given files is checked on disk, so a conftest.py outside the
    scanned paths still counts.
    """
    folders: set[str] = set()
    for source in files:
        folder = source.relpath.rpartition("/")[0]
        while folder not in folders:
            folders.add(folder)
            if not folder:
                break
            folder = folder.rpartition("/")[0]
    needle = FIXTURE_NAME.encode()
    found = set()
    for folder in folders:
        conftest = root / folder / "conftest.py" if folder else root / "conftest.py"
        try:
            raw = conftest.read_bytes()
            if needle not in raw:
                continue
            tree = ast.parse(raw)
        except (OSError, SyntaxError, ValueError):
            continue
        if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == FIXTURE_NAME for n in tree.body):
            found.add(folder)
    return frozenset(found)
