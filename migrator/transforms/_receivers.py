"""Shared decisions about legacy objects: when a getter's result is dead, how to await a call."""

from __future__ import annotations

import ast

from migrator.analysis.model import Reference
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan, ReplaceStatement


def plan_getter_cleanup(ref: Reference, ctx: PlanContext, what: str) -> Plan:
    """The call that creates a legacy object goes once every use of that object is rewritten.

    A call used directly as a receiver goes with the rewritten call around it; an assignment
    `x = getter()` (or `self.x = getter()`) is deleted when nothing else uses `x`.
    """
    receivers = ctx.model.receivers
    parent = ref.parent
    if isinstance(parent, ast.Attribute):
        outer = [r for r in ctx.model.references if r.kind == "method" and r.receiver == ("call", id(ref.node))]
        if outer and all(isinstance(ctx.plan_of(r), Fix) for r in outer):
            return Fix(())
        return Manual(f"{what} is used directly on line {ref.span.start.line} in a way that needs manual review")
    key = receivers.created_by.get(id(ref.node)) if receivers else None
    statement = ref.stmt
    if key is None or not isinstance(statement, (ast.Assign, ast.AnnAssign)) or statement.value is not ref.node:
        return Manual(
            f"{what} is used on line {ref.span.start.line} where its result is not simply assigned; "
            "replace that use with the request's user context"
        )
    pending = [use for use in ctx.model.uses_of_receiver(key) if not isinstance(ctx.plan_of(use), Fix)]
    if pending or _other_uses(ctx, key):
        lines = ", ".join(str(use.span.start.line) for use in pending[:5]) or "elsewhere"
        return Manual(
            f"the object from {what} is still used (line {lines}); remove this assignment once every "
            "use goes through the user context"
        )
    return Fix((ReplaceStatement(ref.anchor, ""),))


def _other_uses(ctx: PlanContext, key: tuple) -> bool:
    """Whether the variable a getter filled is used other than as a receiver of known methods.

    A local is looked for in its own scope; a `self.` attribute anywhere in the module.
    """
    kind, _, name = key
    known = {id(r.node.func.value) for r in ctx.model.uses_of_receiver(key)}
    where = _scope_node(ctx, key) if kind == "local" else ctx.model.tree
    for node in ast.walk(where):
        if id(node) in known or not isinstance(getattr(node, "ctx", None), ast.Load):
            continue
        if (kind == "local" and isinstance(node, ast.Name) and node.id == name) or (
            kind != "local" and isinstance(node, ast.Attribute) and node.attr == name
        ):
            return True
    return False


def _scope_node(ctx: PlanContext, key: tuple) -> ast.AST:
    scope = ctx.model.receivers.scopes.get(key)
    return scope.node if scope is not None else ctx.model.tree


def awaited_call(ref: Reference, code: str) -> str:
    """`await <code>`, parenthesised where the surrounding expression needs it."""
    parent = ref.parent
    if isinstance(parent, ast.Await):
        return code
    if isinstance(parent, (ast.Attribute, ast.Subscript)) or (isinstance(parent, ast.Call) and parent.func is ref.node):
        return f"(await {code})"
    return f"await {code}"


def needs_async(ref: Reference, action: str) -> Manual | None:
    """A Manual when `ref` sits outside an async function (an `await` cannot go there)."""
    function = ref.scope.enclosing_function()
    if function is None:
        return Manual(f"at import time: {action} needs a user context and an `await`; do it inside a request handler")
    if not function.is_async:
        return Manual(
            f"in the sync function `{function.name}`: {action} is a coroutine (`await factory.create_agent_instance(...)`); "
            "make the function async or pass the agent in"
        )
    return None
