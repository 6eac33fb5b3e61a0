"""Finds the files to scan: nested .gitignore files, excludes, includes, no symlinks, sorted."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pathspec

from migrator.exit_codes import UsageError

SOURCE_SUFFIXES = (".py", ".md")
ALWAYS_EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".migrator", ".tox", ".nox"}
)
ALWAYS_EXCLUDED_SUFFIXES = (".backup",)


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """A file to scan: its absolute path and its path relative to the root, with `/`."""

    path: Path
    relpath: str


class _IgnoreRules:
    """The stack of .gitignore specs that apply inside one folder."""

    def __init__(self, specs: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]) -> None:
        self._specs = specs

    def child(self, folder: Path, rel: str) -> _IgnoreRules:
        ignore_file = folder / ".gitignore"
        if not ignore_file.is_file():
            return self
        try:
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return self
        return _IgnoreRules((*self._specs, (rel, pathspec.GitIgnoreSpec.from_lines(lines))))

    def ignores(self, rel: str, is_dir: bool) -> bool:
        ignored = False
        candidate = rel + "/" if is_dir else rel
        for base, spec in self._specs:
            local = candidate[len(base) + 1 :] if base else candidate
            result = spec.check_file(local)
            if result.include is not None:
                ignored = result.include
        return ignored


def discover(root: Path, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str]) -> list[SourceFile]:
    """All scannable files under `paths` that are also under `include`, in path order."""
    root = root.resolve()
    include_roots = [_relative(root, (root / p).resolve()) for p in include]
    exclude_spec = pathspec.GitIgnoreSpec.from_lines(exclude)
    found: dict[str, SourceFile] = {}
    for raw in paths:
        target = raw if raw.is_absolute() else Path.cwd() / raw
        if not os.path.lexists(target):
            raise UsageError(f"path does not exist: {raw}")
        target = Path(os.path.abspath(target))
        rel = _relative(root, target)
        if rel is None:
            raise UsageError(f"path {raw} is outside the project root {root}")
        if target.is_file():
            if not target.is_symlink() and target.suffix in SOURCE_SUFFIXES:
                found[rel] = SourceFile(target, rel)
            continue
        rules = _ignore_rules_for(root, rel)
        for source in _walk(target, rel, rules, exclude_spec):
            found[source.relpath] = source
    return [found[rel] for rel in sorted(found) if _under_any(rel, include_roots)]


def _walk(folder: Path, rel: str, rules: _IgnoreRules, exclude: pathspec.GitIgnoreSpec) -> Iterator[SourceFile]:
    if (folder / "pyvenv.cfg").exists():
        return
    rules = rules.child(folder, rel)
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        child_rel = f"{rel}/{entry.name}" if rel else entry.name
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if entry.name in ALWAYS_EXCLUDED_DIRS or entry.name.endswith(".egg-info"):
                continue
            if rules.ignores(child_rel, True) or exclude.match_file(child_rel + "/"):
                continue
            yield from _walk(Path(entry.path), child_rel, rules, exclude)
        elif entry.is_file() and entry.name.endswith(SOURCE_SUFFIXES):
            if entry.name.endswith(ALWAYS_EXCLUDED_SUFFIXES):
                continue
            if rules.ignores(child_rel, False) or exclude.match_file(child_rel):
                continue
            yield SourceFile(Path(entry.path), child_rel)


def _ignore_rules_for(root: Path, rel: str) -> _IgnoreRules:
    """The ignore rules in force in the folders above `rel`, read from the root down."""
    rules = _IgnoreRules(())
    if not rel:
        return rules
    current = root
    prefix = ""
    rules = rules.child(current, prefix)
    for part in rel.split("/")[:-1]:
        current = current / part
        prefix = f"{prefix}/{part}" if prefix else part
        rules = rules.child(current, prefix)
    return rules


def _relative(root: Path, target: Path) -> str | None:
    if target == root:
        return ""
    try:
        return target.relative_to(root).as_posix()
    except ValueError:
        return None


def _under_any(rel: str, roots: Sequence[str | None]) -> bool:
    return any(r == "" or rel == r or rel.startswith(r + "/") for r in roots if r is not None)
