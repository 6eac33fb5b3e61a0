"""Options shared by several commands, and the report formats they take."""

from __future__ import annotations

import enum

import typer


class ReportFormat(str, enum.Enum):
    table = "table"
    json = "json"
    sarif = "sarif"
    github = "github"


PathsArg = typer.Argument(None, help="Files or folders to work on (default: the current folder).")
PhaseOpt = typer.Option(None, "--phase", "-p", help="Phase id (2A), alias (production) or all; repeatable.")
JobsOpt = typer.Option(0, "--jobs", "-j", help="Worker processes (0: one per core).", min=0)
NoCacheOpt = typer.Option(False, "--no-cache", help="Neither read nor update the result cache in .migrator/cache.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print only the report and errors: no status or warnings.")
VerboseOpt = typer.Option(False, "--verbose", "-v", help="Also print the root, configuration and files chosen.")
ShardOpt = typer.Option(None, "--shard", metavar="K/N", help="Scan only shard K of N (a stable split by path).")
AllowNoFilesOpt = typer.Option(
    False, "--allow-no-files", help="Exit 0, not 2, when no file is left to scan (for hooks that pass file lists)."
)
ForceExcludeOpt = typer.Option(
    False, "--force-exclude", help="Skip files named on the command line that 'exclude' or .gitignore exclude."
)
SelectOpt = typer.Option(
    None, "--select", help="Only these rules: IDs or prefixes (MIG001, MIG00, ALL), comma-separated; repeatable."
)
IgnoreOpt = typer.Option(None, "--ignore", help="Leave out these rules: IDs or prefixes, comma-separated; repeatable.")
UnsafeFixesOpt = typer.Option(False, "--unsafe-fixes", help="Also write the fixes marked unsafe.")
