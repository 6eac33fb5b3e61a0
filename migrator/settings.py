"""A run's settings: its config, rules and project facts, and the index of what the rules look for."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import msgspec

from migrator._frozen import FrozenDict
from migrator.analysis.legacy import LegacyIndex
from migrator.analysis.signatures import SignatureIndex
from migrator.config import Config
from migrator.matching import build_index
from migrator.project import ProjectFacts
from migrator.rules import Rule
from migrator.screen import Screen
from migrator.selection import PerFileIgnores
from migrator.suppressions import MARKER, SUPPRESSION_RULE


class Settings(msgspec.Struct, frozen=True, dict=True):
    """Everything a run needs to process one file; built once per run."""

    config: Config
    rules: tuple[Rule, ...]
    index: LegacyIndex
    fix: bool = False
    want_diff: bool = False
    project: ProjectFacts = ProjectFacts()
    rule_symbols: Mapping[str, frozenset[str]] = FrozenDict()
    # Write fixes marked unsafe too (apply --unsafe-fixes).
    unsafe_fixes: bool = False
    per_file_ignores: PerFileIgnores = PerFileIgnores()
    # Every rule loaded, selected or not: a suppression naming another ID names an unknown rule.
    known_rule_ids: frozenset[str] = frozenset()
    signatures: SignatureIndex | None = None

    def __post_init__(self) -> None:
        if self.signatures is None:
            msgspec.structs.force_setattr(self, "signatures", SignatureIndex(self.config.root))

    @classmethod
    def build(cls, config: Config, rules: Sequence[Rule], **options: object) -> Settings:
        facts = options.get("project") or ProjectFacts()
        index, rule_symbols = build_index(config, rules, facts)  # type: ignore[arg-type]
        options.setdefault("known_rule_ids", frozenset(rule.id for rule in rules))
        return cls(config=config, rules=tuple(rules), index=index, rule_symbols=rule_symbols, **options)  # type: ignore[arg-type]

    def rules_for(self, relpath: str, phase: str) -> list[Rule]:
        """The rules that run on one file: those of its phase, less its per-file ignores."""
        ignored = self.per_file_ignores.ignored(relpath)
        return [rule for rule in self.rules if phase in rule.phases and rule.id not in ignored]

    @functools.cached_property
    def screen(self) -> Screen:
        """What a file must contain to be analysed: a deprecated name (a called-only one in a
        call's shape), or a suppression when MIG000 runs."""
        return Screen(self.index.needles + self.extra_needles, self.index.called_needles)

    @property
    def extra_needles(self) -> tuple[bytes, ...]:
        return (MARKER.encode(),) if any(rule.id == SUPPRESSION_RULE for rule in self.rules) else ()
