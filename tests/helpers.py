"""The two assertions most tests need, plus the in-memory runner behind them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec

from migrator import project
from migrator.config import Config, parse_config
from migrator.engine import Settings, process_bytes
from migrator.phases import PhaseMap
from migrator.results import FileResult, Finding
from migrator.rules import load_rules
from migrator.transforms import TRANSFORMS


def make_config(table: dict | None = None, root: Path = Path("/project")) -> Config:
    return parse_config(table or {}, root=root, source=None)


def run_text(
    source: str | bytes,
    *,
    relpath: str = "app/module.py",
    phase: str | None = None,
    config: Config | None = None,
    fixture_dirs: frozenset[str] = frozenset(),
    rules: tuple[str, ...] = (),
    fix: bool = True,
    unsafe_fixes: bool = False,
) -> FileResult:
    """Run every rule over one file's text (fixes on unless `fix` is false; unsafe ones only when asked)."""
    config = config or make_config()
    phase = phase or PhaseMap(config.phases).phase_of(relpath) or "2A"
    loaded = load_rules(config.rule_dirs, TRANSFORMS.keys())
    known = frozenset(rule.id for rule in loaded)
    if rules:
        loaded = tuple(rule for rule in loaded if rule.id in rules)
    raw = source.encode("utf-8") if isinstance(source, str) else source
    facts = msgspec.structs.replace(project.from_sources([(relpath, raw)], config), conftest_fixture_dirs=fixture_dirs)
    settings = Settings.build(
        config, loaded, fix=fix, project=facts, unsafe_fixes=unsafe_fixes, known_rule_ids=known
    )
    return process_bytes(raw, relpath, phase, settings)


def rewritten_text(result: FileResult, original: str) -> str:
    return result.rewritten.decode("utf-8") if result.rewritten is not None else original


def assert_rewrites(before: str, after: str, **options) -> list[Finding]:
    """`before` (dedented) becomes exactly `after` (dedented), and `after` is a fixed point."""
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    result = run_text(before, **options)
    assert result.message is None, result.message
    assert rewritten_text(result, before) == after
    again = run_text(after, **options)
    assert again.rewritten is None, "a second run changed the file again"
    return list(result.findings)


def assert_unchanged(source: str, **options) -> list[Finding]:
    """`source` (dedented) is left byte-for-byte as it is; returns the findings."""
    source = textwrap.dedent(source)
    result = run_text(source, **options)
    assert result.rewritten is None, rewritten_text(result, source)
    return list(result.findings)
