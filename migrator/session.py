"""One command's set-up: the project's config, rules, phases and files, and the run over them."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from migrator import batch
from migrator.config import Config, load_config
from migrator.discovery import discover
from migrator.exit_codes import UsageError
from migrator.matching import check_symbols
from migrator.phases import PHASE_IDS, PhaseMap
from migrator.results import RunResult
from migrator.rules import Rule, load_rules
from migrator.rules import select as select_rules
from migrator.selection import PerFileIgnores, enabled_rules
from migrator.transforms import TRANSFORMS


class Selection(msgspec.Struct, frozen=True):
    """What the run's rule selection leaves for each file: per-file ignores, and every rule ID loaded."""

    per_file_ignores: PerFileIgnores = PerFileIgnores()
    known_rule_ids: frozenset[str] = frozenset()


class Session(msgspec.Struct, frozen=True):
    """The project a command works on: its config, rules, phases and files."""

    config: Config
    rules: tuple[Rule, ...]
    phase_map: PhaseMap
    files: tuple
    # Every file of the project, whatever the paths and phases asked for: the first pass
    # (agent classes, their registered names) must see the whole tree.
    project_files: tuple = ()
    selection: Selection = Selection()
    # When discovery began: a file modified after it is read again by the next scan.
    started_ns: int = 0

    @classmethod
    def open(
        cls,
        paths: Sequence[Path],
        phases: Sequence[str],
        rule_ids: Sequence[str] = (),
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        stats: bool = True,
    ) -> Session:
        """`rule_ids` restricts the run to those rules; `select`/`ignore` are the command line's
        selectors (comma-separated values), applied after the config's. Without `stats` the
        files' stats are not taken: a run that neither reads nor writes the file index."""
        paths = list(paths) or [Path(".")]
        for path in paths:
            if not os.path.lexists(path):
                raise UsageError(f"path does not exist: {path}")
        config = load_config(paths[0])
        loaded = project_rules(config)
        rules = select_rules(loaded, rule_ids) if rule_ids else loaded
        rules = enabled_rules(rules, config, select, ignore, known=[rule.id for rule in loaded])
        selection = Selection(PerFileIgnores.build(config, loaded), frozenset(rule.id for rule in loaded))
        started_ns = time.time_ns()
        phase_map = PhaseMap(config.phases)
        wanted = phase_map.resolve(phases) if phases else frozenset(PHASE_IDS)
        found = discover(config.root, paths, config.include, config.exclude, stats=stats)
        files = tuple(phase_map.assign(found, wanted))
        whole = all(Path(p).resolve() == config.root for p in paths)
        everything = (
            found if whole else discover(config.root, [config.root], config.include, config.exclude, stats=stats)
        )
        return cls(config, rules, phase_map, files, tuple(everything), selection, started_ns)

    def run(
        self,
        *,
        fix: bool = False,
        want_diff: bool = False,
        jobs: int = 0,
        use_cache: bool = False,
        progress: batch.Progress | None = None,
        unsafe_fixes: bool = False,
    ) -> RunResult:
        """Process every file; with `use_cache`, a scan reuses and records what it learns under
        `.migrator/` (the file index, the facts and the results)."""
        from migrator import pipeline

        options = pipeline.Options(fix, want_diff, jobs, use_cache, unsafe_fixes)
        return pipeline.run(self, options, progress)


def project_rules(config: Config) -> tuple[Rule, ...]:
    """The shipped rules and the project's own, checked against the transforms there are."""
    rules = load_rules(config.rule_dirs, TRANSFORMS.keys())
    check_symbols(rules, config)
    return rules
