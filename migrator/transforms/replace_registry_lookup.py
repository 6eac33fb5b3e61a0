"""MIG005: `registry.get("triage")` on the singleton becomes a fresh agent from a per-request factory."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms._context import find_user_context
from migrator.transforms._imports import import_edits
from migrator.transforms._receivers import (
    awaited_call,
    needs_async,
    plan_getter_cleanup,
)
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan, ReplaceExpression

STAGE = "use"


def stage(ref: Reference) -> str:
    """Look-ups first; the getter that made the registry is cleaned up after them."""
    return "use" if ref.kind == "method" else "cleanup"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan | None:
    """Plan a look-up without a context on a shared registry (None for one that passes a context)."""
    if ref.kind == "method" and _passes_context(ref.node):
        return None
    if ref.kind == "definition":
        return Manual(f"this module defines the legacy {ref.symbol}(); delete it once nothing calls it")
    if ref.kind == "reference":
        return Manual(f"{ref.symbol} is used without being called; pass the request's user context instead")
    if ref.kind == "call":
        return plan_getter_cleanup(ref, ctx, f"{ref.symbol}()")
    call = ref.node
    assert isinstance(call, ast.Call)
    if len(call.args) != 1 or call.keywords:
        return Manual("get() is called with other arguments than one agent name")
    not_async = needs_async(ref, "creating the agent")
    if not_async is not None:
        return not_async
    choice = find_user_context(ref, ctx)
    if isinstance(choice, Manual):
        return choice
    name = ctx.model.segment(call.args[0])
    code = f"create_agent_instance_factory({choice.expr}).create_agent_instance({name}, {choice.expr})"
    return Fix(
        (
            ReplaceExpression(ref.anchor, awaited_call(ref, code)),
            *import_edits(ctx, ["create_agent_instance_factory"]),
            *choice.edits,
        ),
        choice.safety,
    )


def _passes_context(call: ast.AST) -> bool:
    """`registry.get("triage", user_context)`: the look-up builds an agent for that context."""
    assert isinstance(call, ast.Call)
    return len(call.args) >= 2 or any(k.arg in ("context", "user_context") for k in call.keywords)
