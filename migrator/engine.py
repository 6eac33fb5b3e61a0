"""Runs the rules over files: each file ends as one typed result, never as a crash."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import migrator.transforms as transforms
from migrator.analysis.agents import module_name_of
from migrator._frozen import FrozenDict
from migrator.analysis.legacy import LegacyIndex
from migrator.analysis.model import ModuleModel, Reference
from migrator.config import Config
from migrator.matching import build_index
from migrator.discovery import SourceFile
from migrator.phases import PhaseMap
from migrator.project import ProjectFacts
from migrator.results import FileResult, Finding, RunResult, Status
from migrator.rules import Rule
from migrator.sourcefile import DecodeError, SourceText
from migrator.transforms.base import PlanContext
from migrator.transforms import STAGES
from migrator.transforms.edits import Fix, Manual, Plan


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a run needs to process one file; built once per run."""

    config: Config
    rules: tuple[Rule, ...]
    index: LegacyIndex
    fix: bool = False
    want_diff: bool = False
    project: ProjectFacts = ProjectFacts()
    rule_symbols: Mapping[str, frozenset[str]] = FrozenDict()

    @classmethod
    def build(cls, config: Config, rules: Sequence[Rule], **options: object) -> Settings:
        facts = options.get("project") or ProjectFacts()
        index, rule_symbols = build_index(config, rules, facts)  # type: ignore[arg-type]
        return cls(config=config, rules=tuple(rules), index=index, rule_symbols=rule_symbols, **options)  # type: ignore[arg-type]


def run(files: Iterable[tuple[SourceFile, str]], settings: Settings, progress: Callable[[], None] | None = None) -> RunResult:
    """Process `(file, phase)` pairs in order."""
    results = []
    for source, phase in files:
        results.append(process_file(source, phase, settings))
        if progress is not None:
            progress()
    return RunResult(tuple(results))


def process_file(source: SourceFile, phase: str, settings: Settings) -> FileResult:
    """Find (and with `settings.fix`, rewrite) the deprecated uses in one file."""
    try:
        return _process(source, phase, settings)
    except Exception as error:  # the per-file boundary: one bad file never stops the run
        return FileResult(source.relpath, phase, Status.FAILED, message=f"internal error: {type(error).__name__}: {error}")


def _process(source: SourceFile, phase: str, settings: Settings) -> FileResult:
    try:
        raw = source.path.read_bytes()
    except OSError as error:
        return FileResult(source.relpath, phase, Status.FAILED, message=f"cannot read: {error.strerror or error}")
    return process_bytes(raw, source.relpath, phase, settings)


def process_bytes(raw: bytes, relpath: str, phase: str, settings: Settings) -> FileResult:
    """Find (and with `settings.fix`, rewrite) the deprecated uses in one file's bytes."""
    source = SourceFile(Path(relpath), relpath)
    rules = [rule for rule in settings.rules if phase in rule.phases]
    if not rules or not any(needle in raw for needle in settings.index.needles()):
        return FileResult(source.relpath, phase, Status.UNCHANGED)
    try:
        decoded = SourceText.decode(raw)
        model = _analyze(decoded.text, source.relpath, settings.index)
    except DecodeError as error:
        return FileResult(source.relpath, phase, Status.FAILED, message=f"cannot decode: {error}")
    except SyntaxError as error:
        return FileResult(source.relpath, phase, Status.FAILED, message=f"cannot parse: {_syntax_message(error)}")
    ctx = PlanContext(
        model=model,
        config=settings.config,
        phase=phase,
        relpath=source.relpath,
        conftest_has_fixture=settings.project.conftest_defines_fixture(source.relpath),
        project=settings.project,
    )
    planned = _plan(model, rules, ctx, settings.rule_symbols)
    findings = tuple(_finding(ref, rule, plan, source.relpath, phase) for ref, rule, plan in planned)
    edits = [edit for _, _, plan in planned if isinstance(plan, Fix) for edit in plan.edits]
    if not settings.fix or not edits:
        return FileResult(source.relpath, phase, Status.UNCHANGED, findings)
    return _rewrite(source, phase, raw, decoded, edits, findings, settings.want_diff)


def _analyze(text: str, relpath: str, index: LegacyIndex) -> ModuleModel:
    from migrator.analysis.visitor import analyze_module

    return analyze_module(text, module_name_of(relpath), relpath.endswith("__init__.py"), index)


def _plan(
    model: ModuleModel, rules: Sequence[Rule], ctx: PlanContext, symbols: Mapping[str, frozenset[str]]
) -> list[tuple[Reference, Rule, Plan]]:
    """Plan every finding: uses first, then clean-ups (imports, getters) that depend on them."""
    matched = [
        (ref, rule)
        for rule in rules
        for ref in model.references
        if ref.symbol in symbols.get(rule.id, ()) and ref.kind in rule.kinds
    ]
    planned: list[tuple[Reference, Rule, Plan]] = []
    for stage in STAGES:
        # Clean-ups run last-first: a getter's result is dead only once later uses are settled.
        ordered = sorted(matched, key=lambda item: item[0].span.start, reverse=stage == "cleanup")
        for ref, rule in ordered:
            transform = transforms.TRANSFORMS[rule.transform] if rule.transform else None
            if transforms.stage_of(transform, ref) != stage:
                continue
            plan = transform.plan(ref, ctx, rule.params) if transform else Manual(rule.guidance or rule.summary)
            if plan is None:
                continue
            ctx.state.plans[id(ref)] = plan
            planned.append((ref, rule, plan))
    planned.sort(key=lambda item: (item[0].span.start, item[1].id))
    return planned


def _rewrite(
    source: SourceFile,
    phase: str,
    raw: bytes,
    decoded: SourceText,
    edits: list,
    findings: tuple[Finding, ...],
    want_diff: bool,
) -> FileResult:
    import libcst

    from migrator.transforms._rewriter import RewriteError, rewrite

    try:
        new_text = rewrite(decoded.text, edits)
        libcst.parse_module(new_text)
        new_bytes = decoded.encode(new_text)
        compile(new_bytes, source.relpath, "exec", dont_inherit=True)
    except (RewriteError, libcst.ParserSyntaxError, SyntaxError, ValueError, UnicodeEncodeError) as error:
        message = f"rewrite rejected, file left unchanged: {type(error).__name__}: {error}"
        return FileResult(source.relpath, phase, Status.FAILED, findings, message=message)
    if new_bytes == raw:
        return FileResult(source.relpath, phase, Status.UNCHANGED, findings)
    diff = _unified_diff(source.relpath, decoded.text, new_text) if want_diff else None
    return FileResult(source.relpath, phase, Status.CHANGED, findings, original=raw, rewritten=new_bytes, diff=diff)


def _finding(ref: Reference, rule: Rule, plan: Plan, relpath: str, phase: str) -> Finding:
    return Finding(
        path=relpath,
        line=ref.span.start.line,
        column=ref.span.start.col + 1,
        end_line=ref.span.end.line,
        end_column=ref.span.end.col + 1,
        rule=rule.id,
        phase=phase,
        message=rule.message,
        fixable=isinstance(plan, Fix),
        reason=plan.reason if isinstance(plan, Manual) else None,
    )


def _unified_diff(relpath: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{relpath}", f"b/{relpath}"
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def _syntax_message(error: SyntaxError) -> str:
    return f"line {error.lineno}: {error.msg}" if error.lineno else str(error.msg)


def phase_files(files: Iterable[SourceFile], phase_map: PhaseMap, wanted: frozenset[str]) -> list[tuple[SourceFile, str]]:
    """Pair each file with its phase, keeping those in the wanted phases."""
    paired = []
    for source in files:
        phase = phase_map.phase_of(source.relpath)
        if phase is not None and phase in wanted:
            paired.append((source, phase))
    return paired
