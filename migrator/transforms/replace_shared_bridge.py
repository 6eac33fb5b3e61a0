"""MIG006: events sent through the shared bridge go through the user-bound emitter instead."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms._context import context_in_scope
from migrator.transforms._receivers import plan_getter_cleanup
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan, ReplaceCall

STAGE = "use"
_GETTERS = ("registry.get_websocket_bridge",)


def stage(ref: Reference) -> str:
    """Event calls first; the bridge getters are cleaned up after them."""
    return "cleanup" if ref.kind == "call" or ref.symbol in _GETTERS else "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan:
    if ref.kind == "definition":
        return Manual(f"this module defines the shared bridge getter {ref.symbol}(); delete it once nothing calls it")
    if ref.kind == "reference":
        return Manual(f"{ref.symbol} is used without being called; pass the request's user context instead")
    if ref.kind == "call" or ref.symbol in _GETTERS:
        return plan_getter_cleanup(ref, ctx, f"{ref.symbol.rpartition('.')[2]}()")
    call = ref.node
    assert isinstance(call, ast.Call)
    method = ref.symbol.rpartition(".")[2]
    if not call.args:
        return Manual(f"{method}() is called without the run id as its first argument; review its arguments")
    rest = [ctx.model.segment(arg) for arg in call.args[1:]]
    rest += [ctx.model.segment(keyword) for keyword in call.keywords if keyword.arg != "run_id"]
    function = ref.scope.enclosing_function()
    owner = function.owner_class if function else None
    self_name = function.self_name() if function else None
    if self_name and ctx.is_agent_class(owner):
        if method == "notify_agent_started" and len(call.args) == 3 and not call.keywords:
            event = method.removeprefix("notify_")
            return Fix((ReplaceCall(ref.anchor, f"{self_name}.notify_event", f'"{event}", {rest[1]}'),))
        return Fix((ReplaceCall(ref.anchor, f"{self_name}.websocket_emitter.{method}", ", ".join(rest)),))
    context = context_in_scope(ref, ctx)
    if context is None:
        return Manual(
            f"no user context in scope for {method}(): events must go through the emitter of the request's "
            "UserExecutionContext (user_context.websocket_emitter); pass the context in"
        )
    return Fix((ReplaceCall(ref.anchor, f"{context}.websocket_emitter.{method}", ", ".join(rest)),))
