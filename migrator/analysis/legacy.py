"""The deprecated names a project knows: where they are defined and re-exported."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from migrator._frozen import FrozenDict


@dataclasses.dataclass(frozen=True)
class LegacyIndex:
    """Maps every importable spelling of a deprecated name to its canonical qualified name."""

    symbols: frozenset[str]
    canonical: Mapping[str, str]
    exports: Mapping[str, frozenset[str]]
    defining_modules: Mapping[str, frozenset[str]]

    @classmethod
    def build(cls, legacy: Mapping[str, str], reexports: Iterable[str], symbols: Iterable[str]) -> LegacyIndex:
        """Index the `symbols` of interest, defined per `legacy` and re-exported by `reexports`."""
        wanted = frozenset(symbols)
        canonical: dict[str, str] = {}
        exports: dict[str, set[str]] = {}
        defining: dict[str, set[str]] = {}
        reexports = tuple(reexports)
        for symbol in sorted(wanted):
            module = legacy.get(symbol)
            if module is None:
                continue
            qualname = f"{module}.{symbol}"
            canonical[qualname] = qualname
            exports.setdefault(module, set()).add(symbol)
            defining.setdefault(module, set()).add(symbol)
            for package in reexports:
                canonical[f"{package}.{symbol}"] = qualname
                exports.setdefault(package, set()).add(symbol)
        return cls(
            symbols=frozenset(s for s in wanted if s in legacy),
            canonical=FrozenDict(canonical),
            exports=FrozenDict({k: frozenset(v) for k, v in exports.items()}),
            defining_modules=FrozenDict({k: frozenset(v) for k, v in defining.items()}),
        )

    def needles(self) -> tuple[bytes, ...]:
        """Byte strings at least one of which appears in any file that uses a deprecated name."""
        return tuple(sorted(symbol.encode() for symbol in self.symbols))

    def defined_here(self, module_name: str) -> frozenset[str]:
        """The deprecated symbols that `module_name` itself defines (src layouts included)."""
        found: set[str] = set()
        for module, symbols in self.defining_modules.items():
            if module_name == module or module_name.endswith("." + module):
                found |= symbols
        return frozenset(found)

    def defining_module_of(self, module_name: str, symbol: str) -> str | None:
        for module, symbols in self.defining_modules.items():
            if symbol in symbols and (module_name == module or module_name.endswith("." + module)):
                return module
        return None
