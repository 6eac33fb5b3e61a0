"""Where a rewritten call gets its user context from (DESIGN section 5, steps 1 to 5)."""

from __future__ import annotations

import ast
import re

import msgspec

from migrator.analysis.facts import Constructor
from migrator.analysis.model import Reference
from migrator.analysis.scopes import Scope
from migrator.project import FIXTURE_NAME
from migrator.transforms._context_flow import Flow, is_collection_of_context
from migrator.transforms._imports import import_edits
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import (
    AddImport,
    Edit,
    InsertStatement,
    Manual,
)

_CONTEXT_TYPE = re.compile(r"\bUserExecutionContext\b")
IDENTITY_KEYS = ("user_id", "thread_id", "run_id")
SUPERVISOR_CONSTRUCTOR = "from_request_supervisor"


class ContextChoice(msgspec.Struct, frozen=True):
    """An expression that denotes the user context, and the edits that make it exist.

    `safety` is "unsafe" when the context is built from guessed values (invented identities):
    the rewrite then needs a person to look.
    """

    expr: str
    edits: tuple[Edit, ...] = ()
    safety: str = "safe"


def find_user_context(ref: Reference, ctx: PlanContext) -> ContextChoice | Manual:
    """Resolve the user context for `ref`, or explain why a person must choose it."""
    function = ref.scope.enclosing_function()
    if function is None:
        if ctx.phase == "2C":
            return inline_context(ref, ctx)
        where = "a class body" if ref.scope.kind == "class" else "module level"
        return Manual(
            f"called at {where}, at import time: a per-request factory needs a user context, which does "
            "not exist before a request; create the factory inside the function that handles the request"
        )
    found = context_in_scope(ref, ctx)
    if found is not None:
        return ContextChoice(found)
    earlier = ctx.state.dominating_context(function, ref.stmt_path)
    if earlier is not None:
        return ContextChoice(earlier)
    identity = _identity_in_scope(ref)
    if identity is not None:
        return _build_from_identity(ref, ctx, function, identity)
    from_request = _from_request(ref, ctx, function)
    if from_request is not None:
        return from_request
    if ctx.phase == "2B":
        from migrator.transforms._context_tests import test_context

        planned = test_context(ref, ctx, function)
        if planned is not None:
            return planned
    if ctx.phase == "2C":
        return inline_context(ref, ctx)
    return Manual(_no_context_reason(ref, function, ctx))


def context_in_scope(ref: Reference, ctx: PlanContext) -> str | None:
    """Step 1: a parameter typed UserExecutionContext, a local named like one, or self.user_context
    (set in the class, or inherited by an agent class from BaseAgent)."""
    for scope in ref.scope.chain():
        if scope.kind == "module":
            break
        for arg in scope.params():
            if arg.annotation is not None and _CONTEXT_TYPE.search(ast.unparse(arg.annotation)):
                if not is_collection_of_context(arg.annotation):
                    return arg.arg
    flow = Flow(ref, ctx)
    found = flow.context_name()
    if found is not None:
        return found
    for name in ctx.config.context_names:
        if ref.scope.visible_local(name, ref.stmt_line) is not None:
            return name
    for scope in ref.scope.chain():
        if scope.kind != "function":
            continue
        self_name, owner = scope.self_name(), scope.owner_class
        if self_name and owner is not None:
            for name in ctx.config.context_names:
                if name in owner.self_attrs:
                    return f"{self_name}.{name}"
            if ctx.is_agent_class(owner):
                return f"{self_name}.user_context"
            attribute = flow.self_attribute(scope)
            if attribute is not None:
                return attribute
    if ctx.phase == "2B" and ref.scope.visible_local(FIXTURE_NAME, ref.stmt_line) is not None:
        return FIXTURE_NAME
    return None


def _identity_in_scope(ref: Reference) -> dict[str, str] | None:
    """Step 2: user_id and thread_id (and run_id when there is one) bound in the function,
    or set on `self` in the class."""
    found = {}
    function = ref.scope.enclosing_function()
    owner = function.owner_class if function is not None else None
    self_name = function.self_name() if function is not None else None
    for key in IDENTITY_KEYS:
        if ref.scope.visible_local(key, ref.stmt_line) is not None:
            found[key] = key
        elif owner is not None and self_name and key in owner.self_attrs:
            found[key] = f"{self_name}.{key}"
    if "user_id" in found and "thread_id" in found:
        return found
    return None


def _build_from_identity(ref: Reference, ctx: PlanContext, function: Scope, identity: dict[str, str]) -> ContextChoice | Manual:
    return _insert_context(ref, ctx, function, identity)


def _insert_context(
    ref: Reference, ctx: PlanContext, function: Scope, values: dict[str, str], extra: tuple[Edit, ...] = (), safety: str = "safe"
) -> ContextChoice | Manual:
    """`user_context = UserExecutionContext.from_request_supervisor(...)` before the statement,
    with every argument the codebase's constructor requires, remembered so that later uses in
    the same function reuse it. A required identity missing from scope is invented (unique,
    accepted by the validator) and makes the fix unsafe."""
    constructor = constructor_of(ctx)
    required = constructor.required if constructor is not None else ("user_id", "thread_id")
    unknown = [name for name in required if name not in values and name not in IDENTITY_KEYS]
    if unknown:
        call = constructor_call(constructor)
        return Manual(f"{call}() requires {', '.join(unknown)}, which nothing in scope provides; build the context by hand")
    values = dict(values)
    invented: list[Edit] = []
    for name in required:
        if name not in values:
            value = invented_identity(ctx, name)
            if value is None:
                return Manual(f"the context validator rejects every identity the tool could invent for {name}; pass a real one")
            values[name] = value
            invented = [AddImport("uuid")]
            safety = "unsafe"
    name = ctx.config.context_names[0]
    code = _context_statement(ctx, name, values, constructor)
    ctx.state.context_statements.append((function, ref.stmt_path, name))
    edits = (InsertStatement(ref.anchor, code), *extra, *invented, *import_edits(ctx, ["UserExecutionContext"]))
    return ContextChoice(name, edits, safety)


def _from_request(ref: Reference, ctx: PlanContext, function: Scope) -> ContextChoice | None:
    """`user_context = UserExecutionContext.<from_request>(request)`: the codebase's own
    constructor that takes nothing but the request object in scope."""
    for constructor in ctx.codebase.context.constructors.values():
        if not constructor.name or len(constructor.required) != 1:
            continue
        (param,) = constructor.required
        if param in IDENTITY_KEYS or ref.scope.visible_local(param, ref.stmt_line) is None:
            continue
        name = ctx.config.context_names[0]
        code = f"{name} = UserExecutionContext.{constructor.name}({param})\n"
        ctx.state.context_statements.append((function, ref.stmt_path, name))
        return ContextChoice(name, (InsertStatement(ref.anchor, code), *import_edits(ctx, ["UserExecutionContext"])))
    return None


def constructor_of(ctx: PlanContext) -> Constructor | None:
    context_type = ctx.codebase.context
    return context_type.constructor(SUPERVISOR_CONSTRUCTOR) or context_type.constructor("")


def constructor_call(constructor: Constructor | None) -> str:
    if constructor is None or not constructor.name:
        return "UserExecutionContext"
    return f"UserExecutionContext.{constructor.name}"


def invented_identity(ctx: PlanContext, field: str) -> str | None:
    """A unique identity for `field` that the codebase's validator accepts (never a placeholder)."""
    stem = field.removesuffix("_id")
    for prefix in (f"{stem}-", f"{stem}", "id-"):
        if ctx.codebase.context.accepts(prefix + "0"):
            return f'f"{prefix}{{uuid.uuid4().hex}}"'
    return None


def fields_of(constructor: Constructor | None) -> tuple[str, ...]:
    """The identities a built context gets: user_id, thread_id and whatever else the constructor
    requires (a run_id it can generate itself is left to it)."""
    if constructor is None:
        return IDENTITY_KEYS
    return tuple(dict.fromkeys(["user_id", "thread_id", *constructor.required]))


def inline_context(ref: Reference, ctx: PlanContext) -> ContextChoice | Manual:
    """Steps 3 (unittest) and 4 (examples): a context with invented, unique identities that the
    codebase's validator accepts, before the statement, or those the factory is then used with.
    Unsafe: the identities are guesses."""
    function = ref.scope.enclosing_function() or ref.scope
    used = identities_used_later(ref, ctx, function)
    values = {}
    for key in fields_of(constructor_of(ctx)):
        value = used.get(key) or invented_identity(ctx, key)
        if value is None:
            return Manual(f"the context validator rejects every identity the tool could invent for {key}; pass a real one")
        values[key] = value
    invented = (AddImport("uuid"),) if any(key not in used for key in values) else ()
    return _insert_context(ref, ctx, function, values, invented, safety="unsafe")


def identities_used_later(ref: Reference, ctx: PlanContext, function: Scope) -> dict[str, str]:
    """The identities the factory is then used with, when the code says: the keyword arguments
    of a later `.user_execution_scope(user_id=..., thread_id=...)` call in the same function, if
    literal values the codebase's validator accepts. A context for other identities would be
    refused by that scope."""
    found: dict[str, str] = {}
    for node in ast.walk(function.node):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "user_execution_scope" or node.lineno < ref.stmt_line:
            continue
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg in ("user_id", "thread_id", "run_id") and isinstance(value, ast.Constant):
                if isinstance(value.value, str) and ctx.codebase.context.accepts(value.value):
                    found.setdefault(keyword.arg, ctx.model.segment(value))
        break
    return found


def _context_statement(ctx: PlanContext, name: str, values: dict[str, str], constructor: Constructor | None) -> str:
    # Continuation lines are relative: LibCST adds the enclosing block's indentation itself.
    unit = ctx.indent_unit
    lines = [f"{name} = {constructor_call(constructor)}("]
    lines += [f"{unit}{key}={value}," for key, value in values.items()]
    lines.append(")")
    return "\n".join(lines) + "\n"


def _no_context_reason(ref: Reference, function: Scope, ctx: PlanContext) -> str:
    has = [key for key in ("user_id", "thread_id") if ref.scope.visible_local(key, ref.stmt_line) is not None]
    names = " or ".join(f"`{n}`" for n in ctx.config.context_names)
    label = f"function `{function.name}`" if function.kind == "function" else "this lambda"
    if has:
        missing = "thread_id" if has == ["user_id"] else "user_id"
        return (
            f"{label} has `{has[0]}` but no `{missing}` in scope, so no user context can be built; "
            f"pass a UserExecutionContext (or {names}) into it"
        )
    if ctx.phase == "2B":
        return (
            f"{label} is neither a pytest test nor a fixture nor a TestCase method and has no user context "
            f"in scope; take a {names} parameter and pass the test's context in"
        )
    return (
        f"no user context in scope: {label} has no UserExecutionContext parameter, no {names}, "
        f"and no user_id and thread_id; pass the request's UserExecutionContext into it"
    )
