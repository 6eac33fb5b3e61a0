"""Rule files: one TOML file per rule in `rules/`, its ID taken from the file name."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from migrator._frozen import FrozenDict
from migrator.exit_codes import UsageError
from migrator.phases import PHASE_IDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_FILE_NAME = re.compile(r"^(?P<id>[A-Z]{3}\d{3})-(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)\.toml$")
# `suppression`: the rule reports suppression comments (MIG000), not uses of a symbol.
_KINDS = frozenset({"call", "method", "reference", "import", "definition", "patch", "suppression"})
_TOP_KEYS = {"summary", "message", "phases", "match", "fix", "detect", "guidance", "docs"}
_DETECT_KEYS = {"reporter"}
_MATCH_KEYS = {"symbols", "kinds"}
_FIX_KEYS = {"transform", "params", "safety"}
_SAFETIES = ("safe", "unsafe")
_DOC_KEYS = {"what", "why", "not_reported", "example"}
# The first line of a fixture case may set the path it pretends to live at; not part of the example.
_DIRECTIVE = re.compile(r"^#\s*fixture:[^\n]*\n")


class RuleDocs(msgspec.Struct, frozen=True):
    """A rule's documentation, in the fixed template; before and after are read from the rule's
    named fixture case (`example`), which the test suite runs."""

    what: str
    why: str
    not_reported: str
    example: str
    before: str
    after: str


class Rule(msgspec.Struct, frozen=True):
    """A rule: what it matches, in which phases, and which transform (if any) fixes it."""

    id: str
    name: str
    summary: str
    message: str
    phases: frozenset[str]
    symbols: tuple[str, ...]
    kinds: frozenset[str]
    transform: str | None
    params: Mapping[str, Any]
    reporter: str | None
    guidance: str
    docs: RuleDocs
    source: Path
    # "unsafe" makes every fix of the rule unsafe; with "safe" a transform still marks its own.
    fix_safety: str = "safe"

    @property
    def fixable(self) -> bool:
        """A rule is fixable exactly when it names a transform."""
        return self.transform is not None


def shipped_examples_dir() -> Path | None:
    """The fixture cases rules take their examples from (inside the wheel, or the checkout)."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "rule_examples", package.parent / "fixtures" / "rules"):
        if candidate.is_dir():
            return candidate
    return None


def shipped_rules_dir() -> Path:
    """The folder of rule files that ships with the package (inside the wheel, or the checkout)."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "rules", package.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise UsageError(f"the shipped rule files are missing: looked in {package / 'rules'}")


def load_rules(extra_dirs: Sequence[Path] = (), known_transforms: Iterable[str] = ()) -> tuple[Rule, ...]:
    """Load the shipped rules and those in `extra_dirs`, sorted by ID; any bad file is an error."""
    transforms = frozenset(known_transforms)
    rules: dict[str, Rule] = {}
    for folder in (shipped_rules_dir(), *extra_dirs):
        if not folder.is_dir():
            raise UsageError(f"rule folder does not exist: {folder}")
        for path in sorted(folder.glob("*.toml")):
            rule = load_rule(path, transforms)
            if rule.id in rules:
                raise UsageError(f"{path}: rule {rule.id} is already defined in {rules[rule.id].source}")
            rules[rule.id] = rule
    return tuple(rules[key] for key in sorted(rules))


def select(rules: Sequence[Rule], ids: Iterable[str]) -> tuple[Rule, ...]:
    """The rules with the given IDs (any case); an unknown ID is a usage error."""
    by_id = {rule.id: rule for rule in rules}
    chosen = []
    for rule_id in ids:
        rule = by_id.get(rule_id.upper())
        if rule is None:
            raise UsageError(f"unknown rule {rule_id!r}; `migrator rules` lists them")
        chosen.append(rule)
    return tuple(rule for rule in rules if rule in chosen)


def load_rule(path: Path, known_transforms: frozenset[str]) -> Rule:
    """Parse and validate one rule file."""
    named = _FILE_NAME.match(path.name)
    if named is None:
        raise UsageError(f"{path}: rule file names look like MIG001-short-name.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{path}: cannot read rule: {error}") from None
    where = str(path)
    _check_keys(data, _TOP_KEYS, where, "rule")
    match = _table(data, "match", where)
    _check_keys(match, _MATCH_KEYS, where, "match")
    fix = data.get("fix", {})
    if not isinstance(fix, dict):
        raise UsageError(f"{where}: key 'fix' expects a table")
    _check_keys(fix, _FIX_KEYS, where, "fix")
    docs = _table(data, "docs", where)
    _check_keys(docs, _DOC_KEYS, where, "docs")
    missing = sorted(_DOC_KEYS - set(docs))
    if missing:
        raise UsageError(f"{where}: key 'docs.{missing[0]}' is required")
    kinds = frozenset(_strings(match, "kinds", where))
    if not kinds or not kinds <= _KINDS:
        raise UsageError(f"{where}: key 'match.kinds' expects some of {', '.join(sorted(_KINDS))}")
    phases = frozenset(_strings(data, "phases", where)) if "phases" in data else frozenset(PHASE_IDS)
    if not phases <= set(PHASE_IDS):
        raise UsageError(f"{where}: key 'phases' expects some of {', '.join(PHASE_IDS)}")
    transform = fix.get("transform")
    if transform is not None and transform not in known_transforms:
        raise UsageError(f"{where}: key 'fix.transform' names an unknown transform {transform!r}")
    params = fix.get("params", {})
    if not isinstance(params, dict):
        raise UsageError(f"{where}: key 'fix.params' expects a table")
    fix_safety = fix.get("safety", "safe")
    if fix_safety not in _SAFETIES:
        raise UsageError(f"{where}: key 'fix.safety' expects one of {', '.join(_SAFETIES)}, got {fix_safety!r}")
    if "safety" in fix and transform is None:
        raise UsageError(f"{where}: key 'fix.safety' needs a 'fix.transform': a detect-only rule has no fix")
    detect = data.get("detect", {})
    if not isinstance(detect, dict):
        raise UsageError(f"{where}: key 'detect' expects a table")
    _check_keys(detect, _DETECT_KEYS, where, "detect")
    reporter = detect.get("reporter")
    if reporter is not None and (transform is not None or reporter not in known_transforms):
        raise UsageError(
            f"{where}: key 'detect.reporter' names an unknown module {reporter!r}, or the rule also names a fix"
        )
    return Rule(
        id=named["id"],
        name=named["name"],
        summary=_text(data, "summary", where),
        message=_text(data, "message", where),
        phases=phases,
        symbols=_strings(match, "symbols", where),
        kinds=kinds,
        transform=transform,
        params=FrozenDict(dict(params)),
        reporter=reporter,
        guidance=str(data.get("guidance", "")).strip(),
        docs=_docs(docs, named["id"], path, where),
        source=path,
        fix_safety=fix_safety,
    )


def _docs(docs: Mapping[str, Any], rule_id: str, path: Path, where: str) -> RuleDocs:
    """The docs table, with before/after read from the named fixture case of the rule."""
    texts = {key: str(docs[key]).strip("\n") for key in _DOC_KEYS}
    case = texts["example"]
    folders = [path.parent / rule_id, *([d / rule_id] if (d := shipped_examples_dir()) else [])]
    for folder in folders:
        before, after = folder / f"{case}.before.py", folder / f"{case}.after.py"
        alone = folder / f"{case}.py"
        if before.is_file() and after.is_file():
            return RuleDocs(**texts, before=_example(before), after=_example(after))
        if alone.is_file():
            return RuleDocs(**texts, before=_example(alone), after="(detect only: the code is left as it is)")
    raise UsageError(f"{where}: key 'docs.example' names {case!r}, which is no fixture case of {rule_id} (looked in {folders[-1]})")


def _example(path: Path) -> str:
    return _DIRECTIVE.sub("", path.read_text(encoding="utf-8"), count=1).strip("\n")


def _check_keys(table: Mapping[str, Any], known: set[str], where: str, section: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(f"{where}: unknown key '{unknown[0]}' in [{section}]; expected one of {', '.join(sorted(known))}")


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise UsageError(f"{where}: key '{key}' expects a table")
    return value


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: key '{key}' expects a list of strings")
    return tuple(value)


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: key '{key}' expects a non-empty string")
    return value.strip()


def markdown_table(rules: Sequence[Rule]) -> str:
    """The rule table the README carries, generated from the rule files."""
    lines = ["| id | name | finds | fix | phases |", "|---|---|---|---|---|"]
    for rule in rules:
        fix = f"`{rule.transform}`" if rule.transform else "manual review"
        lines.append(f"| {rule.id} | {rule.name} | {rule.summary} | {fix} | {', '.join(sorted(rule.phases))} |")
    return "\n".join(lines) + "\n"
