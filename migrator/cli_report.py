"""How `scan` and `check` run the rules for a report and render it, in each format."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from migrator import gate, report
from migrator.cli_options import ReportFormat
from migrator.output_file import write_text
from migrator.progress import ProgressBar
from migrator.results import RunResult
from migrator.session import Session
from migrator.terminal import Messages, console

if TYPE_CHECKING:
    from rich.console import Console


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        write_text(output, text)


def check_format(given: ReportFormat | None) -> ReportFormat:
    """The format asked for; under GitHub Actions, annotations by default."""
    if given is not None:
        return given
    return ReportFormat.github if os.environ.get("GITHUB_ACTIONS") == "true" else ReportFormat.table


def uses_cache(fmt: ReportFormat, no_cache: bool) -> bool:
    """Whether a `scan` or `check` run reads and writes the cache and the file index: not with
    `--no-cache`, nor for SARIF, whose run rewrites (see `run_for_report`)."""
    return not no_cache and fmt is not ReportFormat.sarif


def run_for_report(session: Session, fmt: ReportFormat, jobs: int, no_cache: bool, label: str) -> tuple[RunResult, RunResult | None]:
    """Run the rules; SARIF carries each fix's edits (unsafe ones too, marked so), so for it the
    rewrite runs too (nothing is written). Returns the result and, for SARIF, the run that holds
    the rewrites."""
    fixing = fmt is ReportFormat.sarif
    with ProgressBar(label) as progress:
        result = session.run(
            fix=fixing, jobs=jobs, use_cache=uses_cache(fmt, no_cache), progress=progress, unsafe_fixes=fixing
        )
    return result, result if fixing else None


def plain(session: Session, result: RunResult, fmt: ReportFormat) -> gate.Gate:
    """The run as reported without a baseline; JSON and SARIF carry fingerprints."""
    from migrator.baseline import fingerprints

    wanted = fmt in (ReportFormat.json, ReportFormat.sarif)
    return gate.Gate(result, tuple(fingerprints(session.config.root, result.findings)) if wanted else ())


def render(
    checked: gate.Gate,
    session: Session,
    fmt: ReportFormat,
    output: Path | None,
    findings_list: bool,
    fixes_from: RunResult | None = None,
) -> None:
    if fmt is ReportFormat.json:
        emit(report.render_json(checked.report_data(session)), output)
    elif fmt is ReportFormat.sarif:
        emit(report.render_sarif(checked.report_data(session, fixes_from, repository_paths=True), session.rules), output)
    elif fmt is ReportFormat.github:
        emit(report.render_github(checked.report_data(session, repository_paths=True)), output)
    elif output is None:
        _print_table(console(), checked.result, session, findings_list)
    else:
        buffer = io.StringIO()
        _print_table(console(buffer, width=200), checked.result, session, findings_list)
        write_text(output, buffer.getvalue())


def _print_table(table_console: Console, result: RunResult, session: Session, findings_list: bool) -> None:
    from migrator.report.table import print_counts, print_errors, print_findings

    if findings_list:
        print_findings(table_console, result.findings)
    print_counts(table_console, result, session.rules)
    print_errors(table_console, result)


def status_line(checked: gate.Gate, messages: Messages) -> None:
    summary = checked.result.summary()
    tolerated = f"; {checked.tolerated} tolerated by the baseline" if checked.tolerated else ""
    messages.status(
        f"{summary['files_scanned']} file(s) scanned, {summary['findings']} finding(s) "
        f"in {summary['files_with_findings']} file(s), {len(checked.result.errors)} error(s){tolerated}"
        + (f", {checked.result.suppressed} suppressed inline" if checked.result.suppressed else "")
    )
