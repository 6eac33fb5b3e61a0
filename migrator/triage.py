"""Which planned findings of one piece of source are reported, and which of their fixes are written.

A suppressed finding is neither reported nor fixed; an unsafe fix is written only with
`unsafe_fixes`. Either way the use stays in the code, and what other findings planned may
depend on it: an import is removable only once its uses are rewritten, a later call may reuse
the context statement an earlier fix inserts. So such findings are held back *before*
planning, and the file is planned again until no newly unsafe fix appears: every written fix
was planned knowing which uses stay.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import msgspec

from migrator.analysis.model import Reference
from migrator.rules import Rule
from migrator.suppressions import SuppressionIndex
from migrator.transforms.edits import Fix, Manual, Plan

Planned = tuple[Reference, Rule, Plan]
Key = tuple[int, str]
# Plans the file's findings, leaving those whose key is in the set unplanned (held back).
PlanPass = Callable[[Collection[Key]], list[Planned]]

HELD = Manual("held back: suppressed, or its fix is unsafe and not applied")


class Decided(msgspec.Struct, frozen=True):
    """A finding to report: its plan, the safety of its fix (None when it has none) and whether it is written."""

    ref: Reference
    rule: Rule
    plan: Plan
    safety: str | None
    applied: bool


class Triage(msgspec.Struct, frozen=True):
    """The findings to report, how many were suppressed, and which suppression codes were used."""

    findings: tuple[Decided, ...]
    suppressed: int
    used: dict[int, frozenset[str]]


def key_of(ref: Reference, rule: Rule) -> Key:
    return (id(ref), rule.id)


def safety_of(plan: Plan, rule: Rule) -> str:
    """A fix is unsafe when its transform says so or its rule declares every fix unsafe."""
    return "unsafe" if getattr(plan, "safety", "safe") == "unsafe" or rule.fix_safety == "unsafe" else "safe"


def decide(plan_pass: PlanPass, suppressions: SuppressionIndex, unsafe_fixes: bool) -> Triage:
    """Plan, hold back the suppressed findings and (without `unsafe_fixes`) the unsafe fixes, plan again."""
    first = plan_pass(())
    used: dict[int, set[str]] = {}
    suppressed: set[Key] = set()
    if suppressions:
        for ref, rule, _ in first:
            covering = list(suppressions.covering(rule.id, ref.span.start.line, ref.stmt_line))
            for position in covering:
                used.setdefault(position, set()).add(rule.id)
            if covering:
                suppressed.add(key_of(ref, rule))
    visible = plan_pass(suppressed) if suppressed else first
    # What each finding's plan is once the suppressed uses stay: the world --unsafe-fixes writes.
    full = {key_of(ref, rule): plan for ref, rule, plan in visible}
    held = set(suppressed)
    unsafe: dict[Key, Planned] = {}
    planned = visible
    while not unsafe_fixes:
        fresh = [
            item for item in planned
            if isinstance(item[2], Fix) and safety_of(item[2], item[1]) == "unsafe" and key_of(item[0], item[1]) not in held
        ]
        if not fresh:
            break
        for item in fresh:
            unsafe[key_of(item[0], item[1])] = item
            held.add(key_of(item[0], item[1]))
        planned = plan_pass(held)
    decided = []
    for ref, rule, plan in planned:
        if isinstance(plan, Fix):
            decided.append(Decided(ref, rule, plan, safety_of(plan, rule), True))
        elif isinstance(full.get(key_of(ref, rule)), Fix):
            # Fixable once the unsafe fixes it depends on are written.
            decided.append(Decided(ref, rule, full[key_of(ref, rule)], "unsafe", False))
        else:
            decided.append(Decided(ref, rule, plan, None, False))
    decided.extend(Decided(ref, rule, plan, "unsafe", False) for ref, rule, plan in unsafe.values())
    decided.sort(key=lambda item: (item.ref.span.start, item.rule.id))
    return Triage(tuple(decided), len(suppressed), {position: frozenset(codes) for position, codes in used.items()})
