"""One command's set-up: the project's config, rules, phases and files, and the run over them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from migrator import batch, project
from migrator.cache import ResultCache
from migrator.config import Config, load_config
from migrator.discovery import discover
from migrator.exit_codes import UsageError
from migrator.matching import check_symbols
from migrator.phases import PHASE_IDS, PhaseMap
from migrator.results import RunResult
from migrator.rules import Rule, load_rules
from migrator.rules import select as select_rules
from migrator.selection import PerFileIgnores, enabled_rules
from migrator.settings import Settings
from migrator.transforms import TRANSFORMS


@dataclasses.dataclass(frozen=True)
class Selection:
    """What the run's rule selection leaves for each file: per-file ignores, and every rule ID loaded."""

    per_file_ignores: PerFileIgnores = PerFileIgnores()
    known_rule_ids: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class Session:
    """The project a command works on: its config, rules, phases and files."""

    config: Config
    rules: tuple[Rule, ...]
    phase_map: PhaseMap
    files: tuple
    # Every file of the project, whatever the paths and phases asked for: the first pass
    # (agent classes, their registered names) must see the whole tree.
    project_files: tuple = ()
    selection: Selection = Selection()

    @classmethod
    def open(
        cls,
        paths: Sequence[Path],
        phases: Sequence[str],
        rule_ids: Sequence[str] = (),
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
    ) -> Session:
        """`rule_ids` restricts the run to those rules; `select`/`ignore` are the command line's
        selectors (comma-separated values), applied after the config's."""
        paths = list(paths) or [Path(".")]
        for path in paths:
            if not os.path.lexists(path):
                raise UsageError(f"path does not exist: {path}")
        config = load_config(paths[0])
        loaded = project_rules(config)
        rules = select_rules(loaded, rule_ids) if rule_ids else loaded
        rules = enabled_rules(rules, config, select, ignore, known=[rule.id for rule in loaded])
        selection = Selection(PerFileIgnores.build(config, loaded), frozenset(rule.id for rule in loaded))
        phase_map = PhaseMap(config.phases)
        wanted = phase_map.resolve(phases) if phases else frozenset(PHASE_IDS)
        found = discover(config.root, paths, config.include, config.exclude)
        files = tuple(phase_map.assign(found, wanted))
        whole = all(Path(p).resolve() == config.root for p in paths)
        everything = found if whole else discover(config.root, [config.root], config.include, config.exclude)
        return cls(config, rules, phase_map, files, tuple(everything), selection)

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
        """Process every file; with `use_cache`, a scan reuses and records results under `.migrator/cache`.

        Two passes (see `batch`): a sweep that reads every project file once and gathers the
        project facts, then the analysis of the files that name a deprecated name.
        """
        from migrator.screen import Needles

        project_files = self.project_files or [source for source, _ in self.files]
        known = Settings.build(self.config, self.rules).screen
        reader = project.FirstPassReader.of(self.config, use_cache=use_cache)
        spec = batch.SweepSpec(known, Needles([*sorted(known.plain), *project.first_pass_needles(self.config)]), reader, self.config)
        if progress is not None:
            progress.start(len(self.files))
        tasks = batch.tasks_of(self.files, project_files)
        ruled_phases = {phase for rule in self.rules for phase in rule.phases}
        swept = batch.sweep(tasks, len(self.files), spec, ruled_phases, jobs, progress)
        facts = project.from_parts(swept.first_pass_parts(), self.config, (s.relpath for s in project_files))
        settings = Settings.build(
            self.config, self.rules, fix=fix, want_diff=want_diff, project=facts, unsafe_fixes=unsafe_fixes,
            per_file_ignores=self.selection.per_file_ignores, known_rule_ids=self.selection.known_rule_ids,
        )
        added = settings.screen.beyond(known)
        # Rewrites carry the new bytes of each file; only findings are worth keeping.
        cache = ResultCache.open(self.config.root, self.config, self.rules, facts) if use_cache and not fix else None
        analysis = batch.AnalysisSpec(settings, added if added.plain or added.called else None, cache)
        return batch.run(self.files, swept, analysis, jobs=jobs, progress=progress)


def project_rules(config: Config) -> tuple[Rule, ...]:
    """The shipped rules and the project's own, checked against the transforms there are."""
    rules = load_rules(config.rule_dirs, TRANSFORMS.keys())
    check_symbols(rules, config)
    return rules
