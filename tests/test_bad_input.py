"""The bad-input matrix: what `apply` does with each odd file or folder, asserted; nothing is ever lost."""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.exit_codes import ExitCode
from tests.conftest import FACTORY, snapshot
from tests.unprivileged import assert_one_line_error, run_unprivileged, shared_project


@pytest.fixture
def open_project() -> Iterator[Path]:
    with shared_project() as root:
        yield root


IMPORT = f"from {FACTORY} import get_agent_instance_factory"
NEW_IMPORT = f"from {FACTORY} import create_agent_instance_factory"
FUNCTION = ["def build(user_context):", "    return get_agent_instance_factory()"]
NEW_FUNCTION = ["def build(user_context):", "    return create_agent_instance_factory(user_context)"]


def module(*lines: str, ending: str = "\n") -> str:
    return "".join(line + ending for line in lines)


PLAIN = module(IMPORT, "", "", *FUNCTION)
FIXED = module(NEW_IMPORT, "", "", *NEW_FUNCTION)


def make(root: Path, relpath: str, data: bytes) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.migrator]\n")
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def apply(cli, root: Path):
    result = cli("apply", "--phase", "all", "--format", "json", cwd=root)
    return result, result.json()


def assert_failed_and_kept(cli, root: Path, relpath: str, reason: str) -> None:
    before = snapshot(root)
    result, doc = apply(cli, root)
    assert result.code == ExitCode.FINDINGS
    (error,) = [e for e in doc["errors"] if e["path"] == relpath]
    assert reason in error["message"], error
    assert snapshot(root) == before


def assert_rewritten(cli, root: Path, relpath: str, expected: bytes) -> None:
    result, doc = apply(cli, root)
    assert result.code == ExitCode.CLEAN, doc["errors"]
    assert doc["changed_files"] == [relpath]
    assert (root / relpath).read_bytes() == expected


def test_syntax_error_is_reported_and_kept(cli, tmp_path):
    make(tmp_path, "app/broken.py", (PLAIN + "def oops(:\n").encode())
    assert_failed_and_kept(cli, tmp_path, "app/broken.py", "cannot parse: line 6: ")


def test_latin1_cookie_is_rewritten_in_latin1(cli, tmp_path):
    header = "# -*- coding: latin-1 -*-\nLABEL = 'caf\u00e9'\n"
    make(tmp_path, "app/latin.py", (header + PLAIN).encode("latin-1"))
    assert_rewritten(cli, tmp_path, "app/latin.py", (header + FIXED).encode("latin-1"))


def test_unknown_encoding_cookie_is_reported_and_kept(cli, tmp_path):
    make(tmp_path, "app/klingon.py", ("# coding: klingon\n" + PLAIN).encode())
    assert_failed_and_kept(cli, tmp_path, "app/klingon.py", "cannot decode: unknown encoding: klingon")


def test_bytes_that_contradict_the_cookie_are_reported_and_kept(cli, tmp_path):
    make(tmp_path, "app/liar.py", ("# coding: utf-8\nLABEL = 'caf\u00e9'\n" + PLAIN).encode("latin-1"))
    assert_failed_and_kept(cli, tmp_path, "app/liar.py", "cannot decode: ")


def test_bom_is_kept(cli, tmp_path):
    make(tmp_path, "app/bom.py", codecs.BOM_UTF8 + PLAIN.encode())
    assert_rewritten(cli, tmp_path, "app/bom.py", codecs.BOM_UTF8 + FIXED.encode())


def test_crlf_is_kept(cli, tmp_path):
    make(tmp_path, "app/crlf.py", PLAIN.replace("\n", "\r\n").encode())
    assert_rewritten(cli, tmp_path, "app/crlf.py", FIXED.replace("\n", "\r\n").encode())


def test_mixed_line_endings_and_a_lone_cr_are_kept(cli, tmp_path):
    before = f"{IMPORT}\r\n\n\rX = 1\r\ndef build(user_context):\n    a = 1\r    return get_agent_instance_factory()\r\n\r"
    after = f"{NEW_IMPORT}\r\n\n\rX = 1\r\ndef build(user_context):\n    a = 1\r    return create_agent_instance_factory(user_context)\r\n\r"
    make(tmp_path, "app/mixed.py", before.encode())
    assert_rewritten(cli, tmp_path, "app/mixed.py", after.encode())


def test_tabs_are_kept(cli, tmp_path):
    before = PLAIN.replace("    ", "\t") + "\tx = 1  \t# trailing tab\n"
    make(tmp_path, "app/tabs.py", before.encode())
    assert_rewritten(cli, tmp_path, "app/tabs.py", (FIXED.replace("    ", "\t") + "\tx = 1  \t# trailing tab\n").encode())


def test_form_feeds_are_kept(cli, tmp_path):
    before = module(IMPORT, "\f", "\fX = 1", "", *FUNCTION, "\f")
    after = module(NEW_IMPORT, "\f", "\fX = 1", "", *NEW_FUNCTION, "\f")
    make(tmp_path, "app/pages.py", before.encode())
    assert_rewritten(cli, tmp_path, "app/pages.py", after.encode())


def test_binary_file_named_py_is_reported_and_kept(cli, tmp_path):
    data = b"\x00\xff\xfe\x89PNG\r\n\x1a\n" + IMPORT.encode() + b"\x00" * 64 + bytes(range(256))
    make(tmp_path, "app/image.py", data)
    assert_failed_and_kept(cli, tmp_path, "app/image.py", "cannot decode: ")


def test_null_byte_in_text_is_reported_and_kept(cli, tmp_path):
    make(tmp_path, "app/nul.py", (PLAIN + "X = 1\x00\n").encode())
    assert_failed_and_kept(cli, tmp_path, "app/nul.py", "null bytes")


def test_unreadable_file_is_reported_and_others_are_written(open_project):
    secret = open_project / "app" / "routes.py"
    secret.chmod(0o000)
    before = snapshot_readable(open_project)
    done = run_unprivileged("apply", "--phase", "2A", "--format", "json", cwd=open_project)
    secret.chmod(0o644)
    assert done.returncode == ExitCode.FINDINGS, done.stderr
    assert "Traceback" not in done.stderr
    assert (open_project / "app" / "other.py").read_bytes() != before["app/other.py"]
    assert secret.read_bytes() == before["app/routes.py"]


def snapshot_readable(root: Path) -> dict[str, bytes]:
    """Every file as root sees it: the test's own process may read what the run may not."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.py")}


def test_unreadable_folder_stops_the_run_with_exit_2(open_project):
    hidden = open_project / "app" / "hidden"
    make(open_project, "app/hidden/deep.py", PLAIN.encode())
    hidden.chmod(0o000)
    before = snapshot_readable(open_project)
    done = run_unprivileged("apply", "--phase", "2A", "--format", "json", cwd=open_project)
    hidden.chmod(0o755)
    assert done.returncode == ExitCode.USAGE
    assert_one_line_error(done.stderr, "cannot read folder app/hidden", "Permission denied", "exclude")
    assert snapshot_readable(open_project) == before


def test_unreadable_folder_that_is_excluded_is_not_read(open_project):
    make(open_project, "app/hidden/deep.py", PLAIN.encode())
    (open_project / "pyproject.toml").write_text('[tool.migrator]\nexclude = ["app/hidden/"]\n')
    (open_project / "app" / "hidden").chmod(0o000)
    done = run_unprivileged("apply", "--phase", "2A", "--format", "json", cwd=open_project)
    (open_project / "app" / "hidden").chmod(0o755)
    assert done.returncode == ExitCode.CLEAN, done.stderr
    assert sorted(json.loads(done.stdout)["changed_files"]) == ["app/other.py", "app/routes.py"]


def test_symlink_loop_is_not_followed(cli, tmp_path):
    make(tmp_path, "app/real.py", PLAIN.encode())
    os.symlink("../app", tmp_path / "app" / "loop")
    os.symlink("b.py", tmp_path / "app" / "a.py")
    os.symlink("a.py", tmp_path / "app" / "b.py")
    assert_rewritten(cli, tmp_path, "app/real.py", FIXED.encode())


def test_symlink_out_of_the_root_is_not_followed(cli, tmp_path):
    outside = tmp_path / "outside"
    make(outside, "theirs.py", PLAIN.encode())
    root = tmp_path / "proj"
    make(root, "app/mine.py", PLAIN.encode())
    os.symlink(outside / "theirs.py", root / "app" / "theirs.py")
    os.symlink(outside, root / "vendor")
    assert_rewritten(cli, root, "app/mine.py", FIXED.encode())
    assert (outside / "theirs.py").read_bytes() == PLAIN.encode()


def test_read_only_file_is_reported_and_kept(cli, tmp_path):
    path = make(tmp_path, "app/frozen.py", PLAIN.encode())
    path.chmod(0o444)
    assert_failed_and_kept(cli, tmp_path, "app/frozen.py", "read-only file")


def test_five_megabyte_file_is_rewritten(cli, tmp_path):
    payload = 'PAYLOAD = """\n' + ("0123456789abcdef" * 4 + "\n") * 80_000 + '"""\n'
    assert len(payload) > 5_000_000
    make(tmp_path, "app/big.py", (payload + PLAIN).encode())
    assert_rewritten(cli, tmp_path, "app/big.py", (payload + FIXED).encode())


def test_deep_nesting_within_the_parser_limits_is_rewritten(cli, tmp_path):
    blocks = "".join("    " * depth + f"if flag{depth}:\n" for depth in range(1, 60))
    nested = module(IMPORT, "", "", "def build(user_context):") + blocks + "    " * 60 + "return get_agent_instance_factory()\n"
    make(tmp_path, "app/deep.py", nested.encode())
    expected = nested.replace("get_agent_instance_factory()", "create_agent_instance_factory(user_context)")
    assert_rewritten(cli, tmp_path, "app/deep.py", expected.replace("import get_agent", "import create_agent").encode())


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("(" * 250 + "1" + ")" * 250, "too many nested parentheses"),
        ("1" + " + 1" * 5000, "nested too deeply for the parser"),
    ],
)
def test_nesting_beyond_the_parser_limits_is_reported_and_kept(cli, tmp_path, shape, reason):
    make(tmp_path, "app/deeper.py", (PLAIN + f"X = {shape}\n").encode())
    assert_failed_and_kept(cli, tmp_path, "app/deeper.py", reason)


def test_python_312_syntax_is_rewritten_or_names_the_python(cli, tmp_path):
    import sys

    source = module(IMPORT, "", "", "def build[T](user_context: T):", FUNCTION[1])
    make(tmp_path, "app/generic.py", source.encode())
    if sys.version_info >= (3, 12):
        expected = source.replace("import get_agent", "import create_agent").replace(
            "get_agent_instance_factory()", "create_agent_instance_factory(user_context)"
        )
        assert_rewritten(cli, tmp_path, "app/generic.py", expected.encode())
    else:
        assert_failed_and_kept(cli, tmp_path, "app/generic.py", "run migrator with Python 3.12 or newer")


def test_paths_with_spaces_and_non_ascii_are_rewritten(cli, tmp_path):
    relpath = "app/my modules/caf\u00e9 \u00fcber/r\u00e9sum\u00e9 \u65e5\u672c.py"
    make(tmp_path, relpath, PLAIN.encode())
    assert_rewritten(cli, tmp_path, relpath, FIXED.encode())
    result = cli("rollback", cwd=tmp_path)
    assert result.code == ExitCode.CLEAN
    assert (tmp_path / relpath).read_bytes() == PLAIN.encode()
