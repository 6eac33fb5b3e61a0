"""Tables and lists for people reading a terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table

from migrator.phases import PHASE_IDS
from migrator.results import Finding, RunResult, files_by_count
from migrator.rules import Rule

TOP_FILES = 10


def print_counts(console: Console, result: RunResult, rules: Sequence[Rule]) -> None:
    """Findings by rule and phase, then the files with the most."""
    findings = result.findings
    summaries = {rule.id: rule.summary for rule in rules}
    counts = Counter((f.rule, f.phase) for f in findings)
    fixable = Counter(f.rule for f in findings if f.fixable)
    unsafe = Counter(f.rule for f in findings if f.unsafe)
    table = Table(title="Deprecated uses by rule and phase", box=box.SIMPLE_HEAD)
    table.add_column("rule")
    table.add_column("what")
    for phase in PHASE_IDS:
        table.add_column(phase, justify="right")
    table.add_column("total", justify="right")
    table.add_column("fixable", justify="right")
    table.add_column("of which unsafe", justify="right")
    for rule_id in sorted({f.rule for f in findings}):
        row = [counts[(rule_id, phase)] for phase in PHASE_IDS]
        table.add_row(rule_id, summaries.get(rule_id, ""), *map(str, row), str(sum(row)), str(fixable[rule_id]), str(unsafe[rule_id]))
    by_phase = Counter(f.phase for f in findings)
    totals = [str(by_phase[phase]) for phase in PHASE_IDS]
    total_unsafe = str(sum(unsafe.values()))
    table.add_row("total", "", *totals, str(len(findings)), str(sum(fixable.values())), total_unsafe, style="bold")
    console.print(table)
    if result.suppressed:
        console.print(f"{result.suppressed} finding(s) suppressed by inline `# migrator: ignore[...]` comments", markup=False)
    top = files_by_count(findings, TOP_FILES)
    if top:
        files = Table(title=f"Files with the most deprecated uses (top {len(top)})", box=box.SIMPLE_HEAD)
        files.add_column("file")
        files.add_column("phase")
        files.add_column("uses", justify="right")
        phase_of = {f.path: f.phase for f in findings}
        for path, count in top:
            files.add_row(path, phase_of[path], str(count))
        console.print(files)


def print_findings(console: Console, findings: Sequence[Finding]) -> None:
    """One line per finding, `path:line:column: RULE message`, with the reason for manual ones."""
    lines = []
    for f in findings:
        tail = f"[fix: {f.safety or 'safe'}]" if f.fixable else f"[manual: {f.reason}]"
        lines.append(f"{f.path}:{f.line}:{f.column}: {f.rule} {f.message} {tail}")
    if lines:
        # One print: Rich's cost is per call, and the console never wraps (soft_wrap).
        console.print("\n".join(lines), markup=False, highlight=False)


def print_errors(console: Console, result: RunResult) -> None:
    for error in result.errors:
        console.print(f"{error.path}: error: {error.message}", markup=False, highlight=False)
