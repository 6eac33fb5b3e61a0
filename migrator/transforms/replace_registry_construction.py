"""MIG003: the singleton `AgentRegistry(...)` start-up becomes class registrations, a freeze and
`configure_agent_instance_factory(...)`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms._startup import STEPS, construction_of, startup_plan
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan

STAGE = "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan:
    """Plan the construction, or its `register_default_agents()` / `set_websocket_bridge()` calls."""
    if ref.kind == "definition":
        return Manual(f"this module defines the legacy {ref.symbol}; delete it once no module constructs it")
    if ref.kind == "reference":
        return Manual(f"{ref.symbol} is used without being constructed here (e.g. as a type or a value); {STEPS}")
    construction = ref.node if ref.kind == "call" else construction_of(ref, ctx)
    if construction is None:
        return Manual(f"{ref.symbol.partition('.')[2]}() is called on a registry made elsewhere; {STEPS}")
    startup = startup_plan(construction, ctx)
    if startup.problem:
        return Manual(startup.problem)
    return Fix(startup.all_edits())
