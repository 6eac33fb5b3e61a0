"""The command line: a thin layer that parses flags, runs the session and renders results."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import migrator
from migrator import batch, cli_ci, cli_options, cli_report, gate, report
from migrator.cli_options import ApplyFormat, ReportFormat
from migrator.cli_parser import Command, parse
from migrator.config import load_config
from migrator.exit_codes import ExitCode, UsageError
from migrator.progress import ProgressBar
from migrator.report.data import ReportData
from migrator.results import Finding, RunResult, Status
from migrator.rules import Rule, select
from migrator.session import project_rules
from migrator.terminal import Messages, console

DESCRIPTION = "Find and rewrite the singleton agent-registry patterns, phase by phase."


def _say(text: str) -> None:
    """A plain line on stderr (status, summaries, errors)."""
    sys.stderr.write(text + "\n")


def _print(text: str) -> None:
    """A plain line on stdout."""
    sys.stdout.write(text + "\n")


def exit_code(command: str, result: RunResult, exit_zero: bool = False, unsafe_fixes: bool = False) -> ExitCode:
    """The one place that maps a run's result to the process exit code (`result` holds only the
    findings that count: for `check --baseline`, those not in the baseline)."""
    if command == "scan" or exit_zero:
        return ExitCode.CLEAN
    if command == "check":
        return ExitCode.FINDINGS if result.findings or result.errors else ExitCode.CLEAN
    return ExitCode.FINDINGS if left_after_apply(result.findings, unsafe_fixes) or result.errors else ExitCode.CLEAN


def left_after_apply(findings: Sequence[Finding], unsafe_fixes: bool) -> list[Finding]:
    """What an apply leaves: findings without a fix, and unsafe fixes unless they were asked for."""
    return [f for f in findings if not f.fixable or (f.unsafe and not unsafe_fixes)]


def scan(
    paths: list[Path],
    phase: list[str] | None,
    format: ReportFormat,
    output: Path | None,
    jobs: int,
    no_cache: bool,
    shard: str | None,
    select_: list[str] | None,
    ignore: list[str] | None,
    quiet: bool,
    verbose: bool,
) -> ExitCode:
    """Count every deprecated use, by phase, rule and file."""
    messages = Messages.from_flags(quiet, verbose)
    session = gate.open_session(
        paths, phase or [], shard, messages, select=select_ or [], ignore=ignore or [],
        stats=cli_report.uses_cache(format, no_cache),
    )
    result, fixed_run = cli_report.run_for_report(session, format, jobs, no_cache, "scanning")
    checked = cli_report.plain(session, result, format)
    cli_report.render(checked, session, format, output, findings_list=False, fixes_from=fixed_run)
    gate.warn_about_config(session, result, messages)
    cli_report.status_line(checked, messages)
    return exit_code("scan", result)


def check(
    paths: list[Path],
    phase: list[str] | None,
    format: ReportFormat | None,
    output: Path | None,
    baseline: Path | None,
    update_baseline: bool,
    exit_zero: bool,
    allow_no_files: bool,
    force_exclude: bool,
    jobs: int,
    no_cache: bool,
    shard: str | None,
    select_: list[str] | None,
    ignore: list[str] | None,
    quiet: bool,
    verbose: bool,
) -> ExitCode:
    """Fail (exit 1) while deprecated uses remain; the CI gate."""
    messages = Messages.from_flags(quiet, verbose)
    if update_baseline and baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE")
    fmt = cli_report.check_format(format)
    session = gate.open_session(
        paths, phase or [], shard, messages, allow_no_files=allow_no_files, force_exclude=force_exclude,
        select=select_ or [], ignore=ignore or [], stats=cli_report.uses_cache(fmt, no_cache),
    )
    result, fixed_run = cli_report.run_for_report(session, fmt, jobs, no_cache, "checking")
    if baseline is not None:
        checked = gate.apply_baseline(session, result, baseline, update_baseline, messages)
    else:
        checked = cli_report.plain(session, result, fmt)
    cli_report.render(checked, session, fmt, output, findings_list=True, fixes_from=fixed_run)
    gate.warn_about_config(session, result, messages)
    cli_report.status_line(checked, messages)
    if exit_zero and exit_code("check", checked.result) is ExitCode.FINDINGS:
        messages.detail("--exit-zero: exiting 0 although findings remain")
    return exit_code("check", checked.result, exit_zero)


def apply(
    paths: list[Path],
    phase: str,
    dry_run: bool,
    diff: bool,
    rule: list[str] | None,
    allow_dirty: bool,
    jobs: int,
    format: ApplyFormat,
    interactive: bool,
    allow_no_files: bool,
    force_exclude: bool,
    select_: list[str] | None,
    ignore: list[str] | None,
    unsafe_fixes: bool,
    no_cache: bool,
    quiet: bool,
    verbose: bool,
) -> ExitCode:
    """Rewrite the files of one phase, journaled so that `rollback` can undo it."""
    messages = Messages.from_flags(quiet, verbose)
    if interactive:
        from migrator import interactive as review

        if dry_run:
            raise UsageError("--interactive writes what you accept; it cannot be combined with --dry-run")
        review.require_terminal()
    cached = not no_cache and not dry_run  # a dry run writes nothing, not even the index
    session = gate.open_session(
        paths, [phase], None, messages, rule or [], allow_no_files, force_exclude, select_ or [], ignore or [],
        stats=cached,
    )
    with ProgressBar("rewriting") as progress:
        result = session.run(
            fix=True, want_diff=diff or interactive, jobs=jobs, progress=progress, unsafe_fixes=unsafe_fixes,
            use_cache=cached,
        )
    gate.warn_about_imports(session, result, messages)
    if interactive:
        reviewed = review.review(result, review.ask_terminal, sys.stdout.write)
        result = reviewed.result
        messages.status(f"accepted {reviewed.accepted} of {reviewed.offered} file(s)" + (" (quit)" if reviewed.quit else ""))
    run_id = None
    if not dry_run:
        from migrator.writing import write_changes

        result, run_id = write_changes(session.config.root, result, [phase], allow_dirty)
    changed = [r.path for r in result.changed]
    fixed = sum(1 for r in result.changed for f in r.findings if f.fixable and (unsafe_fixes or not f.unsafe))
    manual = [f for f in result.findings if not f.fixable]
    held_unsafe = [f for f in result.findings if f.unsafe and not unsafe_fixes]
    if diff and not interactive:
        sys.stdout.write("".join(r.diff or "" for r in result.files if r.status is Status.CHANGED))
    if format is ApplyFormat.json:
        extra = {
            "changed_files": changed, "fixed": fixed, "manual": len(manual), "unsafe_not_applied": len(held_unsafe),
            "run_id": run_id,
        }
        sys.stdout.write(report.render_json(ReportData.from_run(result), extra))
    elif not diff:
        from migrator.report.table import print_errors, print_findings

        table_console = console()
        print_findings(table_console, left_after_apply(result.findings, unsafe_fixes))
        print_errors(table_console, result)
    verb = "would rewrite" if dry_run else "rewrote"
    messages.status(
        f"{verb} {len(changed)} file(s), {fixed} fix(es); {len(manual)} finding(s) need manual review; "
        + (f"{len(held_unsafe)} unsafe fix(es) not applied (--unsafe-fixes applies them); " if held_unsafe else "")
        + f"{len(result.errors)} error(s)" + (f"; run {run_id} (undo: migrator rollback {run_id})" if run_id else "")
    )
    return exit_code("apply", result, unsafe_fixes=unsafe_fixes)


def rollback_command(run_id: str | None, force: bool, path: Path) -> ExitCode:
    """Restore the original bytes of every file an apply run rewrote."""
    from migrator.writing import rollback

    root = load_config(path).root
    if force:
        from migrator.rollback_copies import keep_changed_files

        kept_run, folder, kept = keep_changed_files(root, run_id)
        if kept:
            _say(f"kept a copy of {len(kept)} file(s) edited since run {kept_run} in {folder}: {', '.join(kept[:10])}")
    undone = rollback(root, run_id, force)
    for restored in undone.restored:
        _print(restored)
    _say(f"restored {len(undone.restored)} file(s) from run {undone.run_id}")
    return ExitCode.CLEAN


def rules_command() -> ExitCode:
    """List the rules."""
    for rule in project_rules(load_config(Path("."))):
        fix = f"fix:{_fix_safety(rule)[0]}" if rule.fixable else "detect"
        _print(f"{rule.id}  {rule.name:<28} {fix:<11} {','.join(sorted(rule.phases)):<9} {rule.summary}")
    return ExitCode.CLEAN


def explain(rule_id: str) -> ExitCode:
    """Print one rule's documentation."""
    (rule,) = select(project_rules(load_config(Path("."))), [rule_id])
    fix = f"automatic fix, {_fix_safety(rule)[1]}" if rule.fixable else "detect only (manual review)"
    text = (
        f"{rule.id} {rule.name}: {rule.summary}\n"
        f"phases: {', '.join(sorted(rule.phases))}; {fix}\n\n"
        f"What it finds\n{rule.docs.what}\n\n"
        f"Why it is a problem\n{rule.docs.why}\n\n"
        f"What it does not report, and why\n{rule.docs.not_reported}\n\n"
        f"Before (fixture case {rule.docs.example})\n{rule.docs.before}\n\n"
        f"After\n{rule.docs.after}\n"
    )
    if rule.guidance:
        text += f"\nHow it is fixed\n{rule.guidance}\n"
    _print(text)
    return ExitCode.CLEAN


def _fix_safety(rule: Rule) -> tuple[str, str]:
    """A fixable rule's fix safety, short and explained: the rule file's default, or the transform's
    own account (its optional `UNSAFE_WHEN`) of when it marks a fix unsafe."""
    from migrator.transforms import TRANSFORMS

    later = "written only by apply --unsafe-fixes"
    if rule.fix_safety == "unsafe":
        return "unsafe", f"unsafe: the rule file marks every fix unsafe, {later}"
    unsafe_when = getattr(TRANSFORMS[rule.transform or ""], "UNSAFE_WHEN", "")
    if unsafe_when:
        return "mixed", f"safe except when {unsafe_when.rstrip('.')}: those fixes are marked unsafe and {later}"
    return "safe", "safe: apply writes every fix (a fix marked unsafe would be " + later + ")"


COMMANDS = (
    Command("scan", scan, cli_options.scan_arguments, takes_paths=True),
    Command("check", check, cli_options.check_arguments, takes_paths=True),
    Command("apply", apply, cli_options.apply_arguments, takes_paths=True),
    Command("baseline", cli_ci.baseline, cli_options.baseline_arguments, takes_paths=True),
    Command("merge-reports", cli_ci.merge_reports, cli_options.merge_reports_arguments),
    Command("rollback", rollback_command, cli_options.rollback_arguments),
    Command("rules", rules_command, cli_options.no_arguments),
    Command("explain", explain, cli_options.explain_arguments),
)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the command named on the line; exit with its code, or with 2 and a
    message when the run is refused."""
    batch.collect_less_often()
    command, arguments = parse(COMMANDS, sys.argv[1:] if argv is None else argv, DESCRIPTION, migrator.__version__)
    try:
        code = command.run(**arguments)
    except UsageError as error:
        _say(f"migrator: error: {error}")
        sys.exit(ExitCode.USAGE)
    except OSError as error:
        # The file system refused something the run needs (a folder, the journal, an output
        # file): a one-line reason and the usage code, never a traceback or "findings remain".
        where = f": {error.filename}" if error.filename else ""
        _say(f"migrator: error: {error.strerror or error}{where}")
        sys.exit(ExitCode.USAGE)
    except KeyboardInterrupt:
        # Never "findings remain" (1) for a run that did not finish. An interrupted apply leaves
        # each file whole, old or new, and its journal: `rollback` undoes what it wrote.
        _say("migrator: interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    sys.exit(code)


if __name__ == "__main__":
    main()
