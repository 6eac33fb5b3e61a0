"""The start-up block of the singleton registry, seen whole.

    registry = AgentRegistry(llm_manager, tool_dispatcher)
    registry.register_default_agents()
    registry.register("triage", TriageSubAgent(llm_manager, tool_dispatcher))
    registry.set_websocket_bridge(websocket_bridge)

becomes class registrations on `get_agent_class_registry()`, `freeze()` after the last one,
and `await configure_agent_instance_factory(websocket_bridge=...)`. MIG003 and MIG004 each
rewrite their own statements from this one plan, so they can never disagree.
"""

from __future__ import annotations

import ast
import json

import msgspec

from migrator.analysis.model import Pos, Reference
from migrator.analysis.positions import Columns
from migrator.analysis.scopes import resolve_expression
from migrator.transforms._imports import import_edits
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import AddImport, Edit, ReplaceStatement

CLASS_REGISTRY = "class_registry"
STEPS = (
    "replace it at start-up with: class_registry = get_agent_class_registry(); "
    'class_registry.register("<name>", <AgentClass>, "<description>") for each agent; '
    "class_registry.freeze(); await configure_agent_instance_factory(websocket_bridge=..., websocket_manager=...)"
)
_METHODS = ("register_default_agents", "set_websocket_bridge", "register")


class StartupPlan(msgspec.Struct):
    """New code per statement of the block (keyed by statement line), or why there is none.

    Every finding of the block carries all of its edits, so choosing any one of the rules
    (`--rule`) still rewrites the block whole, never half.
    """

    code: dict[int, str] = msgspec.field(default_factory=dict)
    anchors: dict[int, object] = msgspec.field(default_factory=dict)
    edits: list[Edit] = msgspec.field(default_factory=list)
    problem: str | None = None

    def all_edits(self) -> tuple[Edit, ...]:
        statements = [ReplaceStatement(self.anchors[line], code) for line, code in sorted(self.code.items())]
        return (*statements, *self.edits)


def startup_plan(construction: ast.Call, ctx: PlanContext) -> StartupPlan:
    """The rewrite of the block around one `AgentRegistry(...)` construction (cached per file)."""
    cache = ctx.state.cache.setdefault("startup", {})
    if id(construction) not in cache:
        cache[id(construction)] = _plan(construction, ctx)
    return cache[id(construction)]


def construction_of(ref: Reference, ctx: PlanContext) -> ast.Call | None:
    """The `AgentRegistry(...)` call that made the receiver of a method call, if in this file."""
    receivers = ctx.model.receivers
    for call_id, key in receivers.created_by.items():
        if key == ref.receiver:
            for candidate in ctx.model.references:
                if candidate.kind == "call" and id(candidate.node) == call_id and candidate.symbol == "AgentRegistry":
                    return candidate.node
    return None


def _plan(construction: ast.Call, ctx: PlanContext) -> StartupPlan:
    if ctx.phase == "2B":
        return StartupPlan(
            problem=(
                "in test code: the rewrite would register on and freeze the process-wide class registry "
                "(get_agent_class_registry()) for every later test; build a fresh AgentClassRegistry() in "
                "the test, register the classes it needs on it, and pass it in"
            )
        )
    ref = next(r for r in ctx.model.references if r.node is construction)
    statement = ref.stmt
    if not (
        isinstance(statement, ast.Assign)
        and statement.value is construction
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return StartupPlan(problem=f"the registry is not assigned to a plain name here; {STEPS}")
    var = statement.targets[0].id
    block = ctx.model.block_of(ref)
    assert block is not None
    stmts, index = block
    calls: list[tuple[ast.stmt, str, ast.Call]] = []
    for later in stmts[index + 1 :]:
        if not any(isinstance(n, ast.Name) and n.id == var for n in ast.walk(later)):
            continue
        call = later.value if isinstance(later, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == var
            and call.func.attr in _METHODS
            and not any(isinstance(n, ast.Name) and n.id == var for a in call.args for n in ast.walk(a))
        ):
            calls.append((later, call.func.attr, call))
        else:
            return StartupPlan(problem=f"the registry object is also used on line {later.lineno}; {STEPS}")
    scope_node = ref.scope.node
    counted = {id(c.func.value) for _, _, c in calls}
    for node in ast.walk(scope_node):
        if isinstance(node, ast.Name) and node.id == var and isinstance(node.ctx, ast.Load) and id(node) not in counted:
            return StartupPlan(problem=f"the registry object is also used on line {node.lineno}; {STEPS}")
    return _build(ref, ctx, statement, calls)


def _build(ref: Reference, ctx: PlanContext, statement: ast.Assign, calls: list) -> StartupPlan:
    plan = StartupPlan()
    plan.code[statement.lineno] = f"{CLASS_REGISTRY} = get_agent_class_registry()\n"
    plan.anchors[statement.lineno] = ref.anchor
    for stmt, _, call in calls:
        plan.anchors[stmt.lineno] = _position(ctx, call.func)
    plan.edits += import_edits(ctx, ["get_agent_class_registry"])
    dependencies = _dependencies([statement.value, *(c.args[1] for _, m, c in calls if m == "register" and len(c.args) == 2)])
    if dependencies is None:
        return StartupPlan(
            problem="the agents get dependencies that are not plain names; pass them by constructor parameter name "
            f"with configure_agent_instance_factory(agent_dependencies={{...}}); {STEPS}"
        )
    last_registration = statement.lineno
    bridge_line: int | None = None
    arguments: list[str] = []
    for stmt, method, call in calls:
        if method == "register_default_agents":
            defaults = ctx.project.default_agents if ctx.project else ()
            if not defaults:
                return StartupPlan(
                    problem="the default agents are not visible in the scanned tree (no register_default_agents() "
                    f"body registers any); {STEPS}"
                )
            lines = []
            for name, qualname in defaults:
                module, _, class_name = qualname.rpartition(".")
                lines.append(_registration(ctx, name, class_name, qualname))
                if class_name not in ctx.model.module_scope.bindings:
                    plan.edits.append(AddImport(module, class_name))
            plan.code[stmt.lineno] = "".join(lines)
            last_registration = stmt.lineno
        elif method == "register":
            line = _instance_registration(call, ref, ctx)
            if line is None:
                return StartupPlan(
                    problem=f"the registration on line {stmt.lineno} does not register a new instance of a named "
                    f"class; {STEPS}"
                )
            plan.code[stmt.lineno] = line
            last_registration = stmt.lineno
        else:
            if len(call.args) != 1 or call.keywords:
                return StartupPlan(problem=f"set_websocket_bridge() on line {call.lineno} takes other arguments than one bridge; {STEPS}")
            arguments.append(f"websocket_bridge={ctx.model.segment(call.args[0])}")
            if ref.scope.visible_local("websocket_manager", stmt.lineno) is not None:
                arguments.append("websocket_manager=websocket_manager")
            bridge_line = stmt.lineno
    if dependencies:
        pairs = ", ".join(f"{_literal(key)}: {value}" for key, value in dependencies.items())
        arguments.append(f"agent_dependencies={{{pairs}}}")
    plan.code[last_registration] += f"{CLASS_REGISTRY}.freeze()\n"
    if arguments:
        problem = _async_problem(ref)
        if problem:
            return StartupPlan(problem=problem)
        configure = _call("await configure_agent_instance_factory", arguments, ctx.indent_unit)
        if bridge_line is not None:
            plan.code[bridge_line] = configure
        else:
            plan.code[last_registration] += configure
        plan.edits += import_edits(ctx, ["configure_agent_instance_factory"])
    return plan


def _dependencies(calls: list[ast.expr]) -> dict[str, str] | None:
    """What the legacy code handed the registry and the agents, by name: `{"llm_manager": llm_manager}`.

    The factory passes each to the agent constructors that take a parameter of that name.
    None when an argument is not a plain name or attribute (there is no name to pass it by).
    """
    found: dict[str, str] = {}
    for call in calls:
        if not isinstance(call, ast.Call):
            continue
        for argument in (*call.args, *(k.value for k in call.keywords)):
            keyword = next((k.arg for k in call.keywords if k.value is argument), None)
            if isinstance(argument, ast.Constant) and argument.value is None:
                continue
            if isinstance(argument, ast.Name):
                found.setdefault(keyword or argument.id, argument.id)
            elif isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name):
                found.setdefault(keyword or argument.attr, f"{argument.value.id}.{argument.attr}")
            else:
                return None
    return found


def _position(ctx: PlanContext, node: ast.expr) -> Pos:
    """The position of a statement's method name, as the rewriter locates statements."""
    end = Columns(ctx.model.lines).pos(node.end_lineno, node.end_col_offset)
    return Pos(end.line, end.col - len(getattr(node, "attr", "")))


def _registration(ctx: PlanContext, name: str, class_name: str, qualname: str) -> str:
    agent = ctx.project.agent(qualname) if ctx.project else None
    description = agent.description if agent and agent.description else f"{class_name} agent"
    return f"{CLASS_REGISTRY}.register({_literal(name)}, {class_name}, {_literal(description)})\n"


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _instance_registration(call: ast.Call, ref: Reference, ctx: PlanContext) -> str | None:
    if len(call.args) != 2 or call.keywords:
        return None
    name, instance = call.args
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str) and isinstance(instance, ast.Call)):
        return None
    qualname, _ = resolve_expression(instance.func, ref.scope, call.lineno)
    local = isinstance(instance.func, ast.Name) and instance.func.id in ctx.model.defined_functions
    if qualname is None and local:
        qualname = f"{ctx.model.module_name}.{instance.func.id}"
    if qualname is None:
        return None
    return _registration(ctx, name.value, ctx.model.segment(instance.func), qualname)


def _call(callee: str, arguments: list[str], unit: str) -> str:
    """A call on one line, or one argument per line when it has several."""
    if len(arguments) == 1:
        return f"{callee}({arguments[0]})\n"
    return f"{callee}(\n" + "".join(f"{unit}{argument},\n" for argument in arguments) + ")\n"


def _async_problem(ref: Reference) -> str | None:
    function = ref.scope.enclosing_function()
    if function is None or not function.is_async:
        where = "at module level" if function is None else f"in the sync function `{function.name}`"
        return (
            f"the registry is set up {where}, but configure_agent_instance_factory() is a coroutine; "
            f"move start-up into an async function (the app's lifespan), then {STEPS}"
        )
    return None
