"""The transforms rules can name, one module each."""

from __future__ import annotations

from collections.abc import Mapping
from migrator._frozen import FrozenDict

from migrator.transforms import replace_factory_getter, replace_factory_import
from migrator.transforms.base import Transform

TRANSFORMS: Mapping[str, Transform] = FrozenDict(
    {
        "replace_factory_getter": replace_factory_getter,
        "replace_factory_import": replace_factory_import,
    }
)
