"""Facts about the whole project that single files need: gathered once per run, before the files."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from migrator._frozen import FrozenDict
from migrator.analysis.agents import (
    BASE_AGENT,
    REGISTRATION,
    AgentClass,
    FileAgents,
    module_name_of,
    reexported,
    resolve_agents,
    scan_file,
)
from migrator.analysis.facts import CONTEXT_TYPE, CodebaseFacts, build_facts
from migrator.sourcefile import DecodeError, SourceText

if TYPE_CHECKING:
    from migrator.analysis.facts_cache import FactsCache, FirstPass
    from migrator.analysis.facts_scan import FileFacts
    from migrator.config import Config

# The pytest fixture that gives a test its user context (a conftest.py may define it).
FIXTURE_NAME = "test_user_context"
# Where the shipped runtime's context rules come from (its ids.py adds the placeholder identities).
RUNTIME_CONTEXT = "migrator/runtime/context.py"


class ProjectFacts(msgspec.Struct, frozen=True):
    """Cross-file facts: conftest.py fixtures, agent classes and the registry's default agents."""

    conftest_fixture_dirs: frozenset[str] = frozenset()
    agent_classes: Mapping[str, AgentClass] = FrozenDict()
    default_agents: tuple[tuple[str, str], ...] = ()  # (name, class qualname), in registration order
    # Other qualified names of agent classes: `pkg.Name`, where pkg/__init__.py imports it.
    agent_aliases: Mapping[str, str] = FrozenDict()
    codebase: CodebaseFacts = CodebaseFacts()

    def agent(self, qualname: str) -> AgentClass | None:
        return self.agent_classes.get(qualname)

    def conftest_defines_fixture(self, relpath: str) -> bool:
        """Whether a conftest.py in the file's folder or above defines the fixture."""
        folder = relpath.rpartition("/")[0]
        while True:
            if folder in self.conftest_fixture_dirs:
                return True
            if not folder:
                return False
            folder = folder.rpartition("/")[0]

    def fingerprint(self) -> str:
        """A stable digest, so cached results are reused only under the same facts."""
        text = repr(
            (
                sorted(self.conftest_fixture_dirs),
                sorted(self.agent_classes.items()),
                self.default_agents,
                sorted(self.agent_aliases.items()),
                self.codebase.fingerprint(),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def first_pass_needles(config: Config | None) -> tuple[bytes, ...]:
    """The byte strings `first_pass_wants` decides from: the agent base class, registrations,
    the conftest fixture, the user context type and the config's legacy names."""
    legacy = tuple(name.encode() for name in (config.legacy if config is not None else ()))
    return (_BASE_AGENT, _REGISTER, _FIXTURE, _CONTEXT, *legacy)


def first_pass_wants(
    relpath: str, raw: bytes, found: Collection[bytes], config: Config | None, *, packages: bool = True
) -> bool:
    """Whether the facts pass needs a `.py` file, given which `first_pass_needles` occur in it:
    one the first pass reads, or one that mentions a legacy name of the config or the user
    context type. Without `packages`, a package's `__init__.py` is not wanted for its imports
    alone (see `agents_possible`)."""
    if _CONTEXT in found or _reads(relpath, raw, found.__contains__, packages):
        return True
    return config is not None and any(name.encode() in found for name in config.legacy)


def agents_possible(parts: Iterable[tuple[str, FirstPass | None]]) -> bool:
    """Whether the project can have an agent class, judged from the first-pass parts of every
    file but the packages wanted for their imports alone.

    A class is an agent through a class whose bases name `BaseAgent`, or through a
    registration, and a file holding either is wanted for that. A package wanted for its
    imports alone names neither, nor a legacy name or the context type: its part adds no fact
    and its classes and re-exports matter only when this is true.
    """
    scanned = [part.agents for _, part in parts if part is not None]
    return any(item.registrations for item in scanned) or bool(resolve_agents(scanned))


def first_pass_reads(relpath: str, raw: bytes) -> bool:
    """Whether the first pass needs a file: it may define or register an agent class, it is a
    package's `__init__.py` that may re-export one, or it is a conftest.py that may define the
    `test_user_context` fixture. The first pass reads `.py` files only."""
    return _reads(relpath, raw, raw.__contains__)


def _reads(relpath: str, raw: bytes, has: Callable[[bytes], bool], packages: bool = True) -> bool:
    """`first_pass_reads`, with `has` telling whether a needle occurs in `raw`."""
    name = relpath.rpartition("/")[2]
    if has(_BASE_AGENT) or (packages and name == "__init__.py" and b"import" in raw):
        return True
    if name == "conftest.py" and has(_FIXTURE):
        return True
    return has(_REGISTER) and REGISTRATION.search(raw) is not None


_BASE_AGENT = BASE_AGENT.encode()
_FIXTURE = FIXTURE_NAME.encode()
_CONTEXT = CONTEXT_TYPE.encode()
# The literal part of REGISTRATION: a substring search rules out most files faster than the regex.
_REGISTER = b".register("


def from_sources(
    sources: Iterable[tuple[str, bytes | str]],
    config: Config | None = None,
    all_paths: Iterable[str] = (),
    *,
    use_cache: bool = False,
) -> ProjectFacts:
    """The facts of the given (relpath, source) pairs; files that do not decode or parse are skipped.

    With a `config`, the codebase facts (what each legacy name hands out, the context type,
    context fixtures and helpers) are read too; `all_paths` are every file of the project.
    With `use_cache`, each file's part is kept under `.migrator/facts/` by content hash
    and read back instead of parsing the file again.
    """
    reader = FirstPassReader.of(config, use_cache=use_cache)
    parts = ((relpath, reader.part(relpath, raw)) for relpath, raw in sources)
    return from_parts(parts, config, all_paths, reader.cache)


def from_parts(
    parts: Iterable[tuple[str, FirstPass | None]],
    config: Config | None = None,
    all_paths: Iterable[str] = (),
    cache: FactsCache | None = None,
) -> ProjectFacts:
    """The facts of the files' first-pass parts, in the order given (registration order counts).
    `cache` keeps the shipped runtime's part too."""
    scanned: list[FileAgents] = []
    file_facts: list[FileFacts] = []
    fixture_dirs: set[str] = set()
    for relpath, part in parts:
        if part is None:
            continue
        if part.defines_fixture:
            fixture_dirs.add(relpath.rpartition("/")[0])
        scanned.append(part.agents)
        if part.facts is not None:
            file_facts.append(part.facts)
    defaults = tuple(
        dict.fromkeys((name, qualname) for item in scanned for name, qualname, default in item.registrations if default)
    )
    agents = resolve_agents(scanned)
    return ProjectFacts(
        conftest_fixture_dirs=frozenset(fixture_dirs),
        agent_classes=FrozenDict(agents),
        default_agents=defaults,
        agent_aliases=FrozenDict(reexported(scanned, agents)),
        codebase=_codebase(file_facts, config, all_paths, cache) if config is not None else CodebaseFacts(),
    )


class FirstPassReader(msgspec.Struct, frozen=True):
    """Reads one file's part of the first pass; picklable, so worker processes can use it."""

    legacy_names: frozenset[str] | None
    cache: FactsCache | None = None

    @classmethod
    def of(cls, config: Config | None, *, use_cache: bool = False) -> FirstPassReader:
        if config is None:
            return cls(None)
        legacy = frozenset(config.legacy)
        return cls(legacy, _facts_cache(config, legacy) if use_cache else None)

    def part(self, relpath: str, raw: bytes | str) -> FirstPass | None:
        """One file's part, from the cache when its bytes are unchanged; None for a file that
        does not decode or parse."""
        return _first_pass(relpath, raw, self.legacy_names, self.cache)


def _first_pass(relpath: str, raw: bytes | str, legacy_names: frozenset[str] | None, cache: FactsCache | None) -> FirstPass | None:
    """One file's part of the first pass, from the cache when its bytes are unchanged; None
    for a file that does not decode or parse."""
    from migrator.analysis.facts_cache import FirstPass
    from migrator.analysis.facts_scan import bindings_of_text, needs_parse, scan_facts

    key = cache.key(relpath, raw if isinstance(raw, bytes) else raw.encode("utf-8")) if cache is not None else None
    if cache is not None and key is not None:
        found = cache.load(key)
        if found is not None:
            return found
    try:
        text = SourceText.decode(raw).text if isinstance(raw, bytes) else raw
        if legacy_names is not None and not first_pass_reads(relpath, text.encode("utf-8", "replace")):
            if not needs_parse(text, legacy_names):
                # It only mentions legacy names: its import bindings are all the facts need.
                return FirstPass(FileAgents(), bindings_of_text(text, module_name_of(relpath), relpath, legacy_names), False)
        tree = ast.parse(text)
        part = FirstPass(
            agents=scan_file(text, relpath, tree),
            facts=scan_facts(text, relpath, legacy_names, tree) if legacy_names is not None else None,
            defines_fixture=_is_conftest(relpath) and _defines_fixture(tree),
        )
    except (DecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        # A file too deeply nested for the parser is reported by the engine, not here.
        return None
    if cache is not None and key is not None:
        cache.store(key, part)
    return part


def _facts_cache(config: Config, legacy_names: frozenset[str]) -> FactsCache:
    from migrator.analysis.facts_cache import FactsCache
    from migrator.cache import tool_fingerprint

    return FactsCache.open(config.root, legacy_names, tool_fingerprint())


def _codebase(files: list[FileFacts], config: Config, all_paths: Iterable[str], cache: FactsCache | None) -> CodebaseFacts:
    return build_facts(
        files,
        legacy_modules=config.legacy,
        context_module=config.imports.get(CONTEXT_TYPE),
        all_paths=all_paths,
        declared=config.declared_legacy,
        current=config.current,
        runtime_context=_runtime_context(cache),
    )


def _runtime_context(cache: FactsCache | None = None) -> FileFacts | None:
    """The shipped runtime's context rules, read as source (the CLI side never imports the
    runtime); kept in `cache` by the content of the two files they come from."""
    from migrator.analysis.facts_cache import FirstPass

    runtime = Path(__file__).resolve().parent / "runtime"
    try:
        context_source, ids_source = (runtime / "context.py").read_bytes(), (runtime / "ids.py").read_bytes()
    except OSError:
        return None
    if cache is None:
        return _scan_runtime_context(context_source, ids_source)
    key = cache.key(RUNTIME_CONTEXT, context_source + b"\0" + ids_source)
    found = cache.load(key)
    if found is not None:
        return found.facts
    facts = _scan_runtime_context(context_source, ids_source)
    cache.store(key, FirstPass(FileAgents(), facts, False))
    return facts


def _scan_runtime_context(context_source: bytes, ids_source: bytes) -> FileFacts | None:
    from migrator.analysis.facts_scan import placeholder_literals, scan_facts

    try:
        context = scan_facts(context_source.decode("utf-8"), RUNTIME_CONTEXT, frozenset())
        values, prefixes = placeholder_literals(ast.parse(ids_source.decode("utf-8")))
    except (UnicodeDecodeError, SyntaxError):
        return None
    if context.context is None:
        return None
    merged = msgspec.structs.replace(
        context.context,
        placeholder_values=context.context.placeholder_values | values,
        placeholder_prefixes=tuple(sorted({*context.context.placeholder_prefixes, *prefixes})),
    )
    return msgspec.structs.replace(context, context=merged)


def _is_conftest(relpath: str) -> bool:
    return relpath.rpartition("/")[2] == "conftest.py"


def _defines_fixture(tree: ast.Module) -> bool:
    """Whether a conftest.py defines `test_user_context` at its top level."""
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == FIXTURE_NAME for n in tree.body)
