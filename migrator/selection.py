"""Which rules a run reports: `select`, `extend-select`, `ignore` and `per-file-ignores`, as Ruff reads them.

A selector is a rule ID (`MIG001`), a prefix of IDs (`MIG00` is MIG000 to MIG009, `MIG` every
MIG rule) or `ALL`. The config's selection is one layer and the command line's another, applied
in that order: a layer with `select` starts afresh from it, one without starts from what the
layer before left; then, from the least specific selector to the most specific, its selects
add rules and its ignores remove them (an ignore beats a select of the same specificity). So
`select = ["MIG"]`, `ignore = ["MIG00"]`, `extend-select = ["MIG001"]` keeps MIG001 and MIG010+.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import msgspec

from migrator.config import RULE_SELECTOR, Config
from migrator.exit_codes import UsageError
from migrator.rules import Rule


class Layer(msgspec.Struct, frozen=True):
    """One source of selectors: where they come from (for errors) and what they say."""

    where: str
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # How each key is named in an error message: a config key or a command-line option.
    names: tuple[str, str, str] = ("key 'select'", "key 'extend-select'", "key 'ignore'")


def specificity(selector: str) -> int:
    """How narrow a selector is: ALL < MIG < MIG0 < MIG00 < MIG001."""
    return 0 if selector == "ALL" else len(selector)


def matching(selector: str, rule_ids: Iterable[str]) -> frozenset[str]:
    """The rule IDs a selector names."""
    if selector == "ALL":
        return frozenset(rule_ids)
    return frozenset(rule_id for rule_id in rule_ids if rule_id.startswith(selector))


def config_layer(config: Config) -> Layer:
    return Layer(str(config.source) if config.source else "configuration", config.select, config.extend_select, config.ignore)


def cli_layer(select: Sequence[str], ignore: Sequence[str]) -> Layer:
    """The `--select` / `--ignore` options: each value may hold several comma-separated selectors."""
    return Layer(
        "command line",
        select=_split_option(select, "--select") or None,
        ignore=_split_option(ignore, "--ignore"),
        names=("option --select", "option --extend-select", "option --ignore"),
    )


def _split_option(values: Sequence[str], option: str) -> tuple[str, ...]:
    found = []
    for value in values:
        for part in value.split(","):
            selector = part.strip().upper()
            if not selector:
                continue
            if not RULE_SELECTOR.match(selector):
                raise UsageError(f"option {option} expects rule IDs or prefixes such as MIG001, MIG00 or ALL, got {part.strip()!r}")
            found.append(selector)
    if values and not found:
        raise UsageError(f"option {option} names no rule")
    return tuple(found)


def enabled_ids(rule_ids: Sequence[str], layers: Sequence[Layer], known: Sequence[str] = ()) -> frozenset[str]:
    """The rule IDs the layers leave enabled; a selector that names none of the `known` rules
    (default: `rule_ids`) is a usage error."""
    enabled = frozenset(rule_ids)
    for layer in layers:
        groups = zip(layer.names, (layer.select or (), layer.extend_select, layer.ignore))
        for name, selectors in groups:
            for selector in selectors:
                if not matching(selector, known or rule_ids):
                    raise UsageError(f"{layer.where}: {name} names unknown rule {selector!r}; `migrator rules` lists them")
        chosen = set() if layer.select is not None else set(enabled)
        adds = [*(layer.select or ()), *layer.extend_select]
        for level in sorted({specificity(s) for s in (*adds, *layer.ignore)}):
            for selector in adds:
                if specificity(selector) == level:
                    chosen |= matching(selector, rule_ids)
            for selector in layer.ignore:
                if specificity(selector) == level:
                    chosen -= matching(selector, rule_ids)
        enabled = frozenset(chosen)
    return enabled


def enabled_rules(
    rules: Sequence[Rule], config: Config, select: Sequence[str] = (), ignore: Sequence[str] = (), known: Sequence[str] = ()
) -> tuple[Rule, ...]:
    """The rules a run reports, after the config's selection and the command line's; selectors are
    checked against the `known` rule IDs (default: those of `rules`)."""
    layers = [config_layer(config)]
    if select or ignore:
        layers.append(cli_layer(select, ignore))
    enabled = enabled_ids([rule.id for rule in rules], layers, known)
    if not enabled:
        # A gate that runs no rule would pass whatever the code holds.
        raise UsageError(f"{' and '.join(layer.where for layer in layers)}: the rule selection leaves no rule to run")
    return tuple(rule for rule in rules if rule.id in enabled)


class PerFileIgnores(msgspec.Struct, frozen=True, dict=True):
    """Rules left out for files matching a glob (gitignore-style, relative to the project root)."""

    entries: tuple[tuple[str, frozenset[str]], ...] = ()

    @classmethod
    def build(cls, config: Config, rules: Sequence[Rule]) -> PerFileIgnores:
        where = str(config.source) if config.source else "configuration"
        rule_ids = [rule.id for rule in rules]
        entries = []
        for pattern, selectors in config.per_file_ignores:
            ids: set[str] = set()
            for selector in selectors:
                named = matching(selector, rule_ids)
                if not named:
                    raise UsageError(
                        f"{where}: key 'per-file-ignores.\"{pattern}\"' names unknown rule {selector!r}; "
                        "`migrator rules` lists them"
                    )
                ids |= named
            entries.append((pattern, frozenset(ids)))
        return cls(tuple(entries))

    @functools.cached_property
    def _specs(self) -> tuple:
        import pathspec

        return tuple((pathspec.GitIgnoreSpec.from_lines([pattern]), ids) for pattern, ids in self.entries)

    def ignored(self, relpath: str) -> frozenset[str]:
        """The rule IDs left out for this file (a path relative to the root, `/`-separated)."""
        if not self.entries:
            return frozenset()
        found: set[str] = set()
        for spec, ids in self._specs:
            if spec.match_file(relpath):
                found |= ids
        return frozenset(found)
