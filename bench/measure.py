"""Runs one command several times: wall time and peak memory of its whole process tree."""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

SAMPLE_SECONDS = 0.02
LONG_RUN_SECONDS = 5.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclasses.dataclass(frozen=True)
class Sample:
    """One run: seconds of wall time, the peak memory in bytes, and the CPU seconds of the
    process and the children it waited for (user and system)."""

    seconds: float
    peak_bytes: int
    cpu: float = 0.0


@dataclasses.dataclass(frozen=True)
class Figures:
    """Several runs of one command, or why it was not run."""

    samples: tuple[Sample, ...] = ()
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def busy_cores(self) -> float:
        """CPU seconds per wall second, the median over the runs: 2.0 is two cores kept busy."""
        return statistics.median(s.cpu / s.seconds for s in self.samples) if self.samples else 0.0

    def cell(self) -> str:
        """`median s (min–max), peak MB`, as the tables print it."""
        if not self.samples:
            return self.note or "n/a"
        times = [s.seconds for s in self.samples]
        peak = max(s.peak_bytes for s in self.samples) / 2**20
        return f"{_seconds(self.median)} ({_seconds(min(times), False)}–{_seconds(max(times), False)}), {peak:.0f} MB"


def _seconds(value: float, unit: bool = True) -> str:
    text = f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return f"{text} s" if unit else text


def _tree_pids(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as handle:
                pending.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return pids


def _memory_of(pid: int) -> int:
    """Proportional set size (shared pages split between sharers), else resident size."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except OSError:
        return 0


class _TreeSampler(threading.Thread):
    """Samples the summed memory of a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, sum(_memory_of(pid) for pid in _tree_pids(self.pid)))
            self.done.wait(SAMPLE_SECONDS)


def run_once(
    argv: Sequence[str], cwd: Path | None = None, ok_codes: Sequence[int] = (0,), sample: bool = True
) -> Sample:
    """Run `argv` once, output discarded; fail loudly on an unexpected exit code.

    With `sample`, a thread sums the memory of the whole process tree every 20 ms. Reading
    every process's smaps costs CPU the command then lacks, more so for commands with
    several processes, so timed runs go without it and keep only wait4's peak.
    """
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = _TreeSampler(process.pid)
    if sample:
        sampler.start()
    # wait4 reports the largest max RSS among the process and the children it waited for,
    # which catches peaks shorter than the sampling interval.
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    sampler.done.set()
    if sample:
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in ok_codes:
        tail = stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {process.returncode}:\n{tail}")
    return Sample(seconds, max(sampler.peak, usage.ru_maxrss * 1024), usage.ru_utime + usage.ru_stime)


def repeat(
    argv: Sequence[str],
    runs: int,
    cwd: Path | None = None,
    ok_codes: Sequence[int] = (0,),
    before_each: Callable[[], None] | None = None,
) -> Figures:
    """Run a command `runs` times (after `before_each`, untimed); a failure becomes the note.

    The first run samples the process tree's memory and gives the peak; the timed runs
    follow without the sampler. A first run of over LONG_RUN_SECONDS also counts as a timed
    run: the sampler's share of it is negligible, and such commands are slow to repeat.
    """
    samples = []
    try:
        if before_each is not None:
            before_each()
        sampled = run_once(argv, cwd, ok_codes, sample=True)
        if sampled.seconds >= LONG_RUN_SECONDS:
            samples.append(sampled)
        while len(samples) < runs:
            if before_each is not None:
                before_each()
            samples.append(run_once(argv, cwd, ok_codes, sample=False))
    except (OSError, RuntimeError) as error:
        lines = str(error).strip().splitlines()
        return Figures(note=f"failed: {lines[-1] if lines else error}")
    peak = max(sampled.peak_bytes, *(s.peak_bytes for s in samples))
    return Figures(tuple(dataclasses.replace(s, peak_bytes=peak) for s in samples))

