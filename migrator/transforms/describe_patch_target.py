"""MIG010: a mock patch target naming the deprecated getter; says whether the target still exists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrator.analysis.model import Reference
from migrator.transforms.base import PlanContext
from migrator.transforms.edits import Manual

STAGE = "use"


def plan(ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Manual:
    """Report one patch target: detect-only, the reason says what the patched module defines."""
    module, _, name = ref.qualname.rpartition(".")
    replacement = str(params.get("replacement", "create_agent_instance_factory"))
    defines = ctx.defines(module, name) if module and module != "?" else None
    if defines is None:
        where = f"module {module} is not in the scanned tree" if module and module != "?" else "the patched module is unknown"
        return Manual(
            f"patches {name}, but {where}, so whether it still defines {name} cannot be told; "
            f"patch {replacement} where the code under test imports it"
        )
    if not defines:
        return Manual(
            f"stale target: {module} no longer defines {name}, so the patch fails (AttributeError) when it starts; "
            f"patch {replacement} where the code under test imports it, or delete the test"
        )
    return Manual(
        f"{module} still defines {name}, but the code it tests should call {replacement}(user_context); "
        f"patch {replacement} instead once the callers are migrated"
    )
