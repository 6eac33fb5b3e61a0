"""A file written for a newer Python than the one running says so, and names the Python to run with."""

from __future__ import annotations

import sys

import pytest

from migrator.exit_codes import ExitCode
from migrator.newer_python import newer_python_for, newer_python_hint
from migrator.results import Status
from tests.conftest import FACTORY, snapshot, write
from tests.helpers import run_text

IMPORT = f"from {FACTORY} import get_agent_instance_factory\n"
CALL = "    return get_agent_instance_factory()\n"
RUNNING = sys.version_info[:2]

NEWER = {
    "type_statement": ((3, 12), IMPORT + "type Ids = list[int]\n\ndef build(user_context):\n" + CALL),
    "type_parameters": ((3, 12), IMPORT + "def build[T](user_context: T) -> T:\n" + CALL),
    "generic_class": ((3, 12), IMPORT + "class Box[T]:\n    def build(self, user_context):\n    " + CALL),
    "fstring_quotes": ((3, 12), IMPORT + "def build(user_context):\n    names = {'a': 1}\n    print(f\"{names[\"a\"]}\")\n" + CALL),
    "fstring_backslash": ((3, 12), IMPORT + "def build(user_context):\n    print(f\"{'\\n'.join(['a'])}\")\n" + CALL),
    "type_parameter_default": ((3, 13), IMPORT + "def build[T = int](user_context: T):\n" + CALL),
}


@pytest.mark.parametrize("name", NEWER)
def test_file_in_newer_syntax_names_the_python_or_is_rewritten(name):
    needed, source = NEWER[name]
    result = run_text(source)
    if RUNNING >= needed:
        assert result.status is Status.CHANGED, result.message
        assert b"create_agent_instance_factory(user_context)" in result.rewritten
    else:
        assert result.status is Status.FAILED
        assert result.message.startswith("cannot parse: line ")
        assert f"this is Python {needed[0]}.{needed[1]} syntax" in result.message
        assert f"run migrator with Python {needed[0]}.{needed[1]} or newer" in result.message


@pytest.mark.parametrize("name", NEWER)
def test_names_the_oldest_python_that_parses_it(name):
    needed, source = NEWER[name]
    error = SyntaxError("f-string: expecting '}'" if name.startswith("fstring") else "invalid syntax")
    found = newer_python_for(source, error, running=(3, 11))
    assert found is not None and found[0] == f"{needed[0]}.{needed[1]}"
    assert newer_python_for(source, error, running=needed) is None


def test_real_syntax_error_gets_no_hint():
    source = IMPORT + "def build(user_context:\n" + CALL
    assert newer_python_hint(source, SyntaxError("'(' was never closed"), running=(3, 11)) == ""
    result = run_text(source)
    assert result.status is Status.FAILED
    assert "Python 3." not in result.message


def test_fstring_error_in_old_syntax_is_not_blamed_on_newer_python():
    source = "x = f'{'\n"
    assert newer_python_for(source, SyntaxError("f-string: expecting '}'"), running=(3, 11)) is None


def test_apply_reports_the_newer_file_and_rewrites_the_others(cli, tmp_path):
    needed, newer = NEWER["type_parameter_default"]
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/newer.py": newer,
            "app/older.py": IMPORT + "\n\ndef build(user_context):\n" + CALL,
        },
    )
    before = snapshot(tmp_path)
    result = cli("apply", "--phase", "2A", "--format", "json", cwd=tmp_path)
    doc = result.json()
    if RUNNING >= needed:
        assert result.code == ExitCode.CLEAN
        assert sorted(doc["changed_files"]) == ["app/newer.py", "app/older.py"]
    else:
        assert result.code == ExitCode.FINDINGS
        assert doc["changed_files"] == ["app/older.py"]
        (error,) = doc["errors"]
        assert error["path"] == "app/newer.py" and "run migrator with Python 3.13 or newer" in error["message"]
        assert snapshot(tmp_path)["app/newer.py"] == before["app/newer.py"]
