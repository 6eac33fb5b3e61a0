"""A run's settings: its config, rules and project facts, and the index of what the rules look for."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from migrator._frozen import FrozenDict
from migrator.analysis.legacy import LegacyIndex
from migrator.analysis.signatures import SignatureIndex
from migrator.config import Config
from migrator.matching import build_index
from migrator.project import ProjectFacts
from migrator.rules import Rule


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a run needs to process one file; built once per run."""

    config: Config
    rules: tuple[Rule, ...]
    index: LegacyIndex
    fix: bool = False
    want_diff: bool = False
    project: ProjectFacts = ProjectFacts()
    rule_symbols: Mapping[str, frozenset[str]] = FrozenDict()
    signatures: SignatureIndex | None = None

    def __post_init__(self) -> None:
        if self.signatures is None:
            object.__setattr__(self, "signatures", SignatureIndex(self.config.root))

    @classmethod
    def build(cls, config: Config, rules: Sequence[Rule], **options: object) -> Settings:
        facts = options.get("project") or ProjectFacts()
        index, rule_symbols = build_index(config, rules, facts)  # type: ignore[arg-type]
        return cls(config=config, rules=tuple(rules), index=index, rule_symbols=rule_symbols, **options)  # type: ignore[arg-type]
