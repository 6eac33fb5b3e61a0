"""What `scan` and `check` do between the run and the report: sharding, baselines, fingerprints
and fixes, and the warnings about a configuration that matched nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec

from migrator.exit_codes import UsageError
from migrator.output_file import write_text
from migrator.report.data import ReportData
from migrator.results import Finding, RunResult
from migrator.session import Session
from migrator.shard import Shard
from migrator.terminal import Messages


def open_session(
    paths: Sequence[Path],
    phases: Sequence[str],
    shard: str | None,
    messages: Messages,
    rule_ids: Sequence[str] = (),
    allow_no_files: bool = False,
    force_exclude: bool = False,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    stats: bool = True,
) -> Session:
    """The session of a command, cut to one shard. A run with no file to scan is refused, unless
    `allow_no_files` (a hook handing over its own list, which the configuration may exclude).
    With `force_exclude`, files named on the command line are dropped when the tree's
    discovery (exclude, .gitignore) would not have found them. `stats=False` is for a run that
    does not use the file index (see `Session.open`)."""
    part = Shard.parse(shard) if shard is not None else None
    session = Session.open(paths, phases, rule_ids, select=select, ignore=ignore, stats=stats)
    config = session.config
    if force_exclude:
        discovered = {source.relpath for source in session.project_files}
        kept = tuple(pair for pair in session.files if pair[0].relpath in discovered)
        if len(kept) < len(session.files):
            messages.detail(f"--force-exclude: {len(session.files) - len(kept)} named file(s) excluded")
        session = msgspec.structs.replace(session, files=kept)
    messages.detail(f"project root: {config.root}; configuration: {config.source or 'none (defaults)'}")
    if not session.files and allow_no_files:
        messages.status("no file to scan: every path given is excluded, or in another phase")
        return session
    if not session.files:
        where = ", ".join(str(p) for p in paths) or "."
        phase_note = f" in phase {', '.join(phases)}" if phases else ""
        raise UsageError(
            f"no file to scan{phase_note} under {where} (root {config.root}): migrator scans .py and .md "
            f"files not excluded by .gitignore or the 'include' and 'exclude' keys; is this the right folder?"
        )
    if part is not None:
        total = len(session.files)
        session = msgspec.structs.replace(session, files=part.select(session.files))
        messages.detail(f"shard {part}: {len(session.files)} of {total} file(s)")
    messages.detail(f"{len(session.files)} file(s) to scan, {len(session.rules)} rule(s)")
    return session


class Gate(msgspec.Struct, frozen=True):
    """A run's findings as a check reports them: all of them, or only those not in the baseline."""

    result: RunResult
    fingerprints: tuple[str, ...]
    tolerated: int = 0
    baseline_fixed: int = 0

    def report_data(
        self, session: Session, fixes_from: RunResult | None = None, repository_paths: bool = False
    ) -> ReportData:
        """The report's data; with `repository_paths`, its paths are relative to the repository's
        top (SARIF, GitHub annotations), which takes asking git where that is."""
        fixes = {}
        if fixes_from is not None:
            from migrator.report.fixes import fixes_by_finding

            fixes = fixes_by_finding(fixes_from.files, self.result.findings)
        prefix = ""
        if repository_paths:
            from migrator.repository import path_prefix

            prefix = path_prefix(session.config.root)
        extra = {"tolerated": self.tolerated, "baseline_fixed": self.baseline_fixed} if self.tolerated or self.baseline_fixed else None
        return ReportData.from_run(self.result, self.fingerprints, summary_extra=extra, fixes=fixes, path_prefix=prefix)


def apply_baseline(
    session: Session, result: RunResult, file: Path, update: bool, messages: Messages
) -> Gate:
    """Keep only the findings the baseline does not hold; with `update`, drop its fixed entries."""
    from migrator import baseline as baselines

    entries = baselines.load(file)
    findings = result.findings
    prints = baselines.fingerprints(session.config.root, findings)
    scanned = {source.relpath for source, _ in session.files}
    comparison = baselines.compare(entries, findings, prints, scanned)
    if comparison.fixed:
        if update:
            write_text(file, baselines.render(baselines.tightened(comparison, findings, prints)))
            messages.status(f"baseline {file} tightened: {len(comparison.fixed)} fixed finding(s) removed")
        else:
            messages.status(
                f"{len(comparison.fixed)} finding(s) of the baseline were fixed since; "
                f"tighten it with: migrator check --baseline {file} --update-baseline"
            )
    elif update:
        messages.status(f"baseline {file} is already tight")
    new = set(comparison.new)
    kept_prints = tuple(p for f, p in zip(findings, prints) if f in new)
    return Gate(only(result, new), kept_prints, len(comparison.tolerated), len(comparison.fixed))


def only(result: RunResult, keep: set[Finding]) -> RunResult:
    """The run with only the given findings left in its files."""
    return RunResult(
        tuple(msgspec.structs.replace(r, findings=tuple(f for f in r.findings if f in keep)) for r in result.files)
    )


def warn_about_config(session: Session, result: RunResult, messages: Messages) -> None:
    from migrator import config_warnings

    relpaths = [source.relpath for source in session.project_files] or [s.relpath for s, _ in session.files]
    found = set(relpaths)
    for text in config_warnings.phase_warnings(session.config, relpaths):
        messages.warn(text)
    for text in config_warnings.legacy_warnings(session.config, found, len(result.findings)):
        messages.warn(text)


def warn_about_imports(session: Session, result: RunResult, messages: Messages) -> None:
    from migrator import config_warnings

    rewritten = [r.rewritten.decode("utf-8", "replace") for r in result.changed if r.rewritten is not None]
    relpaths = {source.relpath for source in session.project_files} or {s.relpath for s, _ in session.files}
    for text in config_warnings.import_warnings(session.config, relpaths, rewritten):
        messages.warn(text)
