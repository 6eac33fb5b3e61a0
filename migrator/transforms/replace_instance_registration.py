"""MIG004: `registry.register("triage", TriageSubAgent(...))` registers the class instead."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms._startup import construction_of, startup_plan
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan

STAGE = "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan:
    """Plan one instance registration on the singleton registry."""
    call = ref.node
    assert isinstance(call, ast.Call)
    target = _suggestion(call, ctx)
    construction = construction_of(ref, ctx)
    if construction is None:
        return Manual(
            "registers an agent instance on a registry made elsewhere; register the class once at start-up "
            f"instead: {target}, then class_registry.freeze()"
        )
    startup = startup_plan(construction, ctx)
    if startup.problem:
        return Manual(startup.problem)
    return Fix(startup.all_edits())


def _suggestion(call: ast.Call, ctx: PlanContext) -> str:
    if len(call.args) == 2 and isinstance(call.args[1], ast.Call):
        name = ctx.model.segment(call.args[0])
        cls = ctx.model.segment(call.args[1].func)
        return f'get_agent_class_registry().register({name}, {cls}, {json.dumps(cls + " agent")})'
    return 'get_agent_class_registry().register("<name>", <AgentClass>, "<description>")'
