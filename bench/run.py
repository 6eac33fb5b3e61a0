"""Times migrator against its anchors on corpus A (Django 5.2) and corpus S (synthetic); run by hand.

``python bench/run.py`` prints the issue's table with migrator's rows, each cell the median
of ``--runs`` runs with the min–max range and the peak memory of the whole process tree,
then S at several sizes, the import cost and the targets. ``--quick`` skips the slowest
anchors (LibCST with QualifiedNameProvider, and LibCST's codemod runner).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from fetch_django import download_sdist, extract_sources  # noqa: E402
from make_corpus import FACTORY, write_corpus  # noqa: E402
from measure import Figures, repeat, run_once  # noqa: E402

NAME = "get_agent_instance_factory"
PY = sys.executable
MIGRATOR = (PY, "-m", "migrator")
ANCHORS = str(BENCH / "anchors.py")


def tool(name: str) -> str | None:
    """A tool's real executable: the interpreter's scripts folder first, so no shim adds start-up time."""
    scripts = Path(sysconfig.get_path("scripts")) / name
    return str(scripts) if scripts.exists() else shutil.which(name)


@dataclasses.dataclass(frozen=True)
class Job:
    """A command over one corpus folder; `fresh` copies the corpus anew before each run."""

    argv: tuple[str, ...]
    ok_codes: tuple[int, ...] = (0,)
    fresh: bool = False
    warm: bool = False


@dataclasses.dataclass(frozen=True)
class Row:
    label: str
    make: Callable[[str], Job | str | None]
    slow: bool = False
    only: tuple[str, ...] = ()


def _ruff(folder: str) -> Job | str:
    ruff = tool("ruff")
    return Job((ruff, "check", "--select", "F401", "--no-cache", "-q", folder), (0, 1)) if ruff else "ruff not installed"


def _ast_grep(folder: str) -> Job | str:
    binary = tool("ast-grep")
    if binary is None:
        return "ast-grep not installed (pip install ast-grep-cli)"
    return Job((binary, "run", "-l", "python", "-p", f"{NAME}()", folder), (0, 1))


def _rg(folder: str) -> Job | str:
    rg = tool("rg")
    return Job((rg, "-l", NAME, folder), (0, 1)) if rg else "ripgrep not installed"


def _rename(folder: str) -> Job:
    old, new = f"{FACTORY}.{NAME}", f"{FACTORY}.create_agent_instance_factory"
    argv = (PY, "-m", "libcst.tool", "codemod", "rename.RenameCommand", "--old_name", old, "--new_name", new)
    return Job((*argv, "-j", "2", "--no-format", "--hide-progress", folder), (0, 1), fresh=True)


ROWS = (
    Row("`rg -l NAME` (the read limit)", _rg),
    Row("Python bytes prefilter over every file", lambda f: Job((PY, ANCHORS, "prefilter", f))),
    Row("`ruff check --select F401`", _ruff),
    Row(f"`ast-grep run -p '{NAME}()'`", _ast_grep),
    Row("`ast.parse` of every file, 2 processes", lambda f: Job((PY, ANCHORS, "ast", f, "--jobs", "2"))),
    Row("`libcst.parse_module` of every file, 2 processes", lambda f: Job((PY, ANCHORS, "cst", f, "--jobs", "2"))),
    Row("LibCST parse + QualifiedNameProvider, 2 processes", lambda f: Job((PY, ANCHORS, "qualnames", f)), slow=True),
    Row("LibCST's codemod runner, `RenameCommand`, `-j 2`", _rename, slow=True),
    Row("`import libcst, libcst.metadata` alone", lambda f: Job((PY, "-c", "import libcst, libcst.metadata")), only=("A",)),
    Row("**migrator** `scan --no-cache`", lambda f: Job((*MIGRATOR, "scan", "--no-cache", "-f", "json", f))),
    Row("**migrator** `check --no-cache`", lambda f: Job((*MIGRATOR, "check", "--no-cache", "-f", "json", f), (0, 1))),
    Row("**migrator** `scan`, second run (cache)", lambda f: Job((*MIGRATOR, "scan", "-f", "json", f), warm=True)),
    Row(
        "**migrator** `apply --phase all` (fresh copy per run)",
        lambda f: Job((*MIGRATOR, "apply", "--phase", "all", "--allow-dirty", "-f", "json", f), (0, 1), fresh=True),
    ),
)
SCALING_LABELS = (ROWS[1].label, ROWS[3].label, *(row.label for row in ROWS[9:]))


def measure(job: Job, folder: Path, runs: int, scratch: Path) -> Figures:
    """Run a job `runs` times over `folder` (a fresh copy per run when the job writes)."""
    target = scratch / f"{folder.name}-copy" if job.fresh else folder
    argv = tuple(str(target) if part == "{}" else part for part in job.argv)

    def copy() -> None:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns(".migrator"))

    if job.warm:
        subprocess.run(argv, cwd=target, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return repeat(argv, runs, cwd=target, ok_codes=job.ok_codes, before_each=copy if job.fresh else None)


def run_row(row: Row, folder: Path, runs: int, scratch: Path) -> Figures:
    made = row.make("{}")
    if made is None or isinstance(made, str):
        return Figures(note=made or "n/a")
    return measure(made, folder, runs, scratch)


def prepare(scratch: Path, sizes: Sequence[int]) -> dict[str, Path]:
    """Corpus A and S at each size, copied outside any git tree so ignore files play no part."""
    corpora = BENCH / ".corpus"
    source_a = corpora / "A"
    if not source_a.is_dir():
        extract_sources(download_sdist(BENCH / ".cache"), source_a)
    folders = {"A": source_a}
    for size in sizes:
        source = corpora / f"S{size}"
        if not source.is_dir():
            write_corpus(source, size)
        folders[f"S{size}"] = source
    copies = {}
    for name, source in folders.items():
        copies[name] = scratch / name
        shutil.copytree(source, copies[name], ignore=shutil.ignore_patterns(".migrator"))
    return copies


def import_cost(folder: Path) -> str:
    """Cumulative import time of the CLI for a scan of `folder`, and whether LibCST was imported."""
    argv = (PY, "-X", "importtime", "-m", "migrator", "scan", "--no-cache", "-f", "json", str(folder))
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    cumulative = {}
    for line in lines[1:]:
        _, _, cum, name = (part.strip() for part in re.split(r"[:|]", line, maxsplit=3))
        cumulative.setdefault(name.strip(), int(cum))
    tops = {name: cumulative.get(name) for name in ("migrator.cli", "typer", "rich.console", "libcst", "pathspec")}
    shown = ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in tops.items() if us is not None)
    return f"{shown}; libcst imported: {'yes' if 'libcst' in cumulative else 'no'}"


def print_table(title: str, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> None:
    print(f"\n{title}\n")
    print("| tool | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for label, cells in rows:
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the slowest anchors")
    parser.add_argument("--sizes", default="500,2000,8000", help="sizes of S for the scaling table")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--only", default="", help="measure only rows whose label contains this text")
    parser.add_argument("--monorepo", action="store_true", help="the monorepo table instead (bench/run_monorepo.py; its flags follow)")
    args, rest = parser.parse_known_args()
    if args.monorepo:
        import run_monorepo

        sys.argv = [sys.argv[0], "--runs", str(args.runs), *(["--quick"] if args.quick else []), *rest]
        run_monorepo.main()
        return
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    os.environ["PYTHONPATH"] = str(BENCH.parent)
    # Measure Python tools as installed for use, with their bytecode cached, not recompiled each run.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([PY, "-m", "compileall", "-q", str(BENCH.parent / "migrator")], check=False)
    sizes = sorted({2000, *(int(size) for size in args.sizes.split(","))})
    scratch = Path(tempfile.mkdtemp(prefix="migrator-bench-"))
    try:
        folders = prepare(scratch, sizes)
        print(f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; {args.runs} runs each")
        results: dict[tuple[str, str], Figures] = {}
        rows = []
        for row in ROWS:
            if args.only not in row.label:
                continue
            cells = []
            for corpus in ("A", "S2000"):
                if row.only and corpus[0] not in row.only:
                    cells.append("")
                    continue
                figures = Figures(note="skipped (--quick)") if row.slow and args.quick else run_row(row, folders[corpus], args.runs, scratch)
                results[(row.label, corpus)] = figures
                cells.append(figures.cell())
            rows.append((row.label, cells))
            print(f"  measured: {row.label}", file=sys.stderr)
        print_table("Corpus A (Django 5.2 .py files) and S (2,000 synthetic files)", ("A", "S"), rows)
        if not args.no_scaling:
            print_scaling(sizes, folders, args.runs, scratch, results)
        print(f"\nImports for a scan of A: {import_cost(folders['A'])}")
        print_targets(results, folders, args.runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def print_scaling(sizes: Sequence[int], folders: dict[str, Path], runs: int, scratch: Path, results: dict) -> None:
    rows = []
    for row in ROWS:
        if row.label not in SCALING_LABELS:
            continue
        cells = []
        for size in sizes:
            key = (row.label, f"S{size}")
            if key not in results:
                results[key] = run_row(row, folders[f"S{size}"], runs, scratch)
            figures = results[key]
            per_k = f"; {figures.median / size * 1000:.3f} s per 1,000 files" if figures.samples else ""
            cells.append(figures.cell() + per_k)
        rows.append((row.label, cells))
    print_table("Scaling: S at several sizes (30% of files call the getter)", [f"S {s:,}" for s in sizes], rows)


def paired(first: Row, second: Row, folder: Path, runs: int) -> tuple[Figures, Figures] | None:
    """Two rows' commands over one corpus, run alternately `runs` times each: a change in the
    machine's load between the table's rows, which run one after the other, touches both
    alike. None when either cannot run here."""
    commands = []
    for row in (first, second):
        job = row.make("{}")
        if not isinstance(job, Job) or job.fresh:
            return None
        argv = tuple(str(folder) if part == "{}" else part for part in job.argv)
        if job.warm:
            subprocess.run(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        commands.append((argv, job.ok_codes, []))
    for _ in range(runs):
        for argv, ok_codes, samples in commands:
            samples.append(run_once(argv, folder, ok_codes, sample=False))
    return Figures(tuple(commands[0][2])), Figures(tuple(commands[1][2]))


def print_targets(results: dict[tuple[str, str], Figures], folders: dict[str, Path], runs: int) -> None:
    """Each target of the issue as a ratio of medians: migrator's command and its anchor timed
    alternately (`paired`), except LibCST's runner, taken from the table."""

    def ratio(label_a: str, corpus_a: str, label_b: str, corpus_b: str) -> float | None:
        a, b = results.get((label_a, corpus_a)), results.get((label_b, corpus_b))
        return a.median / b.median if a and b and a.samples and b.samples else None

    by_label = {row.label: row for row in ROWS}
    names = {row.label.split("`")[1] if "`" in row.label else row.label: row.label for row in ROWS}
    scan, check, cached = names["scan --no-cache"], names["check --no-cache"], ROWS[11].label
    pairs = [
        ("scan on A / ruff on A <= 1", scan, ROWS[2].label, "A"),
        ("check on A / ruff on A <= 1", check, ROWS[2].label, "A"),
        ("scan on S / ast-grep on S <= 1", scan, ROWS[3].label, "S2000"),
        ("check on S / ast-grep on S <= 1", check, ROWS[3].label, "S2000"),
        ("cached scan on S / prefilter on S <= 2", cached, ROWS[1].label, "S2000"),
        ("cached scan on A / prefilter on A <= 2", cached, ROWS[1].label, "A"),
    ]
    limits = {text: float(text.rsplit("<= ", 1)[1]) for text, *_ in pairs}
    print(f"\nTargets (each migrator command and its anchor run alternately, {runs} times each)\n")
    for text, ours, anchor, corpus in pairs:
        measured = paired(by_label[ours], by_label[anchor], folders[corpus], runs)
        if measured is None or not measured[0].samples or not measured[1].samples:
            print(f"- {text}: not measured")
            continue
        value = measured[0].median / measured[1].median
        seconds = f"{measured[0].median:.3f} s against {measured[1].median:.3f} s"
        print(f"- {text}: {value:.2f} ({seconds}) -> {'met' if value <= limits[text] else 'NOT met'}")
    runner = ratio(ROWS[7].label, "S2000", ROWS[12].label, "S2000")
    if runner is None:
        print("- LibCST runner on S / apply on S >= 30: not measured")
    else:
        print(f"- LibCST runner on S / apply on S >= 30: {runner:.1f} -> {'met' if runner >= 30 else 'NOT met'}")
    peaks = [
        max(s.peak_bytes for s in figures.samples) / 2**20
        for (label, corpus), figures in results.items()
        if label.startswith("**migrator**") and corpus.startswith("S") and figures.samples
    ]
    if peaks:
        print(f"- peak memory of migrator on S (any size) <= 300 MB: {max(peaks):.0f} MB -> {'met' if max(peaks) <= 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
