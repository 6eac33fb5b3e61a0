"""One command's set-up and the steps that touch the disk: run, write with a journal, roll back."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from migrator import batch, engine, project
from migrator.cache import ResultCache
from migrator.config import Config, load_config
from migrator.discovery import discover
from migrator.exit_codes import UsageError
from migrator.gitstate import dirty_files
from migrator.journal import Journal, Run, file_mode, sha256
from migrator.phases import PHASE_IDS, PhaseMap
from migrator.results import FileResult, RunResult, Status
from migrator.rules import Rule, load_rules
from migrator.transforms import TRANSFORMS
from migrator.writer import atomic_write

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

    @classmethod
    def open(cls, paths: Sequence[Path], phases: Sequence[str], rule_ids: Sequence[str] = ()) -> Session:
        paths = list(paths) or [Path(".")]
        for path in paths:
            if not os.path.lexists(path):
                raise UsageError(f"path does not exist: {path}")
        config = load_config(paths[0])
        rules = load_rules(config.rule_dirs, TRANSFORMS.keys())
        if rule_ids:
            known = {rule.id for rule in rules}
            unknown = [r for r in rule_ids if r.upper() not in known]
            if unknown:
                raise UsageError(f"unknown rule {unknown[0]!r}; `migrator rules` lists them")
            rules = tuple(rule for rule in rules if rule.id in {r.upper() for r in rule_ids})
        phase_map = PhaseMap(config.phases)
        wanted = phase_map.resolve(phases) if phases else frozenset(PHASE_IDS)
        found = discover(config.root, paths, config.include, config.exclude)
        files = tuple(engine.phase_files(found, phase_map, wanted))
        whole = all(Path(p).resolve() == config.root for p in paths)
        everything = found if whole else discover(config.root, [config.root], config.include, config.exclude)
        return cls(config, rules, phase_map, files, tuple(everything))

    def run(
        self,
        *,
        fix: bool = False,
        want_diff: bool = False,
        jobs: int = 0,
        use_cache: bool = False,
        progress: batch.Progress | None = None,
    ) -> RunResult:
        """Process every file; with `use_cache`, a scan reuses and records results under `.migrator/cache`."""
        facts = project.collect(self.config.root, self.project_files or [source for source, _ in self.files])
        settings = engine.Settings.build(self.config, self.rules, fix=fix, want_diff=want_diff, project=facts)
        # Rewrites carry the new bytes of each file; only findings are worth keeping.
        cache = ResultCache.open(self.config.root, self.config, self.rules, facts) if use_cache and not fix else None
        return batch.run(self.files, settings, jobs=jobs, cache=cache, progress=progress)


def write_changes(root: Path, result: RunResult, phases: list[str], allow_dirty: bool) -> tuple[RunResult, str | None]:
    """Write every changed file atomically, journaled; refuse over uncommitted changes."""
    changed = result.changed
    if not changed:
        return result, None
    if not allow_dirty:
        dirty = dirty_files(root, [r.path for r in changed])
        if dirty:
            listed = ", ".join(dirty[:10]) + (" ..." if len(dirty) > 10 else "")
            raise UsageError(
                f"refusing to rewrite {len(dirty)} file(s) with uncommitted changes: {listed}; "
                "commit or stash them first, or pass --allow-dirty"
            )
    journal = Journal(root)
    run = journal.start(phases)
    final: list[FileResult] = []
    for item in result.files:
        if item.status is Status.CHANGED:
            item = _write_one(root, journal, run, item)
        final.append(item)
    journal.finish(run, "applied")
    return RunResult(tuple(final)), run.run_id


def _write_one(root: Path, journal: Journal, run: Run, item: FileResult) -> FileResult:
    assert item.original is not None and item.rewritten is not None
    path = root / item.path
    try:
        if path.read_bytes() != item.original:
            return dataclasses.replace(item, status=Status.FAILED, message="changed on disk during the run; left as it is")
        journal.record(run, item.path, item.original, item.rewritten, file_mode(path))
        atomic_write(path, item.rewritten)
    except OSError as error:
        return dataclasses.replace(item, status=Status.FAILED, message=f"cannot write: {error.strerror or error}")
    return item


@dataclasses.dataclass(frozen=True)
class RollbackReport:
    run_id: str
    restored: list[str]
    refused: list[str]


def rollback(root: Path, run_id: str | None, force: bool) -> RollbackReport:
    """Restore the original bytes of a run; without `force`, refuse if any file changed since."""
    journal = Journal(root)
    run = journal.load(run_id)
    if run.status == "rolled-back":
        raise UsageError(f"run {run.run_id} was already rolled back")
    changed_since = []
    for entry in run.entries:
        path = root / entry.path
        current = path.read_bytes() if path.exists() else None
        if current is None or sha256(current) != entry.after:
            changed_since.append(entry.path)
    if changed_since and not force:
        raise UsageError(
            f"refusing to roll back run {run.run_id}: {len(changed_since)} file(s) changed since it was applied: "
            f"{', '.join(changed_since[:10])}; pass --force to restore them anyway"
        )
    restored = []
    for entry in run.entries:
        atomic_write(root / entry.path, run.original_bytes(entry), mode=entry.mode)
        restored.append(entry.path)
    journal.finish(run, "rolled-back")
    return RollbackReport(run.run_id, restored, changed_since)


def project_root(start: Path) -> Path:
    return load_config(start).root
