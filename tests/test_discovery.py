"""File discovery: nested .gitignore files, excludes, includes, symlinks, order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migrator import discovery
from migrator.discovery import SourceFile, discover


def _touch(root: Path, *relpaths: str) -> None:
    for relpath in relpaths:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def _found(root: Path, paths=(".",), include=(".",), exclude=()) -> list[str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return [s.relpath for s in discover(root, [Path(p) for p in paths], include, exclude)]
    finally:
        os.chdir(cwd)


def test_sorted_and_python_only(tmp_path):
    _touch(tmp_path, "b.py", "a/z.py", "a/b.py", "notes.txt")
    assert _found(tmp_path) == ["a/b.py", "a/z.py", "b.py"]


def test_nested_gitignore_with_negation(tmp_path):
    _touch(tmp_path, "pkg/gen_a.py", "pkg/gen_keep.py", "pkg/sub/gen_b.py", "top_gen.py", "gen_root.py")
    (tmp_path / ".gitignore").write_text("/top_gen.py\n")
    (tmp_path / "pkg" / ".gitignore").write_text("gen_*.py\n!gen_keep.py\n")
    assert _found(tmp_path) == ["gen_root.py", "pkg/gen_keep.py"]


def test_ignored_folder_and_always_excluded(tmp_path):
    _touch(tmp_path, "ok.py", "out/x.py", ".git/x.py", "venv/x.py", "env/lib/x.py", "__pycache__/x.py", "dist/x.py")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("out/\n")
    assert _found(tmp_path) == ["ok.py"]


def test_exclude_and_include(tmp_path):
    _touch(tmp_path, "legacy/a.py", "app/a.py", "tools/a.py")
    assert _found(tmp_path, exclude=["legacy/"]) == ["app/a.py", "tools/a.py"]
    assert _found(tmp_path, include=["app"]) == ["app/a.py"]


def test_symlinks_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    _touch(outside, "secret.py")
    root = tmp_path / "root"
    _touch(root, "a.py")
    (root / "link_dir").symlink_to(outside, target_is_directory=True)
    (root / "link.py").symlink_to(outside / "secret.py")
    assert _found(root) == ["a.py"]


def test_explicit_paths_restrict_the_walk(tmp_path):
    _touch(tmp_path, "a/x.py", "b/y.py")
    (tmp_path / "a" / ".gitignore").write_text("x.py\n")
    assert _found(tmp_path, paths=["b"]) == ["b/y.py"]
    assert _found(tmp_path, paths=["a"]) == []


def test_without_stats_the_walk_finds_the_same_files_and_takes_no_stat(tmp_path):
    _touch(tmp_path, "a/x.py", "a/gen.py", "b/y.md", "c.py")
    (tmp_path / ".gitignore").write_text("gen.py\n")
    with_stats = discover(tmp_path, [tmp_path], ["."], [])
    without = discover(tmp_path, [tmp_path], ["."], [], stats=False)
    assert [s.relpath for s in without] == [s.relpath for s in with_stats] == ["a/x.py", "b/y.md", "c.py"]
    assert [s.stat for s in with_stats] == [discovery.signature(os.lstat(s.path)) for s in with_stats]
    assert [s.stat for s in without] == [None, None, None]
    # A file named on the command line has its stat all the same: telling a symlink from a file takes it.
    (named,) = discover(tmp_path, [tmp_path / "c.py"], ["."], [], stats=False)
    assert named.stat == discovery.signature(os.lstat(tmp_path / "c.py"))


@pytest.mark.parametrize("size", [0, 1, discovery._READ_SIZE - 1, discovery._READ_SIZE, 3 * discovery._READ_SIZE + 7])
def test_read_bytes_returns_every_byte(tmp_path, size):
    path = tmp_path / "data.py"
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    path.write_bytes(data)
    assert SourceFile(str(path), "data.py").read_bytes() == data


def test_read_bytes_of_a_folder_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        SourceFile(str(tmp_path), "x").read_bytes()
