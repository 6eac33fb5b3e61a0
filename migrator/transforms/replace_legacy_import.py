"""MIG002 and MIG009: drop the import of a deprecated name once nothing in the module uses it."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms._import_uses import guarded_imports, named_in_strings
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import (
    NOT_A_FINDING,
    Fix,
    Manual,
    Plan,
    RemoveImport,
    ReplaceCall,
)

STAGE = "cleanup"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan | None:
    """Plan the removal (or in-place renaming) of one import of a deprecated name.

    None (not a finding) when some use of the name in the module is not deprecated: a type
    annotation (also in a string), an isinstance check, a per-request instance, a fallback.
    """
    binding = ref.binding
    assert binding is not None and binding.alias is not None
    local = binding.name
    if _is_reexport(ref, ctx, local):
        return Manual(
            f"{ctx.model.module_name or 'this module'} re-exports {ref.symbol}; other modules may import it "
            f"from here, so remove it once nothing imports {ref.symbol} from this package"
        )
    uses = ctx.model.references_to(binding)
    if any(ctx.plan_of(use) is NOT_A_FINDING for use in uses) or _used_beyond(ref, ctx, local, uses):
        return None
    if any(other is not binding and other.kind not in ("from", "import") for other in ref.scope.bindings.get(local, ())):
        return None  # also bound otherwise (an `except ImportError:` fallback): its uses are not only deprecated
    pending = [use for use in uses if not isinstance(ctx.plan_of(use), Fix)]
    if pending:
        lines = ", ".join(str(use.span.start.line) for use in pending[:5])
        return Manual(
            f"still used by {len(pending)} use(s) that need manual review (line {lines}); "
            "remove the import once they are migrated"
        )
    replacement = params.get("replacement")
    rename = _rename_to(ref, ctx, uses, replacement)
    renamed = ctx.state.cache.setdefault("renamed_imports", set())
    # Two imports of the getter would both become imports of its replacement: rename one.
    if rename in renamed:
        rename = None
    # Renamed in place, an import keeps its place: inside a try/except ImportError too.
    kept = _kept_whole(ref, ctx, local, renamed=rename is not None)
    if kept:
        return Manual(kept)
    if rename is not None:
        renamed.add(rename)
    return Fix((RemoveImport(ref.anchor, binding.alias.name, rename),))


def _kept_whole(ref: Reference, ctx: PlanContext, local: str, *, renamed: bool) -> str | None:
    """Why the import must stay even when no code uses the name: a use in a string, or it is
    the `try:` half of a `try/except ImportError` (unless it is renamed in place)."""
    cache = ctx.state.cache.setdefault("import_uses", {})
    if "guarded" not in cache:
        cache["guarded"] = guarded_imports(ctx.model.tree)
    if not renamed and ref.stmt is not None and id(ref.stmt) in cache["guarded"]:
        return (
            f"the import of {local} is the try half of a try/except ImportError whose except sets a fallback; "
            "migrate or remove both halves together"
        )
    if named_in_strings(local, ctx.model.tree, ctx.model.text):
        return (
            f"{local} is still named in a string (an annotation, a cast() type or __all__); "
            "update that string, then remove the import"
        )
    return None


def _rename_to(ref: Reference, ctx: PlanContext, uses: list[Reference], replacement: Any) -> str | None:
    """Rename in place when the import's own module provides the replacement the calls now use."""
    if not replacement or ref.scope.kind != "module" or ref.binding is None or ref.binding.target is None:
        return None
    module = ref.binding.target.rpartition(".")[0]
    if module != ctx.config.imports.get(str(replacement)) or str(replacement) in ctx.model.module_scope.bindings:
        return None
    for use in uses:
        plan = ctx.plan_of(use)
        if isinstance(plan, Fix) and any(
            isinstance(e, ReplaceCall) and not e.attribute_only and e.callee == replacement for e in plan.edits
        ):
            return str(replacement)
    return None


def _is_reexport(ref: Reference, ctx: PlanContext, local: str) -> bool:
    if ref.scope.kind != "module":
        return False
    model = ctx.model
    is_package = ctx.relpath.endswith("__init__.py")
    return local in model.exported or is_package or model.module_name in ctx.config.reexports


# What a string annotation is made of; a sentence that happens to parse has calls or comparisons.
_TYPE_NODES = (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.BinOp, ast.BitOr, ast.Tuple, ast.List, ast.Constant, ast.Load)


def _used_beyond(ref: Reference, ctx: PlanContext, local: str, uses: list[Reference]) -> bool:
    """Whether the name is used where the analysis sees no reference: a string annotation,
    `cast("X", ...)` or any other string that is an expression naming it."""
    text = ctx.model.text
    if text.count(local) <= len(uses) + sum(1 for line in ctx.model.lines if "import" in line and local in line):
        return False  # every occurrence is the import or a use the analysis saw
    for node in ast.walk(ctx.model.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and local in node.value:
            try:
                parsed = ast.parse(node.value.strip(), mode="eval")
            except SyntaxError:
                continue
            nodes = list(ast.walk(parsed))
            if all(isinstance(n, _TYPE_NODES) for n in nodes) and any(isinstance(n, ast.Name) and n.id == local for n in nodes):
                return True
    return False
