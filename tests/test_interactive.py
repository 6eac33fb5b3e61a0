"""`apply --interactive` through a real pseudo-terminal: yes, no, all, quit, one journaled run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from migrator.exit_codes import ExitCode
from tests.conftest import FACTORY, snapshot, write

ROOT = Path(__file__).resolve().parent.parent
PROMPT = r"apply to (\S+)\? \[y\]es, \[n\]o, \[a\]ll remaining, \[q\]uit: "
HANDLER = f"""
    from {FACTORY} import get_agent_instance_factory


    async def handle(user_id, thread_id, run_id):
        return get_agent_instance_factory()
"""


@pytest.fixture
def three(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write(root, {"pyproject.toml": "[tool.migrator]\n", **{f"app/{name}.py": HANDLER for name in "abc"}})
    return root


def spawn(root: Path, *extra: str) -> pexpect.spawn:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "migrator", "apply", "--phase", "all", "--interactive", *extra],
        cwd=str(root),
        env=env,
        encoding="utf-8",
        timeout=60,
    )


def answer(child: pexpect.spawn, replies: list[str]) -> list[str]:
    """Answer each prompt in turn; return the files asked about."""
    asked = []
    for reply in replies:
        child.expect(PROMPT)
        asked.append(child.match.group(1))
        child.sendline(reply)
    child.expect(pexpect.EOF)
    child.close()
    return asked


def runs(root: Path) -> list[Path]:
    folder = root / ".migrator" / "runs"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_yes_no_quit_writes_only_what_was_accepted_as_one_run(three):
    before = snapshot(three)
    child = spawn(three)
    child.expect(r"\+\+\+ b/app/a\.py")
    asked = answer(child, ["y", "n", "q"])
    assert asked == ["app/a.py", "app/b.py", "app/c.py"]
    assert child.exitstatus == ExitCode.CLEAN
    after = snapshot(three)
    assert after["app/a.py"] != before["app/a.py"] and b"create_agent_instance_factory" in after["app/a.py"]
    assert after["app/b.py"] == before["app/b.py"] and after["app/c.py"] == before["app/c.py"]
    assert len(runs(three)) == 1
    undo = pexpect.spawn(sys.executable, ["-m", "migrator", "rollback"], cwd=str(three),
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, encoding="utf-8", timeout=60)
    undo.expect(pexpect.EOF)
    undo.close()
    assert undo.exitstatus == 0 and snapshot(three) == before


def test_all_accepts_the_rest_without_asking(three):
    before = snapshot(three)
    child = spawn(three)
    assert answer(child, ["n", "a"]) == ["app/a.py", "app/b.py"]
    after = snapshot(three)
    assert after["app/a.py"] == before["app/a.py"]
    assert after["app/b.py"] != before["app/b.py"] and after["app/c.py"] != before["app/c.py"]
    assert len(runs(three)) == 1


def test_an_unknown_answer_asks_again(three):
    child = spawn(three)
    child.expect(PROMPT)
    child.sendline("maybe")
    child.expect("please answer y, n, a or q: ")
    child.sendline("yes")
    answer(child, ["q"])
    assert b"create_agent_instance_factory" in (three / "app" / "a.py").read_bytes()
    assert b"create_agent_instance_factory" not in (three / "app" / "b.py").read_bytes()


def test_end_of_input_quits_and_writes_nothing(three):
    before = snapshot(three)
    child = spawn(three)
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.CLEAN
    assert snapshot(three) == before and runs(three) == []


def test_without_a_terminal_it_refuses(cli, three):
    result = cli("apply", "--phase", "all", "--interactive", cwd=three)
    assert result.code == ExitCode.USAGE and "needs a terminal" in result.err
    assert cli("apply", "--phase", "all", "--interactive", "--dry-run", cwd=three).code == ExitCode.USAGE
