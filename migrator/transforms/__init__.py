"""The transforms rules can name, one module each, imported when a rule first needs one.

Loading the rules needs only the transforms' names; a run over files that mention no
deprecated name never imports the transform modules at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrator.analysis.model import Reference
    from migrator.transforms.base import Transform

# Uses are planned first; clean-ups (imports, getter assignments) see what the uses became.
STAGES = ("use", "cleanup")

# Modules of this package that are helpers or data, not transforms rules can name.
_NOT_TRANSFORMS = frozenset({"base", "edits"})


def _names() -> tuple[str, ...]:
    """The transform modules in this package: every public module but the helpers; rule files
    name them, and loading the rules checks that each name is one of these."""
    folder = Path(__file__).resolve().parent
    return tuple(
        sorted(
            path.stem
            for path in folder.glob("*.py")
            if not path.stem.startswith("_") and path.stem not in _NOT_TRANSFORMS
        )
    )


class _Transforms(Mapping[str, "Transform"]):
    """Transform name to module, each module imported on first look-up."""

    def __init__(self) -> None:
        self._names = _names()

    def __getitem__(self, name: str) -> Transform:
        if name not in self._names:
            raise KeyError(name)
        return importlib.import_module(f"{__name__}.{name}")  # type: ignore[return-value]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


TRANSFORMS: Mapping[str, Transform] = _Transforms()


def stage_of(transform: Transform | None, ref: Reference) -> str:
    """The stage in which `transform` plans `ref` (detect-only rules plan with the uses)."""
    if transform is None:
        return "use"
    stage = getattr(transform, "stage", None)
    return stage(ref) if stage is not None else transform.STAGE
