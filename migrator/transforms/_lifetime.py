"""Whether an object built at one place outlives the request it was built for."""

from __future__ import annotations

import ast
import re

from migrator.analysis.model import Reference

# Functions that run once when the service starts: what they build lives as long as the process.
_STARTUP = re.compile(r"(?i)start_?up|lifespan|bootstrap|on_start|create_app|init_app")


def outlives_request(ref: Reference) -> str | None:
    """Where a constructed object is kept beyond one request, in words; None when it is not.

    It is kept when it is built at module level, in a class body or in start-up code (a
    function named like `startup`, `lifespan`, `create_app`), assigned to a name the
    function declares `global`, or stored on an attribute of something other than the
    function's own `self` (`app.state.registry = ...`).
    """
    if ref.scope.kind == "module":
        return "built at module level, so every request of every user shares it"
    if ref.scope.kind == "class":
        return "built in a class body, so every instance and every user shares it"
    function = ref.scope.enclosing_function()
    if function is not None and function.kind == "function" and _STARTUP.search(function.name):
        return f"built in the start-up function {function.name}(), which runs once for the whole process"
    statement = ref.stmt
    if function is None or not isinstance(statement, (ast.Assign, ast.AnnAssign)) or statement.value is not ref.node:
        return None
    declared = {name for node in ast.walk(function.node) if isinstance(node, ast.Global) for name in node.names}
    self_name = function.self_name()
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    for target in targets:
        if isinstance(target, ast.Name) and target.id in declared:
            return f"stored in the module global {target.id}, so every request of every user shares it"
        if isinstance(target, ast.Attribute):
            root = target
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id != self_name:
                return f"stored on {ast.unparse(target)}, which lives for the whole process"
    return None

