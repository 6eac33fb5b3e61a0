"""What the codebase's own definitions say, read once per run before any rule decides.

Which legacy names are process-wide shared state (a module-level instance, a getter that
returns or caches a global, a class keeping `_instance`), which already raise, which hand out
something fresh per call; what the user context type requires and which identities its
validator rejects; where tests and helpers already get a context from. A name the tree does
not define keeps its documented default: deprecated, shared.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import msgspec

from migrator._frozen import FrozenDict
from migrator.analysis.agents import module_name_of

if TYPE_CHECKING:
    from migrator.analysis.facts_scan import FileFacts

SHARED = "shared"
RAISES = "raises"
FRESH = "fresh"
PER_USER = "per-user"
CURRENT = "current"
CONTEXT_TYPE = "UserExecutionContext"


class LegacyName(msgspec.Struct, frozen=True):
    """One legacy name as the tree defines it, and what calling or building it hands out."""

    name: str
    module: str
    sharing: str
    evidence: str

    @property
    def is_deprecated_use(self) -> bool:
        """Whether using the name is the anti-pattern itself (shared state, or a call that raises)."""
        return self.sharing in (SHARED, RAISES)


class Constructor(msgspec.Struct, frozen=True):
    """A way to build the context: the class itself (name "") or one of its classmethods."""

    name: str
    required: tuple[str, ...]
    accepted: tuple[str, ...]
    open_keywords: bool = False


class ContextType(msgspec.Struct, frozen=True):
    """The user context class: its constructors, and the identities its validator rejects."""

    module: str | None = None
    constructors: Mapping[str, Constructor] = FrozenDict()
    placeholder_values: frozenset[str] = frozenset()
    placeholder_prefixes: tuple[str, ...] = ()
    source: str = "runtime"

    def constructor(self, name: str) -> Constructor | None:
        return self.constructors.get(name)

    def accepts(self, value: str) -> bool:
        """Whether the validator (as far as its literals tell) accepts an identity starting with `value`."""
        lowered = value.lower()
        return bool(value) and lowered not in self.placeholder_values and not lowered.startswith(self.placeholder_prefixes)


# The documented context (DESIGN section 8) where neither the tree nor the runtime's source says more.
DOCUMENTED_CONTEXT = ContextType(
    constructors=FrozenDict(
        {
            "from_request_supervisor": Constructor(
                "from_request_supervisor", ("user_id", "thread_id"), ("user_id", "thread_id", "run_id"), open_keywords=True
            )
        }
    ),
    placeholder_values=frozenset({"", "none", "null", "undefined", "nil"}),
)


class ContextSource(msgspec.Struct, frozen=True):
    """A pytest fixture or a helper function that returns a user context."""

    name: str
    module: str
    relpath: str
    kind: str  # "fixture" or "helper"
    required: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        return self.relpath.rpartition("/")[0]

    @property
    def is_test_support(self) -> bool:
        parts = self.relpath.split("/")
        return any(p in ("tests", "test", "test_framework") for p in parts[:-1]) or parts[-1] == "conftest.py"


class CodebaseFacts(msgspec.Struct, frozen=True):
    """The typed result of the facts pass."""

    legacy: Mapping[str, LegacyName] = FrozenDict()
    context: ContextType = DOCUMENTED_CONTEXT
    sources: tuple[ContextSource, ...] = ()
    modules: frozenset[str] = frozenset()
    module_bindings: Mapping[str, frozenset[str]] = FrozenDict()
    current: frozenset[str] = frozenset()

    def sharing(self, name: str) -> str:
        """What a legacy name hands out; `shared` where the tree holds no definition of it."""
        if name in self.current:
            return CURRENT
        found = self.legacy.get(name)
        return found.sharing if found is not None else SHARED

    def evidence(self, name: str) -> str:
        found = self.legacy.get(name)
        return found.evidence if found is not None else "the tree holds no definition of it (the documented default)"

    def fixture_for(self, relpath: str) -> ContextSource | None:
        """The context fixture a conftest.py in the file's folder or above defines (nearest first)."""
        folder = relpath.rpartition("/")[0]
        by_folder = {s.folder: s for s in self.sources if s.kind == "fixture" and s.relpath.endswith("conftest.py")}
        while True:
            if folder in by_folder:
                return by_folder[folder]
            if not folder:
                return None
            folder = folder.rpartition("/")[0]

    def helper(self, name: str) -> ContextSource | None:
        return next((s for s in self.sources if s.kind == "helper" and s.name == name), None)

    def test_helper(self) -> ContextSource | None:
        """A helper of the test suite that builds a context with no argument (the most general)."""
        helpers = [s for s in self.sources if s.kind == "helper" and s.is_test_support and not s.required]
        return min(helpers, key=lambda s: (len(s.relpath), s.name)) if helpers else None

    def defines(self, module: str, name: str) -> bool | None:
        """Whether `module` binds `name` at top level; None when the module is not in the tree."""
        if module not in self.modules:
            return None
        return name in self.module_bindings.get(module, frozenset())

    def still_answers(self, asked: Iterable[tuple[str, str, bool | None]]) -> bool:
        """Whether `defines` still gives each of these answers."""
        return all(self.defines(module, name) == answer for module, name, answer in asked)

    def fingerprint(self) -> str:
        """A digest of the facts that is the same in every process (no set iteration order).

        Which modules the tree holds and what they bind is left out: a result that asked
        (`defines`) records its answers, and stands while they hold. So adding a file, or
        importing a legacy name somewhere, does not recompute every cached result."""
        context = self.context
        text = repr(
            (
                sorted(self.legacy.items()),
                context.module,
                context.source,
                sorted(context.constructors.items()),
                sorted(context.placeholder_values),
                context.placeholder_prefixes,
                self.sources,
                sorted(self.current),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_facts(
    files: Iterable[FileFacts],
    *,
    legacy_modules: Mapping[str, str],
    context_module: str | None,
    all_paths: Iterable[str] = (),
    declared: Iterable[str] = (),
    current: Iterable[str] = (),
    runtime_context: FileFacts | None = None,
) -> CodebaseFacts:
    """Join the per-file facts into the project's facts.

    `legacy_modules` maps each legacy name to its documented module (a definition there wins
    over one elsewhere); names in `declared` are deprecated by the user's config whatever the
    tree says, names in `current` are not deprecated at all.
    """
    files = list(files)
    declared = frozenset(declared)
    legacy: dict[str, LegacyName] = {}
    for name, documented in legacy_modules.items():
        # Only the definition the imports resolve to counts: a function of the same name in some
        # other module is another function.
        found = sorted((f.module, f.legacy[name]) for f in files if name in f.legacy and _same_module(f.module, documented))
        if not found:
            continue
        module, (sharing, evidence) = found[0]
        if name in declared:
            sharing, evidence = SHARED, "declared deprecated in [tool.migrator.legacy]"
        legacy[name] = LegacyName(name, module, sharing, evidence)
    context = _context_type(files, context_module, runtime_context)
    sources = tuple(source for f in files for source in f.sources)
    bindings = {f.module: f.bindings for f in files}
    modules = frozenset(module_name_of(path) for path in all_paths if path.endswith(".py")) | frozenset(bindings)
    return CodebaseFacts(
        legacy=FrozenDict(legacy),
        context=context,
        sources=sources,
        modules=modules,
        module_bindings=FrozenDict(bindings),
        current=frozenset(current),
    )


def _same_module(module: str, documented: str) -> bool:
    return module == documented or module.endswith("." + documented) or documented.endswith("." + module)


def _context_type(files: list[FileFacts], context_module: str | None, runtime: FileFacts | None) -> ContextType:
    defining = [f for f in files if f.context is not None]
    if defining:
        defining.sort(key=lambda f: (not (context_module and _same_module(f.module, context_module)), f.module))
        found = defining[0]
        assert found.context is not None
        return msgspec.structs.replace(found.context, module=found.module, source="tree")
    if runtime is not None and runtime.context is not None:
        return msgspec.structs.replace(runtime.context, module=runtime.module, source="runtime")
    return DOCUMENTED_CONTEXT


def facts_of_text(text: str, relpath: str, legacy_names: Iterable[str], tree: ast.Module | None = None) -> FileFacts:
    """The facts one file contributes (the entry point tests use)."""
    from migrator.analysis.facts_scan import scan_facts

    return scan_facts(text, relpath, frozenset(legacy_names), tree)
