"""MIG001: `get_agent_instance_factory()` becomes `create_agent_instance_factory(<user context>)`."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from migrator.analysis.facts import RAISES
from migrator.analysis.model import Reference
from migrator.analysis.visitor import resolve_expression
from migrator.transforms._context import find_user_context
from migrator.transforms._imports import import_edits
from migrator.transforms._test_shapes import old_api_test
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan, ReplaceCall

STAGE = "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan | None:
    """Plan the rewrite of one use of the deprecated getter.

    None for the definition of a getter that already raises: nothing is left to migrate in it.
    """
    replacement = str(params.get("replacement", "create_agent_instance_factory"))
    if ref.kind == "definition":
        if ctx.codebase.sharing(ref.symbol) == RAISES:
            return None
        return Manual(
            f"this module defines the deprecated {ref.symbol}(); keep it raising an error that names "
            f"{replacement}(user_context), and delete it once nothing calls it"
        )
    call = ref.call
    if call is None:
        return Manual(
            f"{ref.symbol} is used without being called (passed as a value, e.g. a dependency or callback); "
            f"pass a callable that takes the request's user context and calls {replacement}(user_context)"
        )
    if call.args or call.keywords:
        return Manual(f"called with arguments; {replacement}() takes only the user context")
    on_purpose = old_api_test(call, ref.scope.enclosing_function(), ref.symbol)
    if on_purpose is not None:
        return Manual(
            f"a test of the old API on purpose ({on_purpose}): rewriting it would invert the test; delete it, "
            f"or make it assert what replaces the getter ({replacement}(user_context), and the error the "
            f"getter raises now)"
        )
    choice = find_user_context(ref, ctx)
    if isinstance(choice, Manual):
        return choice
    if _base_is_target_module(ref, call, ctx, replacement):
        return Fix((ReplaceCall(ref.anchor, replacement, choice.expr, attribute_only=True), *choice.edits), choice.safety)
    edits = (ReplaceCall(ref.anchor, replacement, choice.expr), *import_edits(ctx, [replacement]), *choice.edits)
    return Fix(edits, choice.safety)


def _base_is_target_module(ref: Reference, call: ast.Call, ctx: PlanContext, replacement: str) -> bool:
    """`m.get_agent_instance_factory()` keeps its `m.` when `m` also provides the replacement."""
    if not isinstance(call.func, ast.Attribute):
        return False
    base, _ = resolve_expression(call.func.value, ref.scope, call.lineno)
    return base is not None and base == ctx.config.import_target(replacement)
