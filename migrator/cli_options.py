"""What each command accepts: its options and arguments, the formats they take, and the value checks."""

from __future__ import annotations

import argparse
import enum
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

E = TypeVar("E", bound=enum.Enum)


class ReportFormat(str, enum.Enum):
    table = "table"
    json = "json"
    sarif = "sarif"
    github = "github"


class ApplyFormat(str, enum.Enum):
    table = "table"
    json = "json"


class MergeFormat(str, enum.Enum):
    json = "json"
    sarif = "sarif"


def choice_of(kind: type[E]) -> Callable[[str], E]:
    """The value check of an option that takes one of an enum's values."""

    def convert(text: str) -> E:
        try:
            return kind(text)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)
            raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {allowed})") from None

    return convert


def metavar_of(kind: type[enum.Enum]) -> str:
    return "{" + ",".join(str(member.value) for member in kind) + "}"


def non_negative(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {number}")
    return number


def add_format(parser: argparse.ArgumentParser, kind: type[E], default: E | None, help: str | None = None) -> None:
    parser.add_argument(
        "-f", "--format", type=choice_of(kind), default=default, metavar=metavar_of(kind),
        help=help or f"The report's format (default: {default.value if default else 'none'}).",
    )


def add_output(parser: argparse.ArgumentParser, help: str = "Write the report to this file.", required: bool = False) -> None:
    parser.add_argument("-o", "--output", type=Path, required=required, metavar="FILE", help=help)


def add_phases(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p", "--phase", action="append", metavar="P", help="Phase id (2A), alias (production) or all; repeatable."
    )


def add_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j", "--jobs", type=non_negative, default=0, metavar="N", help="Worker processes (0, the default: one per core)."
    )


def add_no_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cache", action="store_true", help="Neither read nor update the result cache in .migrator/cache."
    )


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="Print only the report and errors: no status or warnings."
    )


def add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="Also print the root, configuration and files chosen."
    )


def add_shard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shard", metavar="K/N", help="Scan only shard K of N (a stable split by path).")


def add_file_choice(parser: argparse.ArgumentParser) -> None:
    """The two flags for hooks that pass file lists."""
    parser.add_argument(
        "--allow-no-files", action="store_true",
        help="Exit 0, not 2, when no file is left to scan (for hooks that pass file lists).",
    )
    parser.add_argument(
        "--force-exclude", action="store_true",
        help="Skip files named on the command line that 'exclude' or .gitignore exclude.",
    )


def add_rule_choice(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--select", action="append", dest="select_", metavar="IDS",
        help="Only these rules: IDs or prefixes (MIG001, MIG00, ALL), comma-separated; repeatable.",
    )
    parser.add_argument(
        "--ignore", action="append", metavar="IDS", help="Leave out these rules: IDs or prefixes, comma-separated; repeatable."
    )


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """What `scan` and `check` share after their own options: workers, cache, shard, rules
    and how much is said."""
    add_jobs(parser)
    add_no_cache(parser)
    add_shard(parser)
    add_rule_choice(parser)
    add_quiet(parser)
    add_verbose(parser)


def scan_arguments(parser: argparse.ArgumentParser) -> None:
    add_phases(parser)
    add_format(parser, ReportFormat, ReportFormat.table)
    add_output(parser)
    add_sweep_options(parser)


def check_arguments(parser: argparse.ArgumentParser) -> None:
    add_phases(parser)
    add_format(
        parser, ReportFormat, None, "The report's format (default: table, or github when GITHUB_ACTIONS=true)."
    )
    add_output(parser)
    parser.add_argument(
        "--baseline", type=Path, metavar="FILE",
        help="Tolerate the findings of this baseline (from `migrator baseline`).",
    )
    parser.add_argument(
        "--update-baseline", action="store_true", help="Remove the baseline's fixed findings from it (never adds any)."
    )
    parser.add_argument("--exit-zero", action="store_true", help="Exit 0 even when findings remain.")
    add_file_choice(parser)
    add_sweep_options(parser)


def apply_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p", "--phase", required=True, metavar="P", help="The phase to rewrite: 2A, 2B, 2C (or an alias, or all)."
    )
    parser.add_argument("--dry-run", action="store_true", help="Write nothing.")
    parser.add_argument("--diff", action="store_true", help="Print unified diffs of the rewrites.")
    parser.add_argument("-r", "--rule", action="append", metavar="ID", help="Only this rule's fixes; repeatable.")
    parser.add_argument("--allow-dirty", action="store_true", help="Rewrite files with uncommitted changes.")
    add_jobs(parser)
    add_format(parser, ApplyFormat, ApplyFormat.table)
    parser.add_argument(
        "-i", "--interactive", action="store_true", help="Show each file's diff and ask: yes, no, all remaining, quit."
    )
    add_file_choice(parser)
    add_rule_choice(parser)
    parser.add_argument("--unsafe-fixes", action="store_true", help="Also write the fixes marked unsafe.")
    add_no_cache(parser)
    add_quiet(parser)
    add_verbose(parser)


def rollback_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", nargs="?", metavar="RUN_ID", help="The run to undo (default: the latest).")
    parser.add_argument("--force", action="store_true", help="Restore files even if they changed since the run.")
    parser.add_argument(
        "--path", type=Path, default=Path("."), metavar="DIR", help="A folder inside the project (default: the current folder)."
    )


def explain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule_id", metavar="RULE_ID", help="A rule ID, e.g. MIG001.")


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """A command without options or arguments (beyond -h)."""


def baseline_arguments(parser: argparse.ArgumentParser) -> None:
    add_phases(parser)
    add_output(parser, "The baseline file to write.", required=True)
    add_jobs(parser)
    add_no_cache(parser)
    add_quiet(parser)
    add_verbose(parser)


def merge_reports_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reports", nargs="+", type=Path, metavar="REPORT", help="JSON reports (--format json) of the shards of one project."
    )
    add_format(parser, MergeFormat, MergeFormat.json)
    add_output(parser, "Write the merged report to this file.")
    parser.add_argument("--exit-zero", action="store_true", help="Exit 0 even when findings remain.")
    add_quiet(parser)
