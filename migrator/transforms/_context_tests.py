"""Where a test gets its user context: the codebase's context fixture for pytest tests and
fixtures (or one of our own, with invented identities), its context helper in TestCases."""

from __future__ import annotations

from migrator.analysis.model import Reference
from migrator.analysis.positions import name_position
from migrator.analysis.scopes import Scope
from migrator.project import FIXTURE_NAME
from migrator.transforms import _test_shapes as shapes
from migrator.transforms._context import (
    ContextChoice,
    constructor_call,
    constructor_of,
    fields_of,
    inline_context,
    invented_identity,
)
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


def test_context(ref: Reference, ctx: PlanContext, function: Scope) -> ContextChoice | Manual | None:
    """Step 3: the codebase's context fixture (or one of our own) for pytest tests and fixtures;
    the codebase's context helper (or an invented context) in TestCases."""
    for scope in ref.scope.chain():
        if scope.kind != "function":
            continue
        decorator = shapes.fixture_decorator(scope)
        fixture = _fixture_name(ctx)
        if decorator is not None and scope.name == fixture:
            return None
        if decorator is not None and shapes.fixture_scope(decorator) != "function":
            return Manual(
                f"fixture {scope.name!r} has scope={shapes.fixture_scope(decorator)!r}, so it cannot use the "
                f"function-scoped {fixture} fixture; give it a user context of its own"
            )
        if decorator is not None or shapes.looks_like_pytest_test(scope):
            own = fixture != FIXTURE_NAME
            edits: list[Edit] = [] if own else [*_fixture_definition(ctx)]
            if not shapes.has_param(scope, fixture):
                edits.insert(0, AddParameter(name_position(scope.node, ctx.model.lines), fixture))
            return ContextChoice(fixture, tuple(edits), "safe" if own or FIXTURE_NAME in ctx.model.defined_functions or ctx.conftest_has_fixture else "unsafe")
        if shapes.is_testcase_method(scope):
            return _from_helper(ref, ctx, function) or inline_context(ref, ctx)
    return None


def _fixture_name(ctx: PlanContext) -> str:
    """The codebase's own context fixture visible here (a conftest's, or this module's), else ours."""
    own = [s for s in ctx.codebase.sources if s.kind == "fixture" and s.module == ctx.model.module_name]
    if own:
        return own[0].name
    found = ctx.codebase.fixture_for(ctx.relpath)
    return found.name if found is not None else FIXTURE_NAME


def _from_helper(ref: Reference, ctx: PlanContext, function: Scope) -> ContextChoice | None:
    """`user_context = create_test_user_context()`: the test suite's own helper, imported where needed."""
    helper = ctx.codebase.test_helper()
    if helper is None:
        return None
    name = ctx.config.context_names[0]
    ctx.state.context_statements.append((function, ref.stmt_path, name))
    edits: list[Edit] = [InsertStatement(ref.anchor, f"{name} = {helper.name}()\n")]
    bound = ctx.model.module_scope.bindings.get(helper.name, ())
    if not any(b.kind in ("from", "import", "def") for b in bound):
        edits.append(AddImport(helper.module, helper.name))
    return ContextChoice(name, tuple(edits))


def _fixture_definition(ctx: PlanContext) -> tuple[Edit, ...]:
    if FIXTURE_NAME in ctx.model.defined_functions or ctx.conftest_has_fixture:
        return ()
    unit = ctx.indent_unit
    constructor = constructor_of(ctx)
    values = {key: invented_identity(ctx, key) or f'f"{key}-{{uuid.uuid4().hex}}"' for key in fields_of(constructor)}
    lines = [f"{unit * 2}{key}={value}," for key, value in values.items()]
    code = (
        "@pytest.fixture\n"
        f"def {FIXTURE_NAME}():\n"
        f'{unit}"""A user context of its own for each test."""\n'
        f"{unit}return {constructor_call(constructor)}(\n" + "\n".join(lines) + f"\n{unit})\n"
    )
    return (AddModuleCode(code), AddImport("pytest"), AddImport("uuid"), *import_edits(ctx, ["UserExecutionContext"]))
