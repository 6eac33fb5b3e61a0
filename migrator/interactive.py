"""`apply --interactive`: show each file's diff and ask whether to write it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import MappingProxyType

import msgspec

from migrator.exit_codes import UsageError
from migrator.results import RunResult, Status

PROMPT = "[{index}/{total}] apply to {path}? [y]es, [n]o, [a]ll remaining, [q]uit: "
ANSWERS = MappingProxyType(
    {"y": "yes", "yes": "yes", "n": "no", "no": "no", "a": "all", "all": "all", "q": "quit", "quit": "quit"}
)


class Review(msgspec.Struct, frozen=True):
    """The run narrowed to the files accepted, and how many were offered."""

    result: RunResult
    accepted: int
    offered: int
    quit: bool


def require_terminal() -> None:
    if not sys.stdin.isatty():
        raise UsageError("--interactive needs a terminal on standard input")


def review(result: RunResult, ask: Callable[[str], str | None], show: Callable[[str], None]) -> Review:
    """Offer every changed file in turn. `ask` returns the answer, or None at end of input (taken
    as quit). Declined and unreached files are left as they are, their findings still reported."""
    changed = result.changed
    decided: dict[str, bool] = {}
    accept_rest = stopped = False
    for index, item in enumerate(changed, 1):
        if stopped:
            decided[item.path] = False
            continue
        if accept_rest:
            decided[item.path] = True
            continue
        show(item.diff or "")
        answer = _ask(ask, PROMPT.format(index=index, total=len(changed), path=item.path))
        decided[item.path] = answer in ("yes", "all")
        accept_rest = answer == "all"
        stopped = answer == "quit"
    files = tuple(
        msgspec.structs.replace(r, status=Status.UNCHANGED, rewritten=None, diff=None)
        if r.status is Status.CHANGED and not decided.get(r.path, False)
        else r
        for r in result.files
    )
    return Review(RunResult(files), sum(decided.values()), len(changed), stopped)


def _ask(ask: Callable[[str], str | None], prompt: str) -> str:
    while True:
        reply = ask(prompt)
        if reply is None:
            return "quit"
        answer = ANSWERS.get(reply.strip().lower())
        if answer is not None:
            return answer
        prompt = "please answer y, n, a or q: "


def ask_terminal(prompt: str) -> str | None:
    """Prompt on stderr and read a line from standard input; None at end of input."""
    sys.stdout.flush()
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line if line else None
