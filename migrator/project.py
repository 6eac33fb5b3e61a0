"""Facts about the whole project that single files need: gathered once per run, before the files."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
from collections.abc import Iterable
from pathlib import Path

from migrator.discovery import SourceFile
from migrator.transforms._test_shapes import FIXTURE_NAME


@dataclasses.dataclass(frozen=True)
class ProjectFacts:
    """Cross-file facts: where conftest.py defines the test_user_context fixture."""

    conftest_fixture_dirs: frozenset[str] = frozenset()

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
        text = repr(sorted(self.conftest_fixture_dirs))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def collect(root: Path, files: Iterable[SourceFile]) -> ProjectFacts:
    """Gather the project facts for a run over `files`."""
    return ProjectFacts(conftest_fixture_dirs=find_conftest_fixture_dirs(root, files))


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
