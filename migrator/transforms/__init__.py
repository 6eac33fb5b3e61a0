"""The transforms rules can name, one module each."""

from __future__ import annotations

from collections.abc import Mapping

from migrator._frozen import FrozenDict
from migrator.analysis.model import Reference
from migrator.transforms import (
    replace_agent_instantiation,
    replace_db_session_getter,
    replace_factory_getter,
    replace_instance_registration,
    replace_legacy_import,
    replace_registry_construction,
    replace_registry_lookup,
    replace_shared_bridge,
)
from migrator.transforms.base import Transform

# Uses are planned first; clean-ups (imports, getter assignments) see what the uses became.
STAGES = ("use", "cleanup")

TRANSFORMS: Mapping[str, Transform] = FrozenDict(
    {
        "replace_factory_getter": replace_factory_getter,
        "replace_legacy_import": replace_legacy_import,
        "replace_registry_construction": replace_registry_construction,
        "replace_instance_registration": replace_instance_registration,
        "replace_registry_lookup": replace_registry_lookup,
        "replace_shared_bridge": replace_shared_bridge,
        "replace_db_session_getter": replace_db_session_getter,
        "replace_agent_instantiation": replace_agent_instantiation,
    }
)


def stage_of(transform: Transform | None, ref: Reference) -> str:
    """The stage in which `transform` plans `ref` (detect-only rules plan with the uses)."""
    if transform is None:
        return "use"
    stage = getattr(transform, "stage", None)
    return stage(ref) if stage is not None else transform.STAGE
