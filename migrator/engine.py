"""Runs the rules over files: each file ends as one typed result, never as a crash."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Collection, Mapping, Sequence

import msgspec

from migrator import transforms, verify
from migrator.analysis import skeleton
from migrator.analysis.agents import module_name_of
from migrator.analysis.facts import RAISES, CodebaseFacts
from migrator.analysis.legacy import LegacyIndex
from migrator.analysis.model import ModuleModel, Pos, Reference
from migrator.discovery import SourceFile
from migrator.markdown import python_fences, replace_fences
from migrator.name_scope import bound_at_module_level, with_import_bindings
from migrator.results import FileResult, Finding, Status, makes_a_fix
from migrator.rules import Rule
from migrator.settings import Settings
from migrator.sourcefile import DecodeError, SourceText
from migrator.suppressions import SUPPRESSION_RULE, Problem, SuppressionIndex
from migrator.transforms import STAGES
from migrator.transforms._kept_lines import line_opcodes, split_lines
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import NOT_A_FINDING, Fix, Manual, Plan
from migrator.triage import HELD, Decided, decide

# Rounds of re-planning after a rewrite before the fix loop gives up (Ruff's fix loop stops at 100).
MAX_FIX_ROUNDS = 10


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
    rules = settings.rules_for(relpath, phase)
    if not rules or not settings.screen.wants(raw):
        return FileResult(relpath, phase, Status.UNCHANGED)
    try:
        decoded = SourceText.decode(raw)
    except DecodeError as error:
        return FileResult(relpath, phase, Status.FAILED, message=f"cannot decode: {error}")
    asked: list[tuple[str, str, bool | None]] = []
    if relpath.endswith(".md"):
        result = _process_markdown(raw, decoded, relpath, phase, rules, settings, asked)
        if _as_scan_reports(settings, result.findings):
            result = msgspec.structs.replace(result, findings=_with_statements(result.findings, decoded.text))
        return _depending(result, asked)
    try:
        outcome = _run_text(decoded.text, relpath, phase, rules, settings, asked=asked)
    except SyntaxError as error:
        from migrator.newer_python import newer_python_hint

        message = f"cannot parse: {_syntax_message(error)}{newer_python_hint(decoded.text, error)}"
        return FileResult(relpath, phase, Status.FAILED, message=message)
    except RecursionError:
        message = "cannot parse: nested too deeply for the parser; left unchanged"
        return FileResult(relpath, phase, Status.FAILED, message=message)
    if outcome.rejected:
        failed = FileResult(relpath, phase, Status.FAILED, outcome.findings, message=outcome.rejected, suppressed=outcome.suppressed)
        return _depending(failed, asked)
    findings = outcome.findings
    if _as_scan_reports(settings, findings):
        findings = _with_statements(findings, decoded.text)
    result = _result(raw, decoded, relpath, phase, findings, outcome.new_text, settings.want_diff)
    return _depending(msgspec.structs.replace(result, suppressed=outcome.suppressed) if outcome.suppressed else result, asked)


def _as_scan_reports(settings: Settings, findings: tuple[Finding, ...]) -> bool:
    """Whether the findings are what a scan reports of the file: a scan's, or those of a run
    that fixes none of them (it planned, held back and wrote nothing a scan does not)."""
    return not settings.fix or not makes_a_fix(findings, settings.unsafe_fixes)


def _with_statements(findings: tuple[Finding, ...], text: str) -> tuple[Finding, ...]:
    """The findings with the text of the lines each spans, as fingerprints read it."""
    from migrator.baseline import statement_text

    if not findings:
        return findings
    lines = text.splitlines()
    return tuple(msgspec.structs.replace(f, statement=statement_text(lines, f)) for f in findings)


def _depending(result: FileResult, asked: list[tuple[str, str, bool | None]]) -> FileResult:
    """The result, with what its plans asked of other modules (a cached copy stands while the answers hold)."""
    return msgspec.structs.replace(result, depends=tuple(sorted(set(asked), key=repr))) if asked else result


class _TextOutcome(msgspec.Struct, frozen=True):
    findings: tuple[Finding, ...]
    new_text: str | None = None
    rejected: str | None = None
    suppressed: int = 0


def _run_text(
    text: str,
    relpath: str,
    phase: str,
    rules: Sequence[Rule],
    settings: Settings,
    *,
    snippet_at: Pos | None = None,
    asked: list[tuple[str, str, bool | None]] | None = None,
) -> _TextOutcome:
    """Analyse, plan and (with fixes on) rewrite one piece of Python source.

    `snippet_at` marks a Markdown fence: where its code starts in the document, so findings
    carry the document's own positions, and deprecated names used without an import count.
    A fix can make another possible (an import is unused once its last use is fixed), so the
    file is planned again after each rewrite until nothing fixable is left, like Ruff's fix
    loop; the findings are every fix made and what is left for a person in the final text.
    """
    target = _Target(relpath, phase, rules, settings, snippet_at, asked if asked is not None else [])
    first = _plan_round(text, target)
    if not settings.fix or not first.edits:
        return _TextOutcome(first.findings, suppressed=first.suppressed)
    fixed: list[Finding] = []
    current, planned = text, first
    for _ in range(MAX_FIX_ROUNDS):
        refusal, new_text, new_tree = _rewrite_verified(current, planned.model, planned.edits, relpath, settings)
        if refusal is not None:
            if current is text:
                return _TextOutcome(first.findings, rejected=refusal, suppressed=first.suppressed)
            # An earlier round was verified and stands; what this one wanted needs a person.
            return _TextOutcome(_settled(fixed, planned, refusal), current, suppressed=planned.suppressed)
        fixed.extend(planned.applied)
        current = new_text
        planned = _plan_round(current, target, new_tree)
        if not planned.edits:
            return _TextOutcome((*fixed, *planned.findings), current, suppressed=planned.suppressed)
    reason = f"fixes did not settle after {MAX_FIX_ROUNDS} rounds; left for review"
    return _TextOutcome(_settled(fixed, planned, reason), current, suppressed=planned.suppressed)


class _Round(msgspec.Struct, frozen=True):
    """One round of analysis and planning of a text."""

    model: ModuleModel
    findings: tuple[Finding, ...]
    applied: tuple[Finding, ...]  # the findings whose fixes `edits` carry out
    edits: list
    suppressed: int


class _Target(msgspec.Struct, frozen=True):
    """What every round of planning one text shares: where it is, the rules and settings, where
    a Markdown fence starts (`snippet_at`), and the answers the plans asked for so far."""

    relpath: str
    phase: str
    rules: Sequence[Rule]
    settings: Settings
    snippet_at: Pos | None
    asked: list[tuple[str, str, bool | None]]


def _plan_round(text: str, target: _Target, tree: ast.Module | skeleton.Skeleton | None = None) -> _Round:
    """A round of planning: from the module's skeleton where it has one, which tells the same
    findings and plans. `tree` is the text's whole tree or a skeleton, when the caller has
    parsed one already."""
    if tree is not None:
        return _plan_text(text, target, skeleton_ok=False, tree=tree)
    return _plan_text(text, target, skeleton_ok=True)


def _plan_text(
    text: str, target: _Target, *, skeleton_ok: bool, tree: ast.Module | skeleton.Skeleton | None = None
) -> _Round:
    """Analyse and plan one text: its findings, suppressions and the edits of the fixes to write."""
    relpath, phase, rules, settings, snippet_at, asked = (
        target.relpath, target.phase, target.rules, target.settings, target.snippet_at, target.asked
    )
    model = _analyze(text, relpath, settings.index, snippet=snippet_at is not None, skeleton_ok=skeleton_ok, tree=tree)

    def plan_pass(held: Collection[tuple[int, str]]) -> list[tuple[Reference, Rule, Plan]]:
        ctx = PlanContext(
            model=model,
            config=settings.config,
            phase=phase,
            relpath=relpath,
            conftest_has_fixture=settings.project.conftest_defines_fixture(relpath),
            project=settings.project,
            asked=asked,
        )
        return _plan(model, rules, ctx, settings.rule_symbols, held)

    suppressions = SuppressionIndex.of(text)
    triaged = decide(plan_pass, suppressions, settings.unsafe_fixes)
    offset = snippet_at or Pos(1, 0)
    reported = [(item, _finding(item, relpath, phase, offset, settings.project.codebase)) for item in triaged.findings]
    findings = tuple(finding for _, finding in reported)
    if any(rule.id == SUPPRESSION_RULE for rule in rules) and suppressions:
        ran = {rule.id for rule in rules}
        problems = suppressions.problems(triaged.used, ran, settings.known_rule_ids)
        findings += tuple(_suppression_finding(problem, relpath, phase, offset) for problem in problems)
    applied = tuple(finding for item, finding in reported if item.applied)
    edits = [edit for item in triaged.findings if item.applied for edit in item.plan.edits]  # type: ignore[union-attr]
    return _Round(model, findings, applied, edits, triaged.suppressed)


def _rewrite_verified(
    text: str, model: ModuleModel, edits: list, relpath: str, settings: Settings
) -> tuple[str | None, str, ast.Module | skeleton.Skeleton | None]:
    """The rewritten text and its tree (or skeleton), or why it is refused: it must compile and
    keep the module's names sound.

    A module planned from its skeleton is rewritten and checked from skeletons: the rewrite
    leaves the stubbed statements as they were, so the rewritten text holds each of them and
    its skeleton stubs the same ones (`_skeleton_check`). What pyflakes says of a name
    depends only on the statements that hold it: a body neither skeleton has can change what
    it says of a changed name only where the body holds the name and the module binds it.
    Where none does, the skeletons tell of every name the rewrite changed what the whole trees
    would; anything else, and a refusal, is decided from the whole trees.
    """
    name = model.module_name
    if model.skeletal:
        planned = skeleton.Skeleton(model.tree, model.stubs)
        done = _rewritten(text, planned, edits, relpath, name, settings, _skeleton_check(text, model, relpath))
        if done is not None and done[0] is None:
            return done
    whole = ast.parse(text) if model.skeletal else model.tree
    done = _rewritten(text, whole, edits, relpath, name, settings, lambda new: _checked(text, whole, new, relpath))
    assert done is not None, "the whole trees always tell"
    return done


# What a check of a rewritten text gives: its tree or skeleton, and what pyflakes says of the
# changed names before and after; None when it cannot tell.
_Check = Callable[[str], "tuple[ast.Module | skeleton.Skeleton, verify.Names, verify.Names] | None"]


def _rewritten(
    text: str,
    tree: ast.Module | skeleton.Skeleton,
    edits: list,
    relpath: str,
    module_name: str,
    settings: Settings,
    check: _Check,
) -> tuple[str | None, str, ast.Module | skeleton.Skeleton | None] | None:
    """`text` rewritten from its `tree` and checked, or why it is refused; None when `check`
    cannot tell.

    Imports the rewrite left unused (the class an agent was built from, before the factory
    built it) are removed, as a person would, except in a package's `__init__.py`, where an
    import may be a re-export; what is then still worse than before refuses the file.
    """
    import libcst

    from migrator.transforms._rewriter import RewriteError, rewrite

    is_package = relpath.endswith("__init__.py")
    try:
        new_text = rewrite(text, edits, tree=_tree(tree), skeleton_stubs=_stubs_of(tree))
        checked = check(new_text)
        if checked is None:
            return None
        new, before, after = checked
        unused = [] if is_package else verify.newly_unused_imports(before, after, _tree(new), new_text.splitlines())
        if unused:
            new_text = rewrite(new_text, unused, tree=_tree(new), skeleton_stubs=_stubs_of(new))
            checked = check(new_text)
            if checked is None:
                return None
            new, before, after = checked
    except (RewriteError, libcst.ParserSyntaxError, SyntaxError, ValueError) as error:
        return f"rewrite rejected, file left unchanged: {type(error).__name__}: {error}", text, None
    problems = verify.name_problems(before, after) + verify.call_problems(
        edits, _tree(new), module_name, is_package, settings.signatures
    )
    if problems:
        return f"rewrite refused, file left unchanged: {'; '.join(problems)}", text, None
    return None, new_text, new


def _tree(tree: ast.Module | skeleton.Skeleton) -> ast.Module:
    return tree.tree if isinstance(tree, skeleton.Skeleton) else tree


def _stubs_of(tree: ast.Module | skeleton.Skeleton) -> tuple[skeleton.Stub, ...]:
    return tree.stubs if isinstance(tree, skeleton.Skeleton) else ()


def _checked(text: str, tree: ast.Module, new_text: str, relpath: str) -> tuple[ast.Module, verify.Names, verify.Names]:
    """The rewritten text's tree, once CPython's own front end (parser, symbol table and
    compiler) accepts what the rewrite touched; and what pyflakes says, before and after the
    rewrite, of the names on the lines it changed."""
    new_tree = ast.parse(new_text, relpath)
    change = verify.Change.between(text, new_text, tree, new_tree)
    compile(change.touched_part(new_tree), relpath, "exec", dont_inherit=True)
    after = verify.names_of(new_tree, relpath, new_text, change)
    # A module pyflakes finds nothing wrong with cannot be worse than before: skip the second run.
    before = verify.names_of(tree, relpath, text, change) if after.counts else after
    return new_tree, before, after


def _skeleton_check(text: str, model: ModuleModel, relpath: str) -> _Check:
    """`_checked` from skeletons, for `text` planned from its skeleton (`model`): a rewritten
    text's skeleton, whose stubs are the original's where each stands line for line in a run
    of lines the rewrite kept, and what pyflakes says of the changed names before and after;
    None when the skeletons cannot tell it."""
    old_lines = split_lines(text)

    def check(new_text: str) -> tuple[skeleton.Skeleton, verify.Names, verify.Names] | None:
        opcodes = line_opcodes(old_lines, split_lines(new_text))
        stubs = _moved_stubs(model.stubs, opcodes)
        if stubs is None:
            return None
        new_tree = skeleton.parse_skeleton(skeleton.restub(new_text, stubs), stubs)
        if new_tree is None:
            return None
        change = verify.Change.between(text, new_text, model.tree, new_tree, opcodes)
        if change.words is None:
            return None
        changed = with_import_bindings(change.words, model.tree) | with_import_bindings(change.words, new_tree)
        if skeleton.stubbed_names(text, model.stubs, set(changed)):
            # Only a name bound at module level can read differently in a body that did not change.
            module_level = bound_at_module_level(model.tree) | bound_at_module_level(new_tree)
            if skeleton.stubbed_names(text, model.stubs, set(changed & module_level)):
                return None
        compile(change.touched_part(new_tree), relpath, "exec", dont_inherit=True)
        after = verify.names_of(new_tree, relpath, new_text, change)
        before = verify.names_of(model.tree, relpath, text, change) if after.counts else after
        return skeleton.Skeleton(new_tree, stubs), before, after

    return check


def _moved_stubs(
    stubs: Sequence[skeleton.Stub], opcodes: Sequence[tuple[str, int, int, int, int]]
) -> tuple[skeleton.Stub, ...] | None:
    """`stubs` where their lines stand after a rewrite whose line diff is `opcodes`; None when a
    stub's lines are not all kept, in one run."""
    runs = [(i1 + 1, i2, j1 - i1) for tag, i1, i2, j1, _ in opcodes if tag == "equal"]  # 1-based first, last, shift
    moved: list[skeleton.Stub] = []
    for first, keyword_line, colon_line, last, column in stubs:
        shift = next((shift for start, end, shift in runs if start <= first and last <= end), None)
        if shift is None:
            return None
        moved.append((first + shift, keyword_line + shift, colon_line + shift, last + shift, column))
    return tuple(moved)


def _settled(fixed: list[Finding], planned: _Round, reason: str) -> tuple[Finding, ...]:
    """Fixes made so far, and the last round's findings, those it meant to fix now left for review."""
    applied = set(planned.applied)
    left = (
        msgspec.structs.replace(f, fixable=False, safety=None, reason=reason) if f in applied else f for f in planned.findings
    )
    return (*fixed, *left)


def _process_markdown(
    raw: bytes,
    decoded: SourceText,
    relpath: str,
    phase: str,
    rules: Sequence[Rule],
    settings: Settings,
    asked: list[tuple[str, str, bool | None]],
) -> FileResult:
    """Each Python fence is checked (and rewritten) on its own; a fence that does not parse is reported."""
    findings: list[Finding] = []
    problems: list[str] = []
    replacements: dict[int, str] = {}
    suppressed = 0
    fences = python_fences(decoded.text)
    for fence in fences:
        if not settings.screen.wants(fence.code.encode("utf-8", "surrogatepass")):
            continue
        if fence.shows_old_pattern and not settings.config.scan_old_fences:
            continue
        where = Pos(fence.first_line, len(fence.indent))
        try:
            outcome = _run_text(fence.code, relpath, phase, rules, settings, snippet_at=where, asked=asked)
        except SyntaxError as error:
            problems.append(f"the Python fence at line {fence.first_line - 1} does not parse, left as it is: {_syntax_message(error, fence.first_line - 1)}")
            continue
        findings.extend(outcome.findings)
        suppressed += outcome.suppressed
        if outcome.rejected:
            problems.append(f"the Python fence at line {fence.first_line - 1}: {outcome.rejected}")
        elif outcome.new_text is not None and outcome.new_text != fence.code:
            replacements[fence.start] = outcome.new_text
    new_text = replace_fences(decoded.text, fences, replacements) if replacements else None
    result = _result(raw, decoded, relpath, phase, tuple(findings), new_text, settings.want_diff)
    return msgspec.structs.replace(result, problems=tuple(problems), suppressed=suppressed)


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


def _analyze(
    text: str,
    relpath: str,
    index: LegacyIndex,
    snippet: bool = False,
    skeleton_ok: bool = False,
    tree: ast.Module | skeleton.Skeleton | None = None,
) -> ModuleModel:
    from migrator.analysis.visitor import analyze_module

    is_package = relpath.endswith("__init__.py")
    return analyze_module(
        text, module_name_of(relpath), is_package, index, snippet=snippet, skeleton_ok=skeleton_ok, tree=tree
    )


def _plan(
    model: ModuleModel,
    rules: Sequence[Rule],
    ctx: PlanContext,
    symbols: Mapping[str, frozenset[str]],
    held: Collection[tuple[int, str]] = (),
) -> list[tuple[Reference, Rule, Plan]]:
    """Plan every finding: uses first, then clean-ups (imports, getters) that depend on them.

    `held` findings (by reference id and rule) are neither planned nor returned: their uses stay
    as they are, which is what later plans see.
    """
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
            module = rule.transform or rule.reporter
            transform = transforms.TRANSFORMS[module] if module else None
            if transforms.stage_of(transform, ref) != stage:
                continue
            if held and (id(ref), rule.id) in held:
                ctx.state.plans[id(ref)] = HELD
                continue
            plan = transform.plan(ref, ctx, rule.params) if transform else Manual(rule.guidance or rule.summary)
            if plan is None:
                ctx.state.plans.setdefault(id(ref), NOT_A_FINDING)
                continue
            ctx.state.plans[id(ref)] = plan
            planned.append((ref, rule, plan))
    planned.sort(key=lambda item: (item[0].span.start, item[1].id))
    return planned


def _finding(item: Decided, relpath: str, phase: str, offset: Pos, codebase: CodebaseFacts) -> Finding:
    ref, rule, plan = item.ref, item.rule, item.plan
    start, end = ref.span.start, ref.span.end
    return Finding(
        path=relpath,
        line=start.line + offset.line - 1,
        column=start.col + 1 + offset.col,
        end_line=end.line + offset.line - 1,
        end_column=end.col + 1 + offset.col,
        rule=rule.id,
        phase=phase,
        message=rule.message + _fact_note(ref, codebase),
        fixable=isinstance(plan, Fix),
        reason=plan.reason if isinstance(plan, Manual) else None,
        safety=item.safety,
    )


def _suppression_finding(problem: Problem, relpath: str, phase: str, offset: Pos) -> Finding:
    line = problem.line + offset.line - 1
    columns = (problem.column + 1 + offset.col, problem.end_column + 1 + offset.col)
    return Finding(
        path=relpath, line=line, column=columns[0], end_line=line, end_column=columns[1],
        rule=SUPPRESSION_RULE, phase=phase, message=problem.message, fixable=False, reason=problem.reason,
    )


def _fact_note(ref: Reference, facts: CodebaseFacts) -> str:
    """What the codebase's facts add to a finding's message: a call that fails today."""
    if ref.kind != "call":
        return ""
    if ref.binding is None:
        return f"; nothing imports {ref.symbol} here, so this call is a NameError today"
    if facts.sharing(ref.symbol) == RAISES:
        return f"; {facts.evidence(ref.symbol)}"
    return ""


def _unified_diff(relpath: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{relpath}", f"b/{relpath}"
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def _syntax_message(error: SyntaxError, line_offset: int = 0) -> str:
    return f"line {error.lineno + line_offset}: {error.msg}" if error.lineno else str(error.msg)
