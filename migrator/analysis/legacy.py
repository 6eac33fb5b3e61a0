"""The deprecated names a project knows: where they are defined and re-exported, and which
legacy object (the singleton registry, the shared bridge) a constructor or getter returns."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import msgspec

from migrator._frozen import FrozenDict

# Methods of legacy objects that return another legacy object.
METHOD_ROLES = FrozenDict({"registry.get_websocket_bridge": "bridge"})


class LegacyIndex(msgspec.Struct, frozen=True, dict=True):
    """Maps every importable spelling of a deprecated name to its canonical qualified name."""

    symbols: frozenset[str]
    canonical: Mapping[str, str]
    exports: Mapping[str, frozenset[str]]
    defining_modules: Mapping[str, frozenset[str]]
    roles: Mapping[str, str] = FrozenDict()
    type_roles: Mapping[str, str] = FrozenDict()
    method_symbols: frozenset[str] = frozenset()
    method_roles: Mapping[str, str] = METHOD_ROLES
    # Symbols that matter only where called (agent classes): a file that merely names one
    # (an import, an annotation, `isinstance`) holds nothing to report about it.
    called_only: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        definitions: Iterable[tuple[str, str]],
        reexports: Iterable[str],
        *,
        getter_roles: Mapping[str, str] = FrozenDict(),
        type_roles: Mapping[str, str] = FrozenDict(),
        method_symbols: Iterable[str] = (),
        called_only: Iterable[str] = (),
        aliases: Mapping[str, str] = FrozenDict(),
    ) -> LegacyIndex:
        """Index `(symbol, defining module)` pairs; `getter_roles` and `type_roles` map symbols to
        roles; `aliases` are other qualified names of indexed symbols (a package re-exporting them)."""
        canonical: dict[str, str] = {}
        exports: dict[str, set[str]] = {}
        defining: dict[str, set[str]] = {}
        symbols: set[str] = set()
        reexports = tuple(reexports)
        for symbol, module in sorted(set(definitions)):
            qualname = f"{module}.{symbol}"
            symbols.add(symbol)
            canonical[qualname] = qualname
            exports.setdefault(module, set()).add(symbol)
            defining.setdefault(module, set()).add(symbol)
            for package in reexports:
                canonical.setdefault(f"{package}.{symbol}", qualname)
                exports.setdefault(package, set()).add(symbol)
        for alias, qualname in sorted(aliases.items()):
            if qualname in canonical:
                package, _, local = alias.rpartition(".")
                canonical.setdefault(alias, qualname)
                exports.setdefault(package, set()).add(local)
        by_symbol = {q.rpartition(".")[2]: q for q in canonical.values()}
        return cls(
            symbols=frozenset(symbols),
            canonical=FrozenDict(canonical),
            exports=FrozenDict({k: frozenset(v) for k, v in exports.items()}),
            defining_modules=FrozenDict({k: frozenset(v) for k, v in defining.items()}),
            roles=FrozenDict({by_symbol[s]: r for s, r in getter_roles.items() if s in by_symbol}),
            type_roles=FrozenDict({by_symbol[s]: r for s, r in type_roles.items() if s in by_symbol}),
            method_symbols=frozenset(method_symbols),
            called_only=frozenset(called_only) & frozenset(symbols),
        )

    @property
    def methods(self) -> frozenset[str]:
        """Bare method names worth a look: those of the method symbols rules match."""
        return frozenset(symbol.rpartition(".")[2] for symbol in (*self.method_symbols, *self.method_roles))

    @property
    def maker_names(self) -> frozenset[str]:
        """Names of the constructors and getters that make legacy objects."""
        return frozenset(q.rpartition(".")[2] for q in (*self.roles, *self.type_roles))

    @functools.cached_property
    def needles(self) -> tuple[bytes, ...]:
        """Byte strings at least one of which appears in any file that uses a deprecated name
        other than a called-only one."""
        return shortest_needles([symbol.encode() for symbol in self.symbols - self.called_only])

    @functools.cached_property
    def called_needles(self) -> tuple[bytes, ...]:
        """The called-only symbols, as bytes: they count where a call's shape follows them."""
        return tuple(sorted(symbol.encode() for symbol in self.called_only))

    def defined_here(self, module_name: str) -> frozenset[str]:
        """The deprecated symbols that `module_name` itself defines (src layouts included)."""
        found: set[str] = set()
        for module, symbols in self.defining_modules.items():
            if module_name == module or module_name.endswith("." + module):
                found |= symbols
        return frozenset(found)

    def qualname_of(self, symbol: str) -> str | None:
        """The canonical qualified name of a deprecated symbol, from its defining module."""
        for module, symbols in sorted(self.defining_modules.items()):
            if symbol in symbols:
                return f"{module}.{symbol}"
        return None

    def defining_module_of(self, module_name: str, symbol: str) -> str | None:
        for module, symbols in self.defining_modules.items():
            if symbol in symbols and (module_name == module or module_name.endswith("." + module)):
                return module
        return None


def shortest_needles(needles: Iterable[bytes]) -> tuple[bytes, ...]:
    """The needles without those that contain another: any file the dropped ones match, the rest match."""
    kept: list[bytes] = []
    for needle in sorted(set(needles), key=len):
        if not any(shorter in needle for shorter in kept):
            kept.append(needle)
    return tuple(kept)
