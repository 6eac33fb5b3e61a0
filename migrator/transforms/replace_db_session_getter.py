"""MIG007: a global DB session getter becomes the request-scoped `user_context.db_session`."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms._context import context_in_scope
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan, ReplaceExpression

STAGE = "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan:
    if ref.kind == "definition":
        return Manual(f"this module defines the global session getter {ref.symbol}(); delete it once nothing calls it")
    if ref.kind == "reference":
        return Manual(
            f"{ref.symbol} is used without being called (e.g. as a dependency); hand the request's "
            "user_context.db_session to the code instead"
        )
    call = ref.node
    assert isinstance(call, ast.Call)
    if call.args or call.keywords:
        return Manual(f"{ref.symbol}() is called with arguments; the request-scoped session takes none")
    if isinstance(ref.parent, (ast.withitem, ast.Await)):
        how = "awaited" if isinstance(ref.parent, ast.Await) else "used as a context manager"
        return Manual(
            f"{ref.symbol}() is {how}; the request-scoped session is opened and closed by its scope, "
            "so use user_context.db_session directly without opening or closing it"
        )
    context = context_in_scope(ref, ctx)
    if context is None:
        return Manual(
            "no user context in scope: the request-scoped session lives on the request's UserExecutionContext; "
            "take a user_context parameter and use user_context.db_session"
        )
    context_type = ctx.codebase.context
    if context_type.source == "runtime":
        # The shipped runtime opens and closes a session per request scope.
        return Fix((ReplaceExpression(ref.anchor, f"{context}.db_session"),))
    fields = {name for constructor in context_type.constructors.values() for name in constructor.accepted}
    if "db_session" not in fields:
        return Manual(
            "this codebase's UserExecutionContext has no db_session; open a session per request "
            "(a dependency such as a generator getter) and pass it in"
        )
    # The codebase's own context has a db_session field, but nothing says every request sets it.
    return Fix((ReplaceExpression(ref.anchor, f"{context}.db_session"),), safety="unsafe")
