"""MIG008: `TriageSubAgent(llm_manager, tool_dispatcher)` becomes a factory-made agent for the user."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

from migrator.analysis.agents import is_test_module
from migrator.analysis.model import Reference
from migrator.transforms._context import find_user_context
from migrator.transforms._imports import import_edits
from migrator.transforms._receivers import awaited_call, needs_async
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan, ReplaceExpression

STAGE = "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan | None:
    """Plan one direct instantiation of an agent class (None: not a finding)."""
    parent = ref.parent
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and parent.func.attr == "register":
        return None  # an instance registration: MIG004's finding
    call = ref.node
    assert isinstance(call, ast.Call)
    if _sanctioned(ref, call, ctx):
        return None
    class_name = ref.symbol
    agent = ctx.project.agent(ref.qualname) if ctx.project else None
    if agent is None or agent.name is None:
        return Manual(
            f"{class_name} is registered under no name in the scanned tree; register it at start-up "
            f'(class_registry.register("<name>", {class_name}, "<description>")), then create it with '
            '`await factory.create_agent_instance("<name>", user_context)`'
        )
    not_async = needs_async(ref, f"creating {class_name}")
    if not_async is not None:
        return not_async
    choice = find_user_context(ref, ctx)
    if isinstance(choice, Manual):
        return choice
    code = f"create_agent_instance_factory({choice.expr}).create_agent_instance({json.dumps(agent.name)}, {choice.expr})"
    return Fix(
        (
            ReplaceExpression(ref.anchor, awaited_call(ref, code)),
            *import_edits(ctx, ["create_agent_instance_factory"]),
            *choice.edits,
        ),
        choice.safety,
    )


_CONTEXT_KEYWORDS = frozenset({"user_context", "context", "ctx", "execution_context"})


def _sanctioned(ref: Reference, call: ast.Call, ctx: PlanContext) -> bool:
    """Constructions that are no finding: a class defined in test code (a test double), a call
    that passes a context already, creation inside the factory itself, and in test code the unit
    under test built with mocks."""
    module = ref.qualname.rpartition(".")[0]
    if is_test_module(module):
        return True
    if any(k.arg in _CONTEXT_KEYWORDS for k in call.keywords):
        return True
    if any(isinstance(a, ast.Name) and a.id in (*_CONTEXT_KEYWORDS, *ctx.config.context_names) for a in call.args):
        return True
    if ctx.model.module_name == ctx.config.imports.get("create_agent_instance_factory"):
        return True
    if is_test_module(ctx.model.module_name) or ctx.phase == "2B":
        return any("mock" in ast.unparse(arg).lower() for arg in (*call.args, *(k.value for k in call.keywords)))
    return False
