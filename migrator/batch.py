"""Runs the engine over many files: a bytes prefilter, the result cache, then serial or pooled analysis.

Most files of a large tree never mention a deprecated name. They are settled in the parent by
reading their bytes once; only the files that mention one (the candidates) are analysed, in
worker processes when there are enough of them to pay for the pool.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Protocol

from migrator import engine
from migrator.results import FileResult, RunResult, Status

if TYPE_CHECKING:
    from migrator.cache import ResultCache
    from migrator.discovery import SourceFile

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


def run(
    files: Sequence[tuple[SourceFile, str]],
    settings: engine.Settings,
    *,
    jobs: int = 0,
    cache: ResultCache | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Process `(file, phase)` pairs; results come back in the order of `files`."""
    if progress is not None:
        progress.start(len(files))
    results: list[FileResult | None] = [None] * len(files)
    needles = settings.index.needles
    ruled_phases = {phase for rule in settings.rules for phase in rule.phases}
    pending: list[Candidate] = []
    keys: dict[int, str] = {}
    for position, (source, phase) in enumerate(files):
        settled = _settle(source, phase, ruled_phases, needles)
        if isinstance(settled, bytes):
            raw = settled
            settled = None
            if cache is not None:
                keys[position] = cache.key(source.relpath, phase, raw)
                settled = cache.load(keys[position], source.relpath, phase)
            if settled is None:
                pending.append(Candidate(position, source.relpath, phase, raw))
                continue
        results[position] = settled
        if progress is not None:
            progress.advance()
    for position, result, complete in _analyse(pending, settings, jobs):
        results[position] = result
        if cache is not None and complete:
            cache.store(keys[position], result)
        if progress is not None:
            progress.advance()
    return RunResult(tuple(r for r in results if r is not None))


def _settle(source: SourceFile, phase: str, ruled_phases: set[str], needles: Sequence[bytes]) -> FileResult | bytes:
    """The file's result when it can be told without analysis, else its bytes."""
    if phase not in ruled_phases:
        return FileResult(source.relpath, phase, Status.UNCHANGED)
    try:
        raw = source.path.read_bytes()
    except OSError as error:
        return FileResult(source.relpath, phase, Status.FAILED, message=f"cannot read: {error.strerror or error}")
    # A plain loop: a generator per file costs more than the search on most files.
    for needle in needles:
        if needle in raw:
            return raw
    return FileResult(source.relpath, phase, Status.UNCHANGED)


def _analyse(pending: list[Candidate], settings: engine.Settings, jobs: int) -> Iterator[tuple[int, FileResult, bool]]:
    """Analyse the candidates: `(position, result, complete)`, where an internal error is not complete."""
    workers = min(jobs if jobs > 0 else usable_cores(), len(pending))
    if workers <= 1 or len(pending) < PARALLEL_THRESHOLD:
        for candidate in pending:
            yield (candidate.position, *analyse_one(candidate, settings))
        return
    chunks = _split(pending, workers * CHUNKS_PER_WORKER)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(analyse_chunk, chunk, settings) for chunk in chunks]
        for future in as_completed(futures):
            yield from future.result()


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


def analyse_chunk(chunk: list[Candidate], settings: engine.Settings) -> list[tuple[int, FileResult, bool]]:
    """Analyse one chunk in a worker process."""
    return [(candidate.position, *analyse_one(candidate, settings)) for candidate in chunk]


def analyse_one(candidate: Candidate, settings: engine.Settings) -> tuple[FileResult, bool]:
    """One candidate's result, and whether it is complete (not an internal error)."""
    return engine.process_safely(candidate.raw, candidate.relpath, candidate.phase, settings)
