"""MIG003: the singleton `AgentRegistry(...)` start-up becomes class registrations, a freeze and
`configure_agent_instance_factory(...)`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrator.analysis.facts import PER_USER
from migrator.analysis.model import Reference
from migrator.transforms._lifetime import outlives_request
from migrator.transforms._startup import STEPS, construction_of, startup_plan
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan

STAGE = "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan | None:
    """Plan the construction, or its `register_default_agents()` / `set_websocket_bridge()` calls.

    None (not a finding) for uses that build nothing (annotations, isinstance, specs, base
    classes, introspection) and, for a registry the tree defines per user, for every
    construction that does not outlive its request.
    """
    facts = ctx.codebase
    if ref.kind == "reference":
        return None
    if ref.kind != "method" and facts.sharing(ref.symbol) == PER_USER:
        return _per_user(ref, ctx)
    if ref.kind == "definition":
        return Manual(f"this module defines the legacy {ref.symbol}; delete it once no module constructs it")
    construction = ref.node if ref.kind == "call" else construction_of(ref, ctx)
    if construction is None:
        return Manual(f"{ref.symbol.partition('.')[2]}() is called on a registry made elsewhere; {STEPS}")
    startup = startup_plan(construction, ctx)
    if startup.problem:
        return Manual(startup.problem)
    return Fix(startup.all_edits())


def _per_user(ref: Reference, ctx: PlanContext) -> Plan | None:
    if ref.kind != "call":
        return None
    kept = outlives_request(ref)
    if kept is None:
        return None
    return Manual(
        f"{ref.symbol} keeps per-user sessions by its own definition ({ctx.codebase.evidence(ref.symbol)}), "
        f"but this one is {kept}; build a registry per request or per user where it is used, "
        "or register agent classes on get_agent_class_registry() at start-up"
    )
