"""What the rules of a run look for: their symbols expanded, and the index that finds them.

A rule names deprecated symbols directly (`get_agent_instance_factory`), methods of legacy
objects (`registry.get`), getters by role (`@registry`, `@bridge`, `@db_session`, from
`[tool.migrator.getters]`), or `@agent_classes` (the agent classes the first pass found).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from migrator._frozen import FrozenDict
from migrator.analysis.agents import is_test_module
from migrator.analysis.facts import CURRENT, FRESH, PER_USER
from migrator.analysis.legacy import LegacyIndex
from migrator.config import RECEIVER_TYPES, Config
from migrator.exit_codes import UsageError
from migrator.project import ProjectFacts
from migrator.rules import Rule

AGENT_CLASSES = "@agent_classes"


def expand_symbols(rule: Rule, config: Config, facts: ProjectFacts) -> frozenset[str]:
    """The concrete symbols a rule matches in this project.

    A legacy name the tree's own definition shows to be fresh per call (a getter that builds a
    new value, a generator dependency), or that the config declares current, is no deprecated
    use: no rule matches it.
    """
    expanded: set[str] = set()
    for symbol in rule.symbols:
        if symbol == AGENT_CLASSES:
            expanded |= {qualname.rpartition(".")[2] for qualname in agent_classes(facts)}
        elif symbol.startswith("@"):
            expanded |= set(config.getters.get(symbol[1:], ()))
        else:
            expanded.add(symbol)
    return frozenset(name for name in expanded if facts.codebase.sharing(name) not in (FRESH, CURRENT))


def agent_classes(facts: ProjectFacts) -> list[str]:
    """The qualified names `@agent_classes` stands for: the agent classes the first pass found,
    less those defined in test code (test doubles, which no rule reports)."""
    return [qualname for qualname in facts.agent_classes if not is_test_module(qualname.rpartition(".")[0])]


def check_symbols(rules: Sequence[Rule], config: Config) -> None:
    """Every symbol a rule names must resolve to something: a legacy name of the config, a
    getter role (`@registry`), `@agent_classes`, or a method of a role (`registry.get`)."""
    roles = set(config.getters) | set(RECEIVER_TYPES.values())
    for rule in rules:
        for symbol in rule.symbols:
            if symbol == AGENT_CLASSES or symbol in config.legacy or symbol in RECEIVER_TYPES:
                continue
            if symbol.startswith("@") and symbol[1:] in config.getters:
                continue
            if "." in symbol and symbol.partition(".")[0] in roles:
                continue
            raise UsageError(
                f"{rule.source}: symbol {symbol!r} of {rule.id} resolves to nothing: expected a name of "
                f"[tool.migrator.legacy], a getter role (@{', @'.join(sorted(config.getters))}), "
                f"{AGENT_CLASSES}, or <role>.<method> with a role among {', '.join(sorted(roles))}"
            )


def build_index(
    config: Config, rules: Sequence[Rule], facts: ProjectFacts
) -> tuple[LegacyIndex, Mapping[str, frozenset[str]]]:
    """The legacy index for these rules, and each rule's expanded symbols."""
    by_rule = {rule.id: expand_symbols(rule, config, facts) for rule in rules}
    wanted = set().union(*by_rule.values()) if by_rule else set()
    methods = {symbol for symbol in wanted if "." in symbol}
    plain = wanted - methods
    getter_roles = {
        name: role for role, names in config.getters.items() for name in names if _shared(name, facts)
    }
    # A class that is per user by its own definition makes no shared receiver.
    type_roles = {name: role for name, role in RECEIVER_TYPES.items() if _shared(name, facts)}
    if methods:
        # Method calls count only on known legacy objects, so their makers must be found too.
        plain |= set(getter_roles) | set(type_roles)
    definitions = [(symbol, config.legacy[symbol]) for symbol in plain if symbol in config.legacy]
    agent_rules = any(AGENT_CLASSES in rule.symbols for rule in rules)
    if agent_rules:
        definitions += [tuple(reversed(q.rsplit(".", 1))) for q in agent_classes(facts)]  # type: ignore[misc]
    index = LegacyIndex.build(
        definitions,
        config.reexports,
        getter_roles=getter_roles,
        type_roles=type_roles,
        method_symbols=methods,
        called_only=_called_only(rules, by_rule) - set(getter_roles) - set(type_roles),
        aliases=facts.agent_aliases if agent_rules else FrozenDict(),
    )
    return index, FrozenDict(by_rule)


def _called_only(rules: Sequence[Rule], by_rule: Mapping[str, frozenset[str]]) -> set[str]:
    """The symbols every rule that names them matches only as calls."""
    kinds: dict[str, set[str]] = {}
    for rule in rules:
        for symbol in by_rule[rule.id]:
            kinds.setdefault(symbol, set()).update(rule.kinds)
    return {symbol for symbol, matched in kinds.items() if matched == {"call"}}


def _shared(name: str, facts: ProjectFacts) -> bool:
    return facts.codebase.sharing(name) not in (FRESH, PER_USER, CURRENT)
