"""One scan, from the discovered files to their results: the file index, the sweep, the project
facts, the analysis, and the index written back for the next scan."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import msgspec

from migrator import batch, project
from migrator.cache import ResultCache, encode_result, setup_key
from migrator.exit_codes import UsageError
from migrator.file_index import Entry, FileIndex
from migrator.results import RunResult, Status
from migrator.screen import Needles, Screen
from migrator.settings import Settings

if TYPE_CHECKING:
    from migrator.session import Session


class Options(msgspec.Struct, frozen=True):
    fix: bool = False
    want_diff: bool = False
    jobs: int = 0
    use_cache: bool = False
    unsafe_fixes: bool = False


def run(session: Session, options: Options, progress: batch.Progress | None) -> RunResult:
    """Process the session's files. With the cache on, files the file index knows unchanged
    are not read: their part of the facts and their results come from it. A run that fixes
    takes a scan's result where it has nothing to fix, and keeps its own there too: the two
    are the same."""
    config, rules = session.config, session.rules
    project_files = session.project_files or [source for source, _ in session.files]
    known = Settings.build(config, rules).screen
    needles = Needles([*sorted(known.plain), *project.first_pass_needles(config)])
    if progress is not None:
        progress.start(len(session.files))
    ruled_phases = {phase for rule in rules for phase in rule.phases}
    tasks = batch.unruled(batch.tasks_of(session.files, project_files), ruled_phases)
    indexed = options.use_cache
    old = FileIndex.load(config.root, setup_key(config, rules, *map(repr, needles.needles))) if indexed else None
    new = FileIndex(old.path, old.sweep_key) if old is not None else None

    swept = batch.Sweep([None] * len(session.files), [])
    reused: list[tuple[batch.Task, Entry]] = []
    to_read = []
    for task in tasks:
        entry = old.entry(task.relpath, task.stat) if old is not None else None
        if entry is None:
            to_read.append(task)
        else:
            reused.append((task, entry))
    # Without an index to record parts in, a sweep in this process leaves the packages wanted
    # for their imports alone unparsed until an agent class is possible.
    defer = new is None and batch.sweeps_in_process(len(to_read), options.jobs)
    reader = project.FirstPassReader.of(config, use_cache=options.use_cache)
    spec = batch.SweepSpec(known, needles, reader, config, defer_packages=defer)
    deferred = []
    for outcome in batch.sweep(to_read, swept, spec, options.jobs, progress):
        if outcome.deferred:
            deferred.append(outcome.task)
        if new is not None:
            _note_swept(new, outcome)
    for task, entry in reused:
        if entry.first_pass:
            assert old is not None
            swept.parts.append((task.order, task.relpath, old.part(task.relpath)))

    if deferred and project.agents_possible(swept.first_pass_parts()):
        swept.parts.extend(batch.package_parts(deferred, spec))
    facts = project.from_parts(swept.first_pass_parts(), config, (s.relpath for s in project_files), reader.cache)
    settings = Settings.build(
        config, rules, fix=options.fix, want_diff=options.want_diff, project=facts, unsafe_fixes=options.unsafe_fixes,
        per_file_ignores=session.selection.per_file_ignores, known_rule_ids=session.selection.known_rule_ids,
    )
    added = settings.screen.beyond(known)
    added_or_none = added if added.plain or added.called else None
    cache = ResultCache.open(config.root, config, rules, facts) if options.use_cache else None
    run_key = cache.folder.name if cache is not None else None
    screen_key = _screen_key(added)
    if old is not None and new is not None:
        same_screen, same_run = old.screen_key == screen_key, old.run_key == run_key
        fixing = settings if options.fix else None
        for task, entry in reused:
            relpath = task.relpath
            new.stats[relpath] = task.stat  # type: ignore[assignment]
            if entry.first_pass:
                new.parts[relpath] = old.parts.get(relpath)
            if task.position < 0:
                # A project file outside the run: the facts have its part, the index keeps its
                # entry, and its result while the run key is the one it was computed under (a
                # one-file check between two whole ones does not make the next analyse it again).
                new.entries[relpath] = entry if same_screen else entry._replace(added=None)
                if same_run and relpath in old.results:
                    new.results[relpath] = old.results[relpath]
                continue
            outcome = _reused(task, entry, old, cache, screen_key, added_or_none, fixing)
            batch.record(swept, outcome, progress)
            if outcome.state == batch.SETTLED and task.phase is not None and not entry.wanted:
                if entry.added is not False:
                    entry = entry._replace(added=False)  # searched, under this screen key
            elif not same_screen:
                entry = entry._replace(added=None)
            new.entries[relpath] = entry
            if outcome.state == batch.DONE:
                new.results[relpath] = old.results[relpath]

    def heard(outcome: batch.Swept, done: batch.Analysed) -> None:
        assert new is not None
        relpath = outcome.task.relpath
        entry = new.entries.get(relpath)
        if entry is not None:
            new.entries[relpath] = entry._replace(added=done.added)
        result = done.result
        if (outcome.state == batch.CANDIDATE or done.added) and result is not None and result.status is not Status.FAILED:
            encoded = encode_result(result) if not options.fix or batch.nothing_to_fix(result, settings) else None
            if encoded is not None:
                new.results[relpath] = encoded

    analysis = batch.AnalysisSpec(settings, added_or_none, cache)
    result = batch.run(
        session.files, swept, analysis, jobs=options.jobs, progress=progress, analysed=heard if new is not None else None
    )
    if new is not None and added_or_none is None:
        # Nothing was added to look for: every unmatched run file is settled under this key.
        for outcome in swept.outcomes:
            if outcome is not None and outcome.state == batch.UNMATCHED and outcome.task.relpath in new.entries:
                new.entries[outcome.task.relpath] = new.entries[outcome.task.relpath]._replace(added=False)
    if new is not None and old is not None:
        new.run_key, new.screen_key = run_key, screen_key
        if to_read or not new.same_as(old):
            try:
                new.save(session.started_ns)
            except UsageError:
                # A run that fixes can do without the index; the journal it needs reports the folder.
                if not options.fix:
                    raise
    return result


def _note_swept(index: FileIndex, outcome: batch.Swept) -> None:
    """Record what the sweep found in a file it read."""
    from migrator.analysis.facts_cache import encode_part

    task = outcome.task
    # A file the sweep did not read (no rule of this run looks at it) tells nothing of later runs.
    if task.stat is None or outcome.state == batch.FAILED or not outcome.read:
        return
    index.stats[task.relpath] = task.stat
    index.entries[task.relpath] = Entry(outcome.wanted, outcome.first_pass)
    if outcome.first_pass:
        index.parts[task.relpath] = None if outcome.part is None else encode_part(outcome.part)


def _reused(
    task: batch.Task,
    entry: Entry,
    old: FileIndex,
    cache: ResultCache | None,
    screen_key: str,
    added: Screen | None,
    fixing: Settings | None,
) -> batch.Swept:
    """The sweep's outcome for a file the index knows unchanged: settled, done (its result kept
    under this run key), or to be read again by the analysis. `fixing` are the settings of a
    run that fixes, which takes only a result with nothing to fix."""
    if task.phase is None:
        return batch.Swept(task, batch.SETTLED, first_pass=entry.first_pass, wanted=entry.wanted)
    if entry.wanted or (added is not None and old.screen_key == screen_key and entry.added is True):
        kept = old.result(task.relpath, cache) if cache is not None else None
        if kept is not None and (fixing is None or batch.nothing_to_fix(kept, fixing)):
            return batch.Swept(task, batch.DONE, wanted=entry.wanted, result=kept)
        state = batch.CANDIDATE if entry.wanted else batch.UNMATCHED
        return batch.Swept(task, state, task.stat[0] if task.stat else 0, wanted=entry.wanted)
    if added is None or (old.screen_key == screen_key and entry.added is False):
        return batch.Swept(task, batch.SETTLED, wanted=False)
    return batch.Swept(task, batch.UNMATCHED, task.stat[0] if task.stat else 0)


def _screen_key(screen: Screen) -> str:
    text = repr((sorted(screen.plain), sorted(screen.called)))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

