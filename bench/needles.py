"""Times three ways to find which of many needles occur in every `.py` file of a tree; run by hand.

``python bench/needles.py FOLDER`` reads the files once into memory, then, for the project's
own needles (deprecated names, the first pass's triggers and the agent classes it finds):
a plain `needle in raw` loop per needle, one compiled regex alternating over them, and the
Aho–Corasick automaton of `ahocorasick-rs`. Each is the median of `--runs` runs with min–max.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ahocorasick_rs import BytesAhoCorasick  # noqa: E402

from migrator import project  # noqa: E402
from migrator.discovery import read_path  # noqa: E402
from migrator.session import Session  # noqa: E402
from migrator.settings import Settings  # noqa: E402


def project_needles(folder: Path) -> tuple[list[bytes], list[bytes]]:
    """The python files' bytes, and every needle a scan of `folder` searches for."""
    session = Session.open([folder], [])
    datas = [read_path(source.path) for source in session.project_files if source.relpath.endswith(".py")]
    firsts = [(s.relpath, raw) for s, raw in zip(session.project_files, datas) if project.first_pass_reads(s.relpath, raw)]
    facts = project.from_sources(firsts, session.config)
    screen = Settings.build(session.config, session.rules, project=facts).screen
    needles = sorted({*screen.plain, *screen.called, *project.first_pass_needles(session.config)})
    return datas, needles


def time_it(work: Callable[[], int], runs: int) -> tuple[list[float], int]:
    times, found = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        found = work()
        times.append(time.perf_counter() - start)
    return times, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    datas, needles = project_needles(args.folder)
    pattern = re.compile(b"|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
    automaton = BytesAhoCorasick(needles)

    def loop() -> int:
        return sum(len([n for n in needles if n in raw]) for raw in datas)

    def one_regex() -> int:
        return sum(len(set(pattern.findall(raw))) for raw in datas)

    def aho() -> int:
        return sum(len({i for i, _, _ in automaton.find_matches_as_indexes(raw, overlapping=True)}) for raw in datas)

    size = sum(map(len, datas)) / 2**20
    print(f"{len(datas):,} files, {size:.0f} MB, {len(needles)} needles; {args.runs} runs each\n")
    print("| search | time | (needle, file) pairs found |")
    print("|---|---|---|")
    rows: Sequence[tuple[str, Callable[[], int]]] = (
        ("`needle in raw` per needle", loop), ("one regex alternation", one_regex), ("Aho–Corasick (ahocorasick-rs)", aho)
    )
    for label, work in rows:
        times, found = time_it(work, args.runs)
        print(f"| {label} | {statistics.median(times):.2f} s ({min(times):.2f}–{max(times):.2f}) | {found:,} |")


if __name__ == "__main__":
    main()
