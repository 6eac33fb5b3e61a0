"""Runs the engine over many files in two passes, each spread over worker processes on a large tree.

The sweep reads every file once and searches its bytes once for every needle known before the
project facts (one automaton: deprecated names, the first pass's triggers). That settles each
file: the first pass parses it there for its part of the facts, or it is a candidate (it names
a deprecated name), or it is unmatched. Only these small outcomes travel back, never bytes.

The analysis runs once the facts are merged: candidates are read again and analysed. The facts
may add names (agent classes, which count only where called); only then are the unmatched
files read again, and only those the added names occur in are analysed.
"""

from __future__ import annotations

import gc
import heapq
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

import msgspec

from migrator.results import FileResult, RunResult, Status, makes_a_fix

if TYPE_CHECKING:
    from migrator.analysis.facts_cache import FirstPass
    from migrator.cache import ResultCache
    from migrator.config import Config
    from migrator.discovery import SourceFile
    from migrator.file_index import Stat
    from migrator.project import FirstPassReader
    from migrator.screen import Needles, Screen
    from migrator.settings import Settings

# Below this many files to read (or candidates to analyse), worker processes cost more than they save.
PARALLEL_THRESHOLD = 48
SWEEP_PARALLEL_THRESHOLD = 4000
CHUNKS_PER_WORKER = 16

CANDIDATE, UNMATCHED, SETTLED, FAILED, DONE = "candidate", "unmatched", "settled", "failed", "done"


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class Task(NamedTuple):
    """One file to read: its place in the run (`position`, -1 for a file only the first pass
    reads) and in the project listing (`order`, which the first pass keeps).

    The per-file records of a run (tasks, sweep outcomes, index entries) are named tuples: a
    large tree makes tens of thousands of each, which a tuple builds and pickles several times
    faster than a frozen dataclass."""

    position: int
    order: int
    path: str
    relpath: str
    phase: str | None
    stat: Stat | None = None


class Swept(NamedTuple):
    """What the sweep found in one file (or the file index kept of it): `wanted` by the screen
    known before the facts, read by the first pass, and for a file already settled (DONE) its
    result."""

    task: Task
    state: str
    size: int = 0
    part: FirstPass | None = None
    first_pass: bool = False
    message: str | None = None
    wanted: bool = False
    result: FileResult | None = None
    read: bool = True
    # A package the first pass wants for its imports alone, left unparsed (`SweepSpec.defer_packages`).
    deferred: bool = False


class SweepSpec(msgspec.Struct, frozen=True):
    """What the sweep looks for; picklable, sent once to each worker."""

    screen: Screen
    needles: Needles  # the screen's plain needles and the first pass's triggers, in one automaton
    reader: FirstPassReader
    config: Config | None
    # Leave the packages the first pass wants for their imports alone unparsed: `package_parts`
    # parses them after the sweep, and only when `project.agents_possible`.
    defer_packages: bool = False


class Sweep(msgspec.Struct):
    """The sweep of a run: each run file's outcome by position, and the first pass's parts."""

    outcomes: list[Swept | None]
    parts: list[tuple[int, str, FirstPass | None]]  # (order, relpath, part)

    def first_pass_parts(self) -> list[tuple[str, FirstPass | None]]:
        return [(relpath, part) for _, relpath, part in sorted(self.parts, key=lambda item: item[0])]


def tasks_of(files: Sequence[tuple[SourceFile, str]], project_files: Sequence[SourceFile]) -> list[Task]:
    """The project's files (the first pass must see them all), then any run file the project
    list lacks (a path given outside it). A project file outside the run is read only when it
    is a `.py` file."""
    place = {source.relpath: (position, phase) for position, (source, phase) in enumerate(files)}
    tasks = []
    listed = set()
    for order, source in enumerate(project_files):
        listed.add(source.relpath)
        position, phase = place.get(source.relpath, (-1, None))
        if position < 0 and not source.relpath.endswith(".py"):
            continue
        tasks.append(Task(position, order, os.fspath(source.path), source.relpath, phase, source.stat))
    order = len(project_files)
    for source, phase in files:
        if source.relpath not in listed:
            tasks.append(Task(place[source.relpath][0], order, os.fspath(source.path), source.relpath, phase, source.stat))
            order += 1
    return tasks


def unruled(tasks: Iterable[Task], ruled_phases: Iterable[str]) -> list[Task]:
    """The tasks, with no phase for files whose phase no rule of the run covers."""
    ruled = frozenset(ruled_phases)
    return [t._replace(phase=None) if t.phase is not None and t.phase not in ruled else t for t in tasks]


def sweep(
    tasks: Sequence[Task],
    swept: Sweep,
    spec: SweepSpec,
    jobs: int,
    progress: Progress | None,
) -> Iterator[Swept]:
    """Read each task's file once, recording what it found in `swept`; yields each outcome."""
    for outcome in _spread(sweep_chunk, tasks, spec, jobs, SWEEP_PARALLEL_THRESHOLD, _task_size):
        record(swept, outcome, progress)
        yield outcome


def record(swept: Sweep, outcome: Swept, progress: Progress | None) -> None:
    """Add one file's outcome (from the sweep or the file index) to the sweep of the run."""
    task = outcome.task
    if outcome.first_pass:
        swept.parts.append((task.order, task.relpath, outcome.part))
    if task.position >= 0:
        swept.outcomes[task.position] = outcome
        if outcome.state in (SETTLED, FAILED, DONE):
            _advance(progress)


def sweep_chunk(chunk: list[Task], spec: SweepSpec) -> list[Swept]:
    from migrator.project import first_pass_wants

    done = []
    for task in chunk:
        python = task.relpath.endswith(".py")
        if task.phase is None and not python:
            done.append(Swept(task, SETTLED, read=False))
            continue
        try:
            raw = _read(task.path)
        except OSError as error:
            state = FAILED if task.position >= 0 and task.phase is not None else SETTLED
            done.append(Swept(task, state, message=f"cannot read: {error.strerror or error}", read=False))
            continue
        found = spec.needles.found(raw)
        part, first_pass = None, False
        package = task.relpath.endswith("__init__.py")
        deferred = False
        if python and (found or package) and first_pass_wants(task.relpath, raw, found, spec.config):
            if spec.defer_packages and package and not first_pass_wants(task.relpath, raw, found, spec.config, packages=False):
                deferred = True
            else:
                part, first_pass = spec.reader.part(task.relpath, raw), True
        wanted = not found.isdisjoint(spec.screen.plain) or bool(spec.screen.called and spec.screen.wants(raw))
        state = SETTLED if task.phase is None else CANDIDATE if wanted else UNMATCHED
        done.append(Swept(task, state, len(raw), part, first_pass, wanted=wanted, deferred=deferred))
    return done


def package_parts(tasks: Iterable[Task], spec: SweepSpec) -> list[tuple[int, str, FirstPass | None]]:
    """The first-pass parts of the packages the sweep deferred, each file read again: (order,
    relpath, part), a file no longer readable having no part."""
    parts = []
    for task in tasks:
        try:
            part = spec.reader.part(task.relpath, _read(task.path))
        except OSError:
            part = None
        parts.append((task.order, task.relpath, part))
    return parts


def sweeps_in_process(count: int, jobs: int) -> bool:
    """Whether a sweep of `count` files runs in this process (see `_spread`)."""
    return _in_process(count, jobs, SWEEP_PARALLEL_THRESHOLD)


class AnalysisSpec(msgspec.Struct, frozen=True):
    """What the analysis needs in each worker: the run's settings, the names the facts added
    (None when they added none) and the result cache."""

    settings: Settings
    added: Screen | None
    cache: ResultCache | None


class Analysed(msgspec.Struct, frozen=True):
    """One file's result, and whether the names the facts added occur in it (for an unmatched file)."""

    position: int
    result: FileResult | None  # None: an unmatched file the added names turned away, unchanged
    added: bool


def run(
    files: Sequence[tuple[SourceFile, str]],
    swept: Sweep,
    spec: AnalysisSpec,
    *,
    jobs: int = 0,
    progress: Progress | None = None,
    analysed: Callable[[Swept, Analysed], None] | None = None,
) -> RunResult:
    """Finish a sweep: results come back in the order of `files`. `analysed` hears of each file
    read again here."""
    results: list[FileResult | None] = [None] * len(files)
    work: list[Swept] = []
    for position, outcome in enumerate(swept.outcomes):
        source, phase = files[position]
        if outcome is None or outcome.state == SETTLED:
            results[position] = FileResult(source.relpath, phase, Status.UNCHANGED)
        elif outcome.state == DONE:
            results[position] = outcome.result
        elif outcome.state == FAILED:
            results[position] = FileResult(source.relpath, phase, Status.FAILED, message=outcome.message)
        elif outcome.state == CANDIDATE or spec.added is not None:
            # Its part of the facts is in the settings already: not sent to a worker again.
            work.append(outcome._replace(part=None) if outcome.part is not None else outcome)
        else:
            results[position] = FileResult(source.relpath, phase, Status.UNCHANGED)
            _advance(progress)
    by_position = {outcome.task.position: outcome for outcome in work}
    for done in _spread(analyse_chunk, work, spec, jobs, PARALLEL_THRESHOLD, _swept_size):
        source, phase = files[done.position]
        results[done.position] = done.result or FileResult(source.relpath, phase, Status.UNCHANGED)
        if analysed is not None:
            analysed(by_position[done.position], done)
        _advance(progress)
    return RunResult(tuple(r for r in results if r is not None))


def analyse_chunk(chunk: list[Swept], spec: AnalysisSpec) -> list[Analysed]:
    return [analyse_swept(outcome, spec) for outcome in chunk]


def analyse_swept(outcome: Swept, spec: AnalysisSpec) -> Analysed:
    """One file's result: its bytes read again, screened for added names if it was unmatched,
    then taken from the cache or analysed."""
    task = outcome.task
    assert task.phase is not None
    unmatched = outcome.state == UNMATCHED
    try:
        raw = _read(task.path)
    except OSError as error:
        failed = FileResult(task.relpath, task.phase, Status.FAILED, message=f"cannot read: {error.strerror or error}")
        return Analysed(task.position, failed, False)
    if unmatched and (spec.added is None or not spec.added.wants(raw)):
        # Most files of a large tree end here: nothing but the position goes back.
        return Analysed(task.position, None, False)
    fixing = spec.settings.fix
    key = spec.cache.key(task.relpath, task.phase, raw) if spec.cache is not None else None
    if spec.cache is not None and key is not None:
        cached = spec.cache.load(key, task.relpath, task.phase)
        if cached is not None and (not fixing or nothing_to_fix(cached, spec.settings)):
            return Analysed(task.position, cached, unmatched)
    result, complete = analyse_one(raw, task.relpath, task.phase, spec.settings)
    # A run that fixes is not kept here, even where its result is a scan's: writing an entry
    # per file costs an apply more than the next check gains (the file index keeps those).
    if spec.cache is not None and key is not None and complete and not fixing:
        spec.cache.store(key, result)
    return Analysed(task.position, result, unmatched)


def nothing_to_fix(result: FileResult, settings: Settings) -> bool:
    """Whether a run with these settings gives a file the result a scan gives: it makes none of
    the result's fixes (an unsafe fix is made only with `--unsafe-fixes`), so it plans, holds
    back and writes nothing a scan does not. Either result then stands for the other."""
    return not makes_a_fix(result.findings, settings.unsafe_fixes)


def analyse_one(raw: bytes, relpath: str, phase: str, settings: Settings) -> tuple[FileResult, bool]:
    """One file's result, and whether it is complete (not an internal error)."""
    from migrator import engine

    return engine.process_safely(raw, relpath, phase, settings)


# -- spreading work over processes ---------------------------------------------------------

Item = TypeVar("Item")
Out = TypeVar("Out")
_worker_spec: object = None


def _spread(
    work: Callable[[list[Item], object], list[Out]],
    items: Sequence[Item],
    spec: object,
    jobs: int,
    threshold: int,
    size: Callable[[Item], int],
) -> Iterator[Out]:
    """`work` over chunks of `items`, in this process when they are few, else in a pool whose
    workers get `spec` once, when they start. Outcomes come as chunks finish."""
    if _in_process(len(items), jobs, threshold):
        if items:
            yield from work(list(items), spec)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    workers = min(jobs if jobs > 0 else usable_cores(), len(items))
    chunks = _split(list(items), workers * CHUNKS_PER_WORKER, size)
    with ProcessPoolExecutor(max_workers=workers, initializer=_set_worker_spec, initargs=(spec,)) as pool:
        futures = [pool.submit(_in_worker, work, chunk) for chunk in chunks]
        for future in as_completed(futures):
            yield from future.result()


def _in_process(count: int, jobs: int, threshold: int) -> bool:
    return min(jobs if jobs > 0 else usable_cores(), count) <= 1 or count < threshold


def _set_worker_spec(spec: object) -> None:
    global _worker_spec
    _worker_spec = spec
    collect_less_often()  # a worker that does not fork from the command starts with the defaults


def collect_less_often() -> None:
    """Run the cycle collector less often than Python's default, as mypy does.

    A scan allocates millions of short-lived, acyclic objects (the `ast` trees of the files it
    reads); with the default thresholds the collector walks the young ones every 700
    allocations, which took a third of the time `ast.parse` spends on large modules. Memory
    stays bounded: the collector still runs, only less often.
    """
    gc.set_threshold(50_000, 20, 20)


def _in_worker(work: Callable[[list[Item], object], list[Out]], chunk: list[Item]) -> list[Out]:
    assert _worker_spec is not None, "worker started without its spec"
    return work(chunk, _worker_spec)


def usable_cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _split(items: list[Item], count: int, size: Callable[[Item], int]) -> list[list[Item]]:
    """`count` chunks of nearly equal total size, each in the original order."""
    chunks: list[list[tuple[int, Item]]] = [[] for _ in range(min(count, len(items)))]
    lightest_first = [(0, number) for number in range(len(chunks))]  # (load, chunk), a heap
    sizes = [size(item) for item in items]
    for place in sorted(range(len(items)), key=lambda place: -sizes[place]):
        load, number = lightest_first[0]
        chunks[number].append((place, items[place]))
        heapq.heapreplace(lightest_first, (load + sizes[place], number))
    return [[item for _, item in sorted(chunk, key=lambda pair: pair[0])] for chunk in chunks if chunk]


def _task_size(task: Task) -> int:
    # Reading and searching costs about the size; opening the file about 4 KB of it.
    return (task.stat[0] if task.stat is not None else 0) + 4096


def _swept_size(outcome: Swept) -> int:
    # An unmatched file costs a read and a search; a candidate a parse, about fifty times more.
    return outcome.size if outcome.state == CANDIDATE else outcome.size // 50 + 1


def _read(path: str) -> bytes:
    from migrator.discovery import read_path

    return read_path(path)


def _advance(progress: Progress | None, count: int = 1) -> None:
    if progress is not None and count:
        progress.advance(count)
