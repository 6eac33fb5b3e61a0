"""Where a rewritten call gets its user context from (DESIGN section 5, steps 1 to 5)."""

from __future__ import annotations

import ast
import dataclasses
import re

from migrator.analysis.model import Reference
from migrator.analysis.positions import name_position
from migrator.analysis.scopes import Scope
from migrator.project import FIXTURE_NAME
from migrator.transforms import _test_shapes as shapes
from migrator.transforms._imports import import_edits
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import (
    AddImport,
    AddModuleCode,
    AddParameter,
    Edit,
    InsertStatement,
    Manual,
)

_CONTEXT_TYPE = re.compile(r"\bUserExecutionContext\b")


@dataclasses.dataclass(frozen=True)
class ContextChoice:
    """An expression that denotes the user context, and the edits that make it exist."""

    expr: str
    edits: tuple[Edit, ...] = ()


def find_user_context(ref: Reference, ctx: PlanContext) -> ContextChoice | Manual:
    """Resolve the user context for `ref`, or explain why a person must choose it."""
    function = ref.scope.enclosing_function()
    if function is None:
        if ctx.phase == "2C":
            return _inline(ref, ctx, example=True)
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
    if ctx.phase == "2B":
        planned = _test_context(ref, ctx, function)
        if planned is not None:
            return planned
    if ctx.phase == "2C":
        return _inline(ref, ctx, example=True)
    return Manual(_no_context_reason(ref, function, ctx))


def context_in_scope(ref: Reference, ctx: PlanContext) -> str | None:
    """Step 1: a parameter typed UserExecutionContext, a local named like one, or self.user_context
    (set in the class, or inherited by an agent class from BaseAgent)."""
    for scope in ref.scope.chain():
        if scope.kind == "module":
            break
        for arg in scope.params():
            if arg.annotation is not None and _CONTEXT_TYPE.search(ast.unparse(arg.annotation)):
                return arg.arg
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
    if ctx.phase == "2B" and ref.scope.visible_local(FIXTURE_NAME, ref.stmt_line) is not None:
        return FIXTURE_NAME
    return None


def _identity_in_scope(ref: Reference) -> dict[str, str] | None:
    """Step 2: user_id and thread_id (and run_id when there is one) bound in the function."""
    found = {}
    for key in ("user_id", "thread_id", "run_id"):
        if ref.scope.visible_local(key, ref.stmt_line) is not None:
            found[key] = key
    if "user_id" in found and "thread_id" in found:
        return found
    return None


def _build_from_identity(ref: Reference, ctx: PlanContext, function: Scope, identity: dict[str, str]) -> ContextChoice:
    return _insert_context(ref, ctx, function, identity)


def _insert_context(
    ref: Reference, ctx: PlanContext, function: Scope, values: dict[str, str], extra: tuple[Edit, ...] = ()
) -> ContextChoice:
    """`user_context = UserExecutionContext.from_request_supervisor(...)` before the statement,
    remembered so that later uses in the same function reuse it."""
    name = ctx.config.context_names[0]
    code = _context_statement(ctx, ref, name, values)
    ctx.state.context_statements.append((function, ref.stmt_path, name))
    return ContextChoice(name, (InsertStatement(ref.anchor, code), *extra, *import_edits(ctx, ["UserExecutionContext"])))


def _test_context(ref: Reference, ctx: PlanContext, function: Scope) -> ContextChoice | Manual | None:
    """Step 3: a fixture parameter for pytest tests and fixtures, an inline context in TestCases."""
    for scope in ref.scope.chain():
        if scope.kind != "function":
            continue
        decorator = shapes.fixture_decorator(scope)
        if decorator is not None and scope.name == FIXTURE_NAME:
            return None
        if decorator is not None and shapes.fixture_scope(decorator) != "function":
            return Manual(
                f"fixture {scope.name!r} has scope={shapes.fixture_scope(decorator)!r}, so it cannot use the "
                f"function-scoped {FIXTURE_NAME} fixture; give it a user context of its own"
            )
        if decorator is not None or shapes.looks_like_pytest_test(scope):
            edits: list[Edit] = [*_fixture_definition(ctx)]
            if not shapes.has_param(scope, FIXTURE_NAME):
                edits.insert(0, AddParameter(name_position(scope.node, ctx.model.lines), FIXTURE_NAME))
            return ContextChoice(FIXTURE_NAME, tuple(edits))
        if shapes.is_testcase_method(scope):
            return _inline(ref, ctx, example=False)
    return None


def _fixture_definition(ctx: PlanContext) -> tuple[Edit, ...]:
    if FIXTURE_NAME in ctx.model.defined_functions or ctx.conftest_has_fixture:
        return ()
    unit = ctx.indent_unit
    code = (
        "@pytest.fixture\n"
        f"def {FIXTURE_NAME}():\n"
        f'{unit}"""A user context of its own for each test."""\n'
        f"{unit}return UserExecutionContext.from_request_supervisor(\n"
        f'{unit * 2}user_id="test_user",\n'
        f'{unit * 2}thread_id="test_thread",\n'
        f'{unit * 2}run_id=f"test_run_{{uuid.uuid4()}}",\n'
        f"{unit})\n"
    )
    return (AddModuleCode(code), AddImport("pytest"), AddImport("uuid"), *import_edits(ctx, ["UserExecutionContext"]))


def _inline(ref: Reference, ctx: PlanContext, *, example: bool) -> ContextChoice:
    """Steps 3 (unittest) and 4 (examples): build a literal context before the statement."""
    function = ref.scope.enclosing_function() or ref.scope
    if example:
        values = {"user_id": '"example_user"', "thread_id": '"example_thread"', "run_id": '"example_run"'}
        return _insert_context(ref, ctx, function, values)
    values = {"user_id": '"test_user"', "thread_id": '"test_thread"', "run_id": 'f"test_run_{uuid.uuid4()}"'}
    return _insert_context(ref, ctx, function, values, (AddImport("uuid"),))


def _context_statement(ctx: PlanContext, ref: Reference, name: str, values: dict[str, str]) -> str:
    # Continuation lines are relative: LibCST adds the enclosing block's indentation itself.
    unit = ctx.indent_unit
    lines = [f"{name} = UserExecutionContext.from_request_supervisor("]
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
