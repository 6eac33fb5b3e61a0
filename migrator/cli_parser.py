"""From the command line to one command and its keyword arguments, with argparse.

A run builds only the parser of the command it names. The whole tree of parsers is built
only to print the top-level help or to refuse a command line that names no command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec

PROG = "migrator"


class Command(msgspec.Struct, frozen=True):
    """One subcommand: its name, the function that runs it (keyword arguments named after the
    options' destinations, returning the exit code), what declares its options, and whether
    it takes files or folders (`paths`), which may come anywhere on the line."""

    name: str
    run: Callable[..., int]
    arguments: Callable[[argparse.ArgumentParser], None]
    takes_paths: bool = False

    @property
    def description(self) -> str:
        return (self.run.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.description.split("\n", 1)[0]


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    # No abbreviations: `--diff` must never be taken for a prefix of some later option.
    return argparse.ArgumentParser(prog=prog, description=description, allow_abbrev=False, add_help=False)


def _declare(parser: argparse.ArgumentParser, command: Command) -> argparse.ArgumentParser:
    parser.add_argument("-h", "--help", action="help", help="Show this message and exit.")
    if command.takes_paths:
        parser.add_argument(
            "paths", nargs="*", type=Path, metavar="PATH", help="Files or folders to work on (default: the current folder)."
        )
    command.arguments(parser)
    return parser


def command_parser(command: Command) -> argparse.ArgumentParser:
    return _declare(_parser(f"{PROG} {command.name}", command.description), command)


def top_parser(commands: Sequence[Command], description: str, version: str) -> argparse.ArgumentParser:
    parser = _parser(PROG, description)
    parser.add_argument("-h", "--help", action="help", help="Show this message and exit.")
    parser.add_argument("--version", action="version", version=f"{PROG} {version}", help="Print the version and exit.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="commands")
    for command in commands:
        child = sub.add_parser(
            command.name, help=command.summary, description=command.description, allow_abbrev=False, add_help=False
        )
        _declare(child, command)
    parser.epilog = f"`{PROG} COMMAND -h` lists a command's options."
    return parser


def parse(
    commands: Sequence[Command], argv: Sequence[str], description: str, version: str
) -> tuple[Command, dict[str, Any]]:
    """The command named first in `argv` and its arguments. Help, `--version` and bad command
    lines end the process here, as argparse does: 0 for help and version, 2 for a bad line."""
    by_name = {command.name: command for command in commands}
    if argv and argv[0] in by_name:
        command = by_name[argv[0]]
        return command, vars(_parse_command(command, list(argv[1:])))
    top = top_parser(commands, description, version)
    if not argv:
        top.print_help(sys.stderr)
        raise SystemExit(2)
    if argv[0] in ("-h", "--help", "--version") or not argv[0].startswith("-"):
        top.parse_args(list(argv))  # exits: 0 for help and version, 2 for an unknown command
    top.error(f"unrecognized arguments: {argv[0]} (the command comes first: migrator COMMAND [ARGS]...)")


def _parse_command(command: Command, args: list[str]) -> argparse.Namespace:
    """A command's line. Paths may come between options (`scan app --phase 2A tests`), and
    everything after `--` is a path, even `-o.py`. argparse's own intermixed parsing is not
    used: before Python 3.12 it reads an option out of a path after `--`."""
    parser = command_parser(command)
    if not command.takes_paths:
        return parser.parse_args(args)
    head, tail = args, []
    if "--" in args:
        cut = args.index("--")
        head, tail = args[:cut], args[cut + 1 :]
    namespace, extras = parser.parse_known_args(head)
    unknown = [arg for arg in extras if arg.startswith("-")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    namespace.paths = [*(namespace.paths or []), *(Path(arg) for arg in [*extras, *tail])]
    return namespace
