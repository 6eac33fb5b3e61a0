"""The command line: a thin layer that parses flags, runs the session and renders results."""

from __future__ import annotations

import contextlib
import enum
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TextIO

import typer

from migrator import report
from migrator.config import load_config
from migrator.exit_codes import ExitCode, UsageError
from migrator.progress import ProgressBar
from migrator.results import RunResult, Status
from migrator.rules import select
from migrator.session import Session, project_rules

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    name="migrator",
    help="Find and rewrite the singleton agent-registry patterns, phase by phase.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class ReportFormat(str, enum.Enum):
    table = "table"
    json = "json"
    sarif = "sarif"
    github = "github"


class ApplyFormat(str, enum.Enum):
    table = "table"
    json = "json"


PathsArg = typer.Argument(None, help="Files or folders to work on (default: the current folder).")
PhaseOpt = typer.Option(None, "--phase", "-p", help="Phase id (2A), alias (production) or all; repeatable.")
JobsOpt = typer.Option(0, "--jobs", "-j", help="Worker processes (0: one per core).", min=0)
NoCacheOpt = typer.Option(False, "--no-cache", help="Neither read nor update the result cache in .migrator/cache.")


def _console(stream: TextIO | None = None, width: int | None = None) -> Console:
    """A Rich console for the table reports; Rich is imported only when one is drawn."""
    from rich.console import Console

    return Console(file=stream if stream is not None else sys.stdout, soft_wrap=True, width=width)


def _say(text: str) -> None:
    """A plain line on stderr (status, summaries, errors)."""
    sys.stderr.write(text + "\n")


def _print(text: str) -> None:
    """A plain line on stdout."""
    sys.stdout.write(text + "\n")


def _emit(text: str, output: Optional[Path]) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def exit_code(command: str, result: RunResult, baseline_left: int | None = None) -> ExitCode:
    """The one place that maps a run's result to the process exit code."""
    if command == "scan":
        return ExitCode.CLEAN
    if command == "check":
        remaining = len(result.findings) if baseline_left is None else baseline_left
        return ExitCode.FINDINGS if remaining or result.errors else ExitCode.CLEAN
    manual = [f for f in result.findings if not f.fixable]
    return ExitCode.FINDINGS if manual or result.errors else ExitCode.CLEAN


def _report(result: RunResult, session: Session, fmt: ReportFormat, output: Optional[Path], findings_list: bool) -> None:
    if fmt is ReportFormat.json:
        _emit(report.render_json(result), output)
    elif fmt is ReportFormat.sarif:
        _emit(report.render_sarif(result, session.rules), output)
    elif fmt is ReportFormat.github:
        _emit(report.render_github(result), output)
    else:
        with contextlib.ExitStack() as stack:
            stream = None if output is None else stack.enter_context(output.open("w", encoding="utf-8"))
            _print_table(_console(stream, width=None if output is None else 200), result, session, findings_list)


def _print_table(console: Console, result: RunResult, session: Session, findings_list: bool) -> None:
    from migrator.report.table import print_counts, print_errors, print_findings

    if findings_list:
        print_findings(console, result.findings)
    print_counts(console, result, session.rules)
    print_errors(console, result)


def _status_line(result: RunResult) -> None:
    summary = result.summary()
    _say(
        f"{summary['files_scanned']} file(s) scanned, {summary['findings']} finding(s) "
        f"in {summary['files_with_findings']} file(s), {len(result.errors)} error(s)"
    )


@app.command()
def scan(
    paths: Optional[list[Path]] = PathsArg,
    phase: Optional[list[str]] = PhaseOpt,
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    jobs: int = JobsOpt,
    no_cache: bool = NoCacheOpt,
) -> None:
    """Count every deprecated use, by phase, rule and file."""
    session = Session.open(paths or [], phase or [])
    with ProgressBar("scanning") as progress:
        result = session.run(jobs=jobs, use_cache=not no_cache, progress=progress)
    _report(result, session, format, output, findings_list=False)
    _status_line(result)
    raise typer.Exit(exit_code("scan", result))


@app.command()
def check(
    paths: Optional[list[Path]] = PathsArg,
    phase: Optional[list[str]] = PhaseOpt,
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f"),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="A JSON report of findings to tolerate."),
    jobs: int = JobsOpt,
    no_cache: bool = NoCacheOpt,
) -> None:
    """Fail (exit 1) while deprecated uses remain; the CI gate."""
    session = Session.open(paths or [], phase or [])
    with ProgressBar("checking") as progress:
        result = session.run(jobs=jobs, use_cache=not no_cache, progress=progress)
    left = None
    if baseline is not None:
        result, left = _apply_baseline(result, baseline)
    _report(result, session, format, None, findings_list=True)
    _status_line(result)
    raise typer.Exit(exit_code("check", result, left))


def _apply_baseline(result: RunResult, baseline: Path) -> tuple[RunResult, int]:
    """Tolerate up to as many findings per (rule, file) as the baseline report holds."""
    try:
        data = json.loads(baseline.read_text(encoding="utf-8"))
        allowed = Counter((item["rule"], item["path"]) for item in data["findings"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{baseline}: not a migrator JSON report: {error}") from None
    new = []
    for finding in result.findings:
        key = (finding.rule, finding.path)
        if allowed[key] > 0:
            allowed[key] -= 1
        else:
            new.append(finding)
    _say(f"{len(result.findings) - len(new)} finding(s) tolerated by the baseline {baseline}")
    return result, len(new)


@app.command()
def apply(
    paths: Optional[list[Path]] = PathsArg,
    phase: str = typer.Option(..., "--phase", "-p", help="The phase to rewrite: 2A, 2B, 2C (or an alias, or all)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write nothing."),
    diff: bool = typer.Option(False, "--diff", help="Print unified diffs of the rewrites."),
    rule: Optional[list[str]] = typer.Option(None, "--rule", "-r", help="Only this rule's fixes; repeatable."),
    allow_dirty: bool = typer.Option(False, "--allow-dirty", help="Rewrite files with uncommitted changes."),
    jobs: int = JobsOpt,
    format: ApplyFormat = typer.Option(ApplyFormat.table, "--format", "-f"),
) -> None:
    """Rewrite the files of one phase, journaled so that `rollback` can undo it."""
    session = Session.open(paths or [], [phase], rule or [])
    with ProgressBar("rewriting") as progress:
        result = session.run(fix=True, want_diff=diff, jobs=jobs, progress=progress)
    run_id = None
    if not dry_run:
        from migrator.writing import write_changes

        result, run_id = write_changes(session.config.root, result, [phase], allow_dirty)
    changed = [r.path for r in result.changed]
    fixed = sum(1 for r in result.changed for f in r.findings if f.fixable)
    manual = [f for f in result.findings if not f.fixable]
    if diff:
        sys.stdout.write("".join(r.diff or "" for r in result.files if r.status is Status.CHANGED))
    if format is ApplyFormat.json:
        extra = {"changed_files": changed, "fixed": fixed, "manual": len(manual), "run_id": run_id}
        sys.stdout.write(report.render_json(result, extra))
    elif not diff:
        from migrator.report.table import print_errors, print_findings

        console = _console()
        print_findings(console, manual)
        print_errors(console, result)
    verb = "would rewrite" if dry_run else "rewrote"
    _say(
        f"{verb} {len(changed)} file(s), {fixed} fix(es); {len(manual)} finding(s) need manual review; "
        f"{len(result.errors)} error(s)" + (f"; run {run_id} (undo: migrator rollback {run_id})" if run_id else "")
    )
    raise typer.Exit(exit_code("apply", result))


@app.command(name="rollback")
def rollback_command(
    run_id: Optional[str] = typer.Argument(None, help="The run to undo (default: the latest)."),
    force: bool = typer.Option(False, "--force", help="Restore files even if they changed since the run."),
    path: Path = typer.Option(Path("."), "--path", help="A folder inside the project."),
) -> None:
    """Restore the original bytes of every file an apply run rewrote."""
    from migrator.writing import rollback

    undone = rollback(load_config(path).root, run_id, force)
    for restored in undone.restored:
        _print(restored)
    _say(f"restored {len(undone.restored)} file(s) from run {undone.run_id}")
    raise typer.Exit(ExitCode.CLEAN)


@app.command(name="rules")
def rules_command() -> None:
    """List the rules."""
    for rule in project_rules(load_config(Path("."))):
        fix = "fix" if rule.fixable else "detect"
        _print(f"{rule.id}  {rule.name:<28} {fix:<6} {','.join(sorted(rule.phases)):<9} {rule.summary}")


@app.command()
def explain(rule_id: str = typer.Argument(..., help="A rule ID, e.g. MIG001.")) -> None:
    """Print one rule's documentation."""
    (rule,) = select(project_rules(load_config(Path("."))), [rule_id])
    fix = "automatic fix" if rule.fixable else "detect only (manual review)"
    text = (
        f"{rule.id} {rule.name}: {rule.summary}\n"
        f"phases: {', '.join(sorted(rule.phases))}; {fix}\n\n"
        f"What it finds\n{rule.docs.what}\n\n"
        f"Why it is a problem\n{rule.docs.why}\n\n"
        f"Before\n{rule.docs.before}\n\n"
        f"After\n{rule.docs.after}\n"
    )
    if rule.guidance:
        text += f"\nHow it is fixed\n{rule.guidance}\n"
    _print(text)


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: run the app and turn refusals into exit code 2 with a message."""
    try:
        app(args=argv, prog_name="migrator", standalone_mode=True)
    except UsageError as error:
        _say(f"migrator: error: {error}")
        sys.exit(ExitCode.USAGE)
    except OSError as error:
        # The file system refused something the run needs (a folder, the journal, an output
        # file): a one-line reason and the usage code, never a traceback or "findings remain".
        where = f": {error.filename}" if error.filename else ""
        _say(f"migrator: error: {error.strerror or error}{where}")
        sys.exit(ExitCode.USAGE)


if __name__ == "__main__":
    main()
