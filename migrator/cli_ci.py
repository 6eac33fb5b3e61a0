"""The commands that exist for CI pipelines: `baseline` and `merge-reports`."""

from __future__ import annotations

from pathlib import Path

from migrator import gate, report
from migrator.cli_options import MergeFormat
from migrator.cli_report import emit
from migrator.config import load_config
from migrator.exit_codes import ExitCode
from migrator.output_file import write_text
from migrator.progress import ProgressBar
from migrator.report.data import ReportData
from migrator.session import project_rules
from migrator.terminal import Messages


def baseline(
    paths: list[Path], phase: list[str] | None, output: Path, jobs: int, no_cache: bool, quiet: bool, verbose: bool
) -> ExitCode:
    """Record today's findings, so that `check --baseline FILE` fails only on new ones."""
    from migrator import baseline as baselines

    messages = Messages.from_flags(quiet, verbose)
    session = gate.open_session(paths, phase or [], None, messages, stats=not no_cache)
    with ProgressBar("scanning") as progress:
        result = session.run(jobs=jobs, use_cache=not no_cache, progress=progress)
    findings = result.findings
    prints = baselines.fingerprints(session.config.root, findings)
    write_text(output, baselines.render(baselines.entries_for(findings, prints)))
    gate.warn_about_config(session, result, messages)
    messages.status(f"wrote {len(findings)} finding(s) of {len(session.files)} file(s) to the baseline {output}")
    return ExitCode.CLEAN


def merge_reports(
    reports: list[Path], format: MergeFormat, output: Path | None, exit_zero: bool, quiet: bool
) -> ExitCode:
    """Combine the JSON reports of `--shard` runs into one report; exits like `check`."""
    from migrator.merge import merge
    from migrator.repository import path_prefix
    from migrator.results import FileError

    messages = Messages.from_flags(quiet, False)
    merged = merge(reports)
    # The reports' paths are relative to the project root: run from inside the project, the
    # SARIF gets the same repository-relative paths a direct run would give.
    config = load_config(Path("."))
    data = ReportData(
        merged.findings,
        tuple(FileError(e["path"], e["message"]) for e in merged.errors),
        merged.summary(),
        fingerprints=merged.fingerprints,
        safety=merged.safety,
        path_prefix=path_prefix(config.root) if format is MergeFormat.sarif else "",
    )
    if format is MergeFormat.sarif:
        emit(report.render_sarif(data, project_rules(config)), output)
    else:
        emit(report.render_json(data), output)
    messages.status(
        f"merged {len(reports)} report(s): {merged.files_scanned} file(s) scanned, "
        f"{len(merged.findings)} finding(s), {len(merged.errors)} error(s)"
    )
    failed = (merged.findings or merged.errors) and not exit_zero
    return ExitCode.FINDINGS if failed else ExitCode.CLEAN
