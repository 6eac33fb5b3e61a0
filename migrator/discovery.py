"""Finds the files to scan: nested .gitignore files, excludes, includes, no symlinks, sorted."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from migrator.exit_codes import UsageError
from migrator.git_listing import start_listing

if TYPE_CHECKING:
    import pathspec

SOURCE_SUFFIXES = (".py", ".md")
ALWAYS_EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".migrator", ".tox", ".nox"}
)
ALWAYS_EXCLUDED_SUFFIXES = (".backup",)
_READ_SIZE = 1 << 18


class SourceFile(msgspec.Struct, frozen=True):
    """A file to scan: its absolute path and its path relative to the root, with `/`."""

    path: str | os.PathLike[str]
    relpath: str
    # (size, mtime_ns, ctime_ns, inode) when discovery took it: what the file index compares.
    stat: tuple[int, int, int, int] | None = None

    def read_bytes(self) -> bytes:
        return read_path(self.path)


def read_path(path: str | os.PathLike[str]) -> bytes:
    """A file's bytes, read with plain system calls (no buffered file object per file)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        parts = []
        while part := os.read(fd, _READ_SIZE):
            parts.append(part)
    finally:
        os.close(fd)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class _IgnoreRules:
    """The stack of .gitignore specs that apply inside one folder."""

    def __init__(self, specs: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]) -> None:
        self._specs = specs

    def child(self, folder: str | Path, rel: str) -> _IgnoreRules:
        """The rules inside `folder`: these, plus its own .gitignore if it has one."""
        try:
            with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:  # none, or not a readable file
            return self
        return _IgnoreRules((*self._specs, (rel, _spec(lines))))

    def ignores(self, rel: str, is_dir: bool) -> bool:
        if not self._specs:
            return False
        ignored = False
        candidate = rel + "/" if is_dir else rel
        for base, spec in self._specs:
            local = candidate[len(base) + 1 :] if base else candidate
            result = spec.check_file(local)
            if result.include is not None:
                ignored = result.include
        return ignored


def discover(
    root: Path, paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str], *, stats: bool = True
) -> list[SourceFile]:
    """All scannable files under `paths` that are also under `include`, in path order.

    Without `stats`, a walked file's stat (what only the file index compares) is not taken:
    about half of a walk's time. A file named on the command line, or listed by git, has its
    stat all the same, because telling a regular file from a symlink takes it."""
    root = root.resolve()
    include_roots = [_relative(root, (root / p).resolve()) for p in include]
    exclude_spec = _spec(exclude) if exclude else None
    found: dict[str, SourceFile] = {}
    folders: list[tuple[str, str]] = []
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
                found[rel] = SourceFile(target, rel, signature(os.lstat(target)))
            continue
        folders.append((str(target), rel))
    targets = [rel for _, rel in folders]
    listing = start_listing(root, targets) if folders else None
    listed = False
    if listing is not None:
        with listing:
            shown = listing.shown()
            if shown is not None:
                # Each file's lstat while git still matches the tracked files against the
                # ignore rules; the tracked files a rule matches are dropped after.
                sources = list(_from_listing(root, shown, targets, exclude_spec))
                ignored = listing.ignored()
                if ignored is not None:
                    found.update((source.relpath, source) for source in sources if source.relpath not in ignored)
                    listed = True
    if not listed:
        for folder, rel in folders:
            for source in _walk(folder, rel, _ignore_rules_for(root, rel), exclude_spec, stats):
                found[source.relpath] = source
    if "" in include_roots:  # the default include, the whole root
        return [found[rel] for rel in sorted(found)]
    return [found[rel] for rel in sorted(found) if _under_any(rel, include_roots)]


def _from_listing(
    root: Path, listed: Sequence[str], targets: Sequence[str], exclude: pathspec.GitIgnoreSpec | None
) -> Iterator[SourceFile]:
    """The files of git's listing that the walk would also yield: the same exclusions, no symlinks.

    As in the walk, a folder asked for is skipped only when it is a virtualenv, and the folders
    above it not at all. A virtualenv is a folder holding a `pyvenv.cfg`, asked of the file
    system as the walk sees it: git may list no such file (an ignore rule can hide it).
    """
    base = str(root)

    def is_venv(folder: str) -> bool:
        return os.path.lexists(os.path.join(base, folder, "pyvenv.cfg"))

    above = {target.rpartition("/")[0] for target in targets}
    while "" not in above:
        above |= {folder.rpartition("/")[0] for folder in above}
    excluded_dirs: dict[str, bool] = dict.fromkeys(above - set(targets), False)
    excluded_dirs.update((target, is_venv(target)) for target in targets)

    def dir_excluded(folder: str) -> bool:
        if folder not in excluded_dirs:
            parent, _, name = folder.rpartition("/")
            excluded_dirs[folder] = (
                dir_excluded(parent)
                or name in ALWAYS_EXCLUDED_DIRS
                or name.endswith(".egg-info")
                or (exclude is not None and exclude.match_file(folder + "/"))
                or is_venv(folder)
            )
        return excluded_dirs[folder]

    for rel in listed:
        folder, _, name = rel.rpartition("/")
        if not name.endswith(SOURCE_SUFFIXES) or name.endswith(ALWAYS_EXCLUDED_SUFFIXES):
            continue
        if dir_excluded(folder):
            continue
        if exclude is not None and exclude.match_file(rel):
            continue
        path = f"{base}{os.sep}{rel}"
        try:
            found = os.lstat(path)
        except OSError:  # deleted but still tracked
            continue
        if not stat.S_ISREG(found.st_mode):  # a symlink, or no file
            continue
        yield SourceFile(path, rel, signature(found))


def _walk(
    folder: str, rel: str, rules: _IgnoreRules, exclude: pathspec.GitIgnoreSpec | None, stats: bool
) -> Iterator[SourceFile]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=_name)
    except FileNotFoundError:  # removed while the walk went on
        return
    except OSError as error:
        # Skipping it would hide its files' findings: a gate that passes without looking.
        raise UsageError(
            f"cannot read folder {rel or '.'}: {error.strerror or error}; "
            "fix its permissions, or exclude it in [tool.migrator] exclude"
        ) from None
    names = {entry.name for entry in entries}
    if "pyvenv.cfg" in names:
        return
    if ".gitignore" in names:
        rules = rules.child(folder, rel)
    prefix = f"{rel}/" if rel else ""
    for entry in entries:
        name = entry.name
        child_rel = prefix + name
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if name in ALWAYS_EXCLUDED_DIRS or name.endswith(".egg-info"):
                continue
            if rules.ignores(child_rel, True) or (exclude is not None and exclude.match_file(child_rel + "/")):
                continue
            yield from _walk(entry.path, child_rel, rules, exclude, stats)
        elif name.endswith(SOURCE_SUFFIXES) and not name.endswith(ALWAYS_EXCLUDED_SUFFIXES) and entry.is_file():
            if rules.ignores(child_rel, False) or (exclude is not None and exclude.match_file(child_rel)):
                continue
            yield SourceFile(entry.path, child_rel, _signature(entry) if stats else None)


def _spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    # Imported here: a tree listed by git, or one without ignore files and excludes, needs none.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def signature(found: os.stat_result) -> tuple[int, int, int, int]:
    """What the file index compares: size, modification and change times, inode."""
    return (found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino)


def _signature(entry: os.DirEntry) -> tuple[int, int, int, int] | None:
    try:
        return signature(entry.stat(follow_symlinks=False))
    except OSError:
        return None


def _name(entry: os.DirEntry) -> str:
    return entry.name


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
