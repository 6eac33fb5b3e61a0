"""The first pass's per-file results, kept under `.migrator/facts/` by content hash.

A file whose bytes (and the legacy names asked about, and the tool) are unchanged is not parsed
again: its agent classes, registrations, conftest fixture flag and codebase facts are read
back. Entries are JSON, written atomically; one that cannot be read back counts as missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import msgspec

from migrator._frozen import FrozenDict
from migrator.analysis.agents import FileAgents
from migrator.analysis.facts import Constructor, ContextSource, ContextType
from migrator.analysis.facts_scan import FileFacts
from migrator.writer import atomic_write, state_folder

# Beside the result cache, not in it: that one prunes its run folders.
FOLDER = Path(".migrator") / "facts"
FORMAT = 2


class FirstPass(msgspec.Struct, frozen=True):
    """What one file contributes to the first pass."""

    agents: FileAgents
    facts: FileFacts | None
    defines_fixture: bool


class FactsCache(msgspec.Struct, frozen=True):
    folder: Path
    salt: str

    @classmethod
    def open(cls, root: Path, legacy_names: Iterable[str], tool: str) -> FactsCache:
        salt = f"{FORMAT}\0{tool}\0{','.join(sorted(legacy_names))}"
        return cls(root / FOLDER, salt)

    def key(self, relpath: str, raw: bytes) -> str:
        digest = hashlib.blake2b(raw, digest_size=20)
        digest.update(f"\0{relpath}\0{self.salt}".encode())
        return digest.hexdigest()

    def load(self, key: str) -> FirstPass | None:
        try:
            return decode_part(json.loads((self.folder / key).read_bytes()))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, key: str, value: FirstPass) -> None:
        """Write an entry; a cache that cannot be written is skipped, never an error of the run."""
        with contextlib.suppress(OSError):
            state_folder(self.folder)
            atomic_write(self.folder / key, json.dumps(encode_part(value)).encode(), durable=False)


def encode_part(value: FirstPass) -> dict:
    facts = value.facts
    return {
        "agents": {
            "classes": value.agents.classes,
            "registrations": value.agents.registrations,
            "reexports": value.agents.reexports,
        },
        "fixture": value.defines_fixture,
        "facts": None
        if facts is None
        else {
            "module": facts.module,
            "relpath": facts.relpath,
            "legacy": {k: list(v) for k, v in facts.legacy.items()},
            "bindings": sorted(facts.bindings),
            "context": None if facts.context is None else _encode_context(facts.context),
            "sources": [msgspec.structs.asdict(s) for s in facts.sources],
        },
    }


def _encode_context(context: ContextType) -> dict:
    return {
        "constructors": [msgspec.structs.asdict(c) for c in context.constructors.values()],
        "values": sorted(context.placeholder_values),
        "prefixes": list(context.placeholder_prefixes),
    }


def decode_part(data: dict) -> FirstPass:
    agents = FileAgents(
        classes=tuple((q, tuple(bases), doc) for q, bases, doc in data["agents"]["classes"]),
        registrations=tuple((n, q, bool(d)) for n, q, d in data["agents"]["registrations"]),
        reexports=tuple((local, target) for local, target in data["agents"]["reexports"]),
    )
    raw = data["facts"]
    facts = None
    if raw is not None:
        context = raw["context"]
        facts = FileFacts(
            module=raw["module"],
            relpath=raw["relpath"],
            legacy=FrozenDict({k: (v[0], v[1]) for k, v in raw["legacy"].items()}),
            bindings=frozenset(raw["bindings"]),
            context=None
            if context is None
            else ContextType(
                constructors=FrozenDict(
                    {
                        c["name"]: Constructor(c["name"], tuple(c["required"]), tuple(c["accepted"]), c["open_keywords"])
                        for c in context["constructors"]
                    }
                ),
                placeholder_values=frozenset(context["values"]),
                placeholder_prefixes=tuple(context["prefixes"]),
            ),
            sources=tuple(ContextSource(**{**s, "required": tuple(s["required"])}) for s in raw["sources"]),
        )
    return FirstPass(agents, facts, bool(data["fixture"]))
