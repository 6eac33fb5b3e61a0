"""Which imports a fix needs: the configured target of each new name the module lacks.

This side runs while planning, on the `ast` model, and imports nothing from LibCST; the
rewriter merges the imports into the module (`_import_merge`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from migrator.transforms.edits import AddImport

if TYPE_CHECKING:
    from migrator.transforms.base import PlanContext


def import_edits(ctx: PlanContext, names: Iterable[str]) -> tuple[AddImport, ...]:
    """`from <configured target> import name` for each name the module does not bind yet."""
    module_bindings = ctx.model.module_scope.bindings
    edits = []
    for name in names:
        bound = module_bindings.get(name, ())
        if any(b.kind in ("from", "import", "class", "def") for b in bound):
            continue
        edits.append(AddImport(ctx.config.import_target(name), name))
    return tuple(edits)
