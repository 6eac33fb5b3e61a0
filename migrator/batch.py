"""Runs the engine over many files: a bytes prefilter, the result cache, then serial or pooled analysis.

Most files of a large tree never mention a deprecated name. They are settled in the parent by
reading their bytes once, the same read that feeds the project's first pass; only the files
that mention one (the candidates) are analysed, in worker processes when there are enough of
them to pay for the pool.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from migrator.results import FileResult, RunResult, Status

if TYPE_CHECKING:
    from migrator.cache import ResultCache
    from migrator.discovery import SourceFile
    from migrator.settings import Settings

# Below this many candidate files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 48
CHUNKS_PER_WORKER = 16


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A file that mentions a deprecated name, with its bytes and its place in the run."""

    position: int
    relpath: str
    phase: str
    raw: bytes


@dataclasses.dataclass
class Sweep:
    """What one read of every project file tells, before any file is analysed.

    `first_pass_sources` feeds the project facts (agent classes, conftest fixtures); the run's own
    files are either settled (`results`), candidates with their bytes, or `unmatched`: settled
    as unchanged only because none of the needles known before the first pass occurs in them.
    """

    results: list[FileResult | None]
    candidates: list[Candidate]
    unmatched: list[int]
    first_pass_sources: list[tuple[str, bytes]]


def sweep(
    files: Sequence[tuple[SourceFile, str]],
    project_files: Sequence[SourceFile],
    ruled_phases: Collection[str],
    needles: Sequence[bytes],
    first_pass: Callable[[str, bytes], bool],
    progress: Progress | None = None,
) -> Sweep:
    """Read every project file once: the first pass's sources, and the run's candidates.

    `project_files` is the whole tree (the first pass must see it all); `files` are the run's
    `(file, phase)` pairs, a subset of it. Files outside the run are read only for the first
    pass, and only `.py` files are. `progress` is started here and advanced for each run
    file settled; `run` advances it for the rest.
    """
    if progress is not None:
        progress.start(len(files))
    place = {source.relpath: (position, phase) for position, (source, phase) in enumerate(files)}
    swept = Sweep([None] * len(files), [], [], [])
    for source in _union(files, project_files, place):
        slot = place.get(source.relpath)
        python = source.relpath.endswith(".py")
        if slot is not None and slot[1] not in ruled_phases:
            swept.results[slot[0]] = FileResult(source.relpath, slot[1], Status.UNCHANGED)
            _advance(progress)
            if not python:
                continue
            slot = None
        elif slot is None and not python:
            continue
        try:
            raw = source.read_bytes()
        except OSError as error:
            if slot is not None:
                message = f"cannot read: {error.strerror or error}"
                swept.results[slot[0]] = FileResult(source.relpath, slot[1], Status.FAILED, message=message)
                _advance(progress)
            continue
        if python and first_pass(source.relpath, raw):
            swept.first_pass_sources.append((source.relpath, raw))
        if slot is None:
            continue
        position, phase = slot
        # A plain loop: a generator per file costs more than the search on most files.
        for needle in needles:
            if needle in raw:
                swept.candidates.append(Candidate(position, source.relpath, phase, raw))
                break
        else:
            swept.results[position] = FileResult(source.relpath, phase, Status.UNCHANGED)
            swept.unmatched.append(position)
            _advance(progress)
    return swept


def _advance(progress: Progress | None, count: int = 1) -> None:
    if progress is not None and count:
        progress.advance(int(count))


def _union(
    files: Sequence[tuple[SourceFile, str]], project_files: Sequence[SourceFile], place: Mapping[str, object]
) -> Iterator[SourceFile]:
    """The project's files, then any run file the project list lacks (a path given outside it)."""
    seen = 0
    for source in project_files:
        if source.relpath in place:
            seen += 1
        yield source
    if seen < len(place):
        listed = {source.relpath for source in project_files}
        yield from (source for source, _ in files if source.relpath not in listed)


def run(
    files: Sequence[tuple[SourceFile, str]],
    swept: Sweep,
    settings: Settings,
    *,
    known_needles: Sequence[bytes] = (),
    jobs: int = 0,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Finish a sweep of `(file, phase)` pairs; results come back in the order of `files`.

    `known_needles` are the needles the sweep used; needles the first pass added (agent class
    names) are searched for in the unmatched files, which are read again for that.
    """
    results = list(swept.results)
    pending = sorted(swept.candidates, key=lambda candidate: candidate.position)
    known = set(known_needles)
    added = [needle for needle in settings.index.needles if needle not in known]
    # Files the sweep settled, and so counted, whose needle only the first pass revealed.
    counted: set[int] = set()
    if added:
        found = _rescreen(files, swept.unmatched, added, results)
        counted = {candidate.position for candidate in found}
        pending = sorted([*pending, *found], key=lambda candidate: candidate.position)
    keys: dict[int, str] = {}
    waiting: list[Candidate] = []
    for candidate in pending:
        if cache is not None:
            keys[candidate.position] = cache.key(candidate.relpath, candidate.phase, candidate.raw)
            cached = cache.load(keys[candidate.position], candidate.relpath, candidate.phase)
            if cached is not None:
                results[candidate.position] = cached
                _advance(progress, candidate.position not in counted)
                continue
        waiting.append(candidate)
    for position, result, complete in _analyse(waiting, settings, jobs):
        results[position] = result
        if cache is not None and complete:
            cache.store(keys[position], result)
        _advance(progress, position not in counted)
    return RunResult(tuple(r for r in results if r is not None))


def _rescreen(
    files: Sequence[tuple[SourceFile, str]],
    unmatched: Sequence[int],
    needles: Sequence[bytes],
    results: list[FileResult | None],
) -> list[Candidate]:
    """The unmatched files that contain one of `needles`; a file now unreadable fails in `results`."""
    found = []
    for position in unmatched:
        source, phase = files[position]
        try:
            raw = source.read_bytes()
        except OSError as error:
            message = f"cannot read: {error.strerror or error}"
            results[position] = FileResult(source.relpath, phase, Status.FAILED, message=message)
            continue
        if any(needle in raw for needle in needles):
            found.append(Candidate(position, source.relpath, phase, raw))
    return found


def _analyse(pending: list[Candidate], settings: Settings, jobs: int) -> Iterator[tuple[int, FileResult, bool]]:
    """Analyse the candidates: `(position, result, complete)`, where an internal error is not complete."""
    workers = min(jobs if jobs > 0 else usable_cores(), len(pending))
    if workers <= 1 or len(pending) < PARALLEL_THRESHOLD:
        for candidate in pending:
            yield (candidate.position, *analyse_one(candidate, settings))
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    chunks = _split(pending, workers * CHUNKS_PER_WORKER)
    # The settings go to each worker once, not with every chunk.
    with ProcessPoolExecutor(max_workers=workers, initializer=_set_worker_settings, initargs=(settings,)) as pool:
        futures = [pool.submit(analyse_chunk, chunk) for chunk in chunks]
        for future in as_completed(futures):
            yield from future.result()


_worker_settings: Settings | None = None


def _set_worker_settings(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def usable_cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _split(items: list[Candidate], count: int) -> list[list[Candidate]]:
    """`count` chunks of nearly equal total size, each in the original order."""
    chunks: list[list[Candidate]] = [[] for _ in range(min(count, len(items)))]
    loads = [0] * len(chunks)
    for item in sorted(items, key=lambda c: -len(c.raw)):
        lightest = loads.index(min(loads))
        chunks[lightest].append(item)
        loads[lightest] += len(item.raw)
    return [sorted(chunk, key=lambda c: c.position) for chunk in chunks if chunk]


def analyse_chunk(chunk: list[Candidate]) -> list[tuple[int, FileResult, bool]]:
    """Analyse one chunk in a worker process, under the settings its pool was started with."""
    assert _worker_settings is not None, "worker started without settings"
    return [(candidate.position, *analyse_one(candidate, _worker_settings)) for candidate in chunk]


def analyse_one(candidate: Candidate, settings: Settings) -> tuple[FileResult, bool]:
    """One candidate's result, and whether it is complete (not an internal error)."""
    from migrator import engine

    return engine.process_safely(candidate.raw, candidate.relpath, candidate.phase, settings)
