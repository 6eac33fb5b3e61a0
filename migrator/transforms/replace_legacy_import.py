"""MIG002 and MIG009: drop the import of a deprecated name once nothing in the module uses it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms._import_uses import guarded_imports, named_in_strings
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Fix, Manual, Plan, RemoveImport, ReplaceCall

STAGE = "cleanup"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan:
    """Plan the removal (or in-place renaming) of one import of a deprecated name."""
    binding = ref.binding
    assert binding is not None and binding.alias is not None
    local = binding.name
    if _is_reexport(ref, ctx, local):
        return Manual(
            f"{ctx.model.module_name or 'this module'} re-exports {ref.symbol}; other modules may import it "
            f"from here, so remove it once nothing imports {ref.symbol} from this package"
        )
    kept = _kept_whole(ref, ctx, local)
    if kept:
        return Manual(kept)
    uses = ctx.model.references_to(binding)
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
    elif rename is not None:
        renamed.add(rename)
    return Fix((RemoveImport(ref.anchor, binding.alias.name, rename),))


def _kept_whole(ref: Reference, ctx: PlanContext, local: str) -> str | None:
    """Why the import must stay even when no code uses the name: a use in a string, or a fallback."""
    cache = ctx.state.cache.setdefault("import_uses", {})
    if "guarded" not in cache:
        cache["guarded"] = guarded_imports(ctx.model.tree)
    if ref.stmt is not None and id(ref.stmt) in cache["guarded"]:
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
