"""Runs the rules over files: each file ends as one typed result, never as a crash."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence

import migrator.transforms as transforms
from migrator.analysis.agents import module_name_of
from migrator.analysis.legacy import LegacyIndex
from migrator.analysis.model import ModuleModel, Pos, Reference
from migrator.discovery import SourceFile
from migrator.markdown import python_fences, replace_fences
from migrator.results import FileResult, Finding, Status
from migrator.rules import Rule
from migrator.settings import Settings
from migrator.sourcefile import DecodeError, SourceText
from migrator.transforms import STAGES
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan


def process_file(source: SourceFile, phase: str, settings: Settings) -> FileResult:
    """Find (and with `settings.fix`, rewrite) the deprecated uses in one file on disk."""
    try:
        raw = source.read_bytes()
    except OSError as error:
        return FileResult(source.relpath, phase, Status.FAILED, message=f"cannot read: {error.strerror or error}")
    return process_safely(raw, source.relpath, phase, settings)[0]


def process_safely(raw: bytes, relpath: str, phase: str, settings: Settings) -> tuple[FileResult, bool]:
    """`process_bytes` behind the per-file boundary: one bad file never stops the run.

    The flag says whether the result is complete (not an internal error), so caches can skip it.
    """
    try:
        return process_bytes(raw, relpath, phase, settings), True
    except Exception as error:
        return FileResult(relpath, phase, Status.FAILED, message=f"internal error: {type(error).__name__}: {error}"), False


def process_bytes(raw: bytes, relpath: str, phase: str, settings: Settings) -> FileResult:
    """Find (and with `settings.fix`, rewrite) the deprecated uses in one file's bytes."""
    rules = [rule for rule in settings.rules if phase in rule.phases]
    if not rules or not any(needle in raw for needle in settings.index.needles):
        return FileResult(relpath, phase, Status.UNCHANGED)
    try:
        decoded = SourceText.decode(raw)
    except DecodeError as error:
        return FileResult(relpath, phase, Status.FAILED, message=f"cannot decode: {error}")
    if relpath.endswith(".md"):
        return _process_markdown(raw, decoded, relpath, phase, rules, settings)
    try:
        outcome = _run_text(decoded.text, relpath, phase, rules, settings)
    except SyntaxError as error:
        from migrator.newer_python import newer_python_hint

        message = f"cannot parse: {_syntax_message(error)}{newer_python_hint(decoded.text, error)}"
        return FileResult(relpath, phase, Status.FAILED, message=message)
    except RecursionError:
        message = "cannot parse: nested too deeply for the parser; left unchanged"
        return FileResult(relpath, phase, Status.FAILED, message=message)
    if outcome.rejected:
        return FileResult(relpath, phase, Status.FAILED, outcome.findings, message=outcome.rejected)
    return _result(raw, decoded, relpath, phase, outcome.findings, outcome.new_text, settings.want_diff)


@dataclasses.dataclass(frozen=True)
class _TextOutcome:
    findings: tuple[Finding, ...]
    new_text: str | None = None
    rejected: str | None = None


def _run_text(
    text: str, relpath: str, phase: str, rules: Sequence[Rule], settings: Settings, *, snippet_at: Pos | None = None
) -> _TextOutcome:
    """Analyse, plan and (with fixes on) rewrite one piece of Python source.

    `snippet_at` marks a Markdown fence: where its code starts in the document, so findings
    carry the document's own positions, and deprecated names used without an import count.
    """
    model = _analyze(text, relpath, settings.index, snippet=snippet_at is not None)
    ctx = PlanContext(
        model=model,
        config=settings.config,
        phase=phase,
        relpath=relpath,
        conftest_has_fixture=settings.project.conftest_defines_fixture(relpath),
        project=settings.project,
    )
    planned = _plan(model, rules, ctx, settings.rule_symbols)
    offset = snippet_at or Pos(1, 0)
    findings = tuple(_finding(ref, rule, plan, relpath, phase, offset) for ref, rule, plan in planned)
    edits = [edit for _, _, plan in planned if isinstance(plan, Fix) for edit in plan.edits]
    if not settings.fix or not edits:
        return _TextOutcome(findings)
    import libcst

    from migrator.transforms._rewriter import RewriteError, rewrite

    try:
        new_text = rewrite(text, edits, tree=model.tree)
        # CPython's own front end (parser and symbol table) is the check that the output is a
        # valid module; LibCST produced the text, so re-parsing it with LibCST adds only time.
        compile(new_text, relpath, "exec", dont_inherit=True)
    except (RewriteError, libcst.ParserSyntaxError, SyntaxError, ValueError) as error:
        return _TextOutcome(findings, rejected=f"rewrite rejected, file left unchanged: {type(error).__name__}: {error}")
    return _TextOutcome(findings, new_text)


def _process_markdown(
    raw: bytes, decoded: SourceText, relpath: str, phase: str, rules: Sequence[Rule], settings: Settings
) -> FileResult:
    """Each Python fence is checked (and rewritten) on its own; a fence that does not parse is reported."""
    findings: list[Finding] = []
    problems: list[str] = []
    replacements: dict[int, str] = {}
    fences = python_fences(decoded.text)
    for fence in fences:
        if not any(needle in fence.code for needle in settings.index.text_needles):
            continue
        where = Pos(fence.first_line, len(fence.indent))
        try:
            outcome = _run_text(fence.code, relpath, phase, rules, settings, snippet_at=where)
        except SyntaxError as error:
            problems.append(f"the Python fence at line {fence.first_line - 1} does not parse, left as it is: {_syntax_message(error, fence.first_line - 1)}")
            continue
        findings.extend(outcome.findings)
        if outcome.rejected:
            problems.append(f"the Python fence at line {fence.first_line - 1}: {outcome.rejected}")
        elif outcome.new_text is not None and outcome.new_text != fence.code:
            replacements[fence.start] = outcome.new_text
    new_text = replace_fences(decoded.text, fences, replacements) if replacements else None
    result = _result(raw, decoded, relpath, phase, tuple(findings), new_text, settings.want_diff)
    return dataclasses.replace(result, problems=tuple(problems))


def _result(
    raw: bytes, decoded: SourceText, relpath: str, phase: str, findings: tuple[Finding, ...], new_text: str | None, want_diff: bool
) -> FileResult:
    if new_text is None:
        return FileResult(relpath, phase, Status.UNCHANGED, findings)
    try:
        new_bytes = decoded.encode(new_text)
    except UnicodeEncodeError as error:
        return FileResult(relpath, phase, Status.FAILED, findings, message=f"rewrite rejected: cannot encode: {error}")
    if new_bytes == raw:
        return FileResult(relpath, phase, Status.UNCHANGED, findings)
    diff = _unified_diff(relpath, decoded.text, new_text) if want_diff else None
    return FileResult(relpath, phase, Status.CHANGED, findings, original=raw, rewritten=new_bytes, diff=diff)


def _analyze(text: str, relpath: str, index: LegacyIndex, snippet: bool = False) -> ModuleModel:
    from migrator.analysis.visitor import analyze_module

    return analyze_module(text, module_name_of(relpath), relpath.endswith("__init__.py"), index, snippet=snippet)


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
        # Clean-ups run last-first (outer before inner): a getter's result is dead only once
        # the later uses, and the calls around it, are settled.
        ordered = sorted(matched, key=lambda item: (item[0].span.start, item[0].span.end), reverse=stage == "cleanup")
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


def _finding(ref: Reference, rule: Rule, plan: Plan, relpath: str, phase: str, offset: Pos) -> Finding:
    start, end = ref.span.start, ref.span.end
    return Finding(
        path=relpath,
        line=start.line + offset.line - 1,
        column=start.col + 1 + offset.col,
        end_line=end.line + offset.line - 1,
        end_column=end.col + 1 + offset.col,
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


def _syntax_message(error: SyntaxError, line_offset: int = 0) -> str:
    return f"line {error.lineno + line_offset}: {error.msg}" if error.lineno else str(error.msg)
