"""The transforms rules can name, one module each, imported when a rule first needs one.

Loading the rules needs only the transforms' names; a run over files that mention no
deprecated name never imports the transform modules at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrator.analysis.model import Reference
    from migrator.transforms.base import Transform

# Uses are planned first; clean-ups (imports, getter assignments) see what the uses became.
STAGES = ("use", "cleanup")

NAMES = (
    "replace_factory_getter",
    "replace_legacy_import",
    "replace_registry_construction",
    "replace_instance_registration",
    "replace_registry_lookup",
    "replace_shared_bridge",
    "replace_db_session_getter",
    "replace_agent_instantiation",
)


class _Transforms(Mapping[str, "Transform"]):
    """Transform name to module, each module imported on first look-up."""

    def __getitem__(self, name: str) -> Transform:
        if name not in NAMES:
            raise KeyError(name)
        return importlib.import_module(f"{__name__}.{name}")  # type: ignore[return-value]

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)

    def __contains__(self, name: object) -> bool:
        return name in NAMES


TRANSFORMS: Mapping[str, Transform] = _Transforms()


def stage_of(transform: Transform | None, ref: Reference) -> str:
    """The stage in which `transform` plans `ref` (detect-only rules plan with the uses)."""
    if transform is None:
        return "use"
    stage = getattr(transform, "stage", None)
    return stage(ref) if stage is not None else transform.STAGE
