"""Times migrator on corpus M, the generated monorepo, side by side with its anchors; run by hand.

``python bench/run_monorepo.py [--runs 3] [--scales 0.2,1,2] [--quick]`` (or ``bench/run.py
--monorepo``) writes corpus M if it is missing (`make_monorepo.py --git`), then prints the
table of the monorepo targets: each cell the median of ``--runs`` runs with the min–max range,
the peak memory of the whole process tree and how many cores were busy (CPU seconds per wall
second). Then the peak memory of a cold check at several scales, `apply --phase all` on a copy
of M, and LibCST's codemod runner against `apply` on a 1,000-file slice of M (``--quick``
skips that slice, the slowest part).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from make_monorepo import FACTORY, write_monorepo  # noqa: E402
from measure import Figures, repeat  # noqa: E402
from run import MIGRATOR, NAME, PY, tool  # noqa: E402

SLICE_FILES = 1000


def corpus(scale: float) -> Path:
    """Corpus M at `scale`, a git repository, written once and kept under bench/.corpus."""
    folder = BENCH / ".corpus" / ("M" if scale == 1 else f"M{scale:g}")
    if not (folder / ".git").is_dir():
        write_monorepo(folder, scale)
        for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=b@localhost", "commit", "-qm", "corpus"]):
            subprocess.run(["git", *argv], cwd=folder, check=True)
    shutil.rmtree(folder / ".migrator", ignore_errors=True)
    return folder


def anchors(folder: Path) -> list[tuple[str, tuple[str, ...] | str, tuple[int, ...], bool]]:
    """(label, argv or why not, exit codes, warm: run once untimed first)."""
    ruff, ast_grep = tool("ruff"), tool("ast-grep")
    tid251 = (ruff, "check", "--select", "TID251", "-q", ".") if ruff else "ruff not installed"
    one = one_file(folder)
    return [
        (f"`grep -rl {NAME} --include=*.py`", ("grep", "-rl", NAME, "--include=*.py", "."), (0, 1), False),
        ("`ruff check --select TID251 --no-cache`", (*tid251, "--no-cache") if ruff else tid251, (0, 1), False),
        ("`ruff check --select TID251`, its cache warm", tid251, (0, 1), True),
        (f"`ast-grep run -p '{NAME}()'`", (ast_grep, "run", "-l", "python", "-p", f"{NAME}()", ".") if ast_grep else "ast-grep not installed", (0, 1), False),
        ("**migrator** `check --no-cache`", (*MIGRATOR, "check", "--no-cache", "-f", "json", "."), (0, 1), False),
        ("**migrator** `check`, the tree unchanged", (*MIGRATOR, "check", "-f", "json", "."), (0, 1), True),
        # What a pre-commit hook runs for one staged file: the facts still come from the whole tree.
        ("`ruff check --select TID251` of one file, its cache warm", (*tid251[:-1], one) if ruff else tid251, (0, 1), True),
        ("**migrator** `check` of one file, the tree unchanged", (*MIGRATOR, "check", "-f", "json", one), (0, 1), True),
    ]


def one_file(folder: Path) -> str:
    """The tracked `.py` file in the middle of M's listing: the file of the one-file rows."""
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=folder, capture_output=True, text=True).stdout.split()
    return sorted(listed)[len(listed) // 2] if listed else "."


def cell(figures: Figures) -> str:
    if not figures.samples:
        return figures.cell()
    return f"{figures.cell()}, {figures.busy_cores:.1f} cores"


def main_table(folder: Path, runs: int) -> dict[str, Figures]:
    results = {}
    print("\n| command on M | time (min–max), peak memory, cores busy |\n|---|---|")
    for label, argv, codes, warm in anchors(folder):
        if isinstance(argv, str):
            results[label] = Figures(note=argv)
        else:
            if warm:
                subprocess.run(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            results[label] = repeat(argv, runs, cwd=folder, ok_codes=codes)
        print(f"| {label} | {cell(results[label])} |", flush=True)
    return results


def ratios(results: dict[str, Figures]) -> None:
    labels = [label for label, *_ in anchors(Path("."))]
    ruff_cold, ruff_warm, cold, warm = (results[labels[i]] for i in (1, 2, 4, 5))

    def ratio(a: Figures, b: Figures) -> str:
        return f"{a.median / b.median:.2f}" if a.samples and b.samples else "n/a"

    print("\nTargets (ratios of medians measured above)\n")
    print(f"- check --no-cache / ruff --no-cache: {ratio(cold, ruff_cold)} (target <= 1.0)")
    print(f"- check --no-cache / ruff, its cache warm: {ratio(cold, ruff_warm)}")
    print(f"- check on the unchanged tree / ruff --no-cache: {ratio(warm, ruff_cold)} (target <= 0.3)")
    print(f"- check on the unchanged tree / ruff, its cache warm: {ratio(warm, ruff_warm)}")
    if cold.samples:
        peak = max(s.peak_bytes for s in cold.samples) / 2**20
        print(f"- peak memory of a cold check: {peak:.0f} MB (target <= 300 MB)")
    print(f"- check of one file / ruff of one file, both warm: {ratio(results[labels[7]], results[labels[6]])}")


def memory_scaling(scales: Sequence[float]) -> None:
    print("\n| scale | .py files | check --no-cache: time, peak memory | MB per 1,000 .py files |\n|---|---|---|---|")
    for scale in scales:
        folder = corpus(scale)
        python = int(subprocess.run(["git", "ls-files", "*.py"], cwd=folder, capture_output=True, text=True).stdout.count("\n"))
        figures = repeat((*MIGRATOR, "check", "--no-cache", "-f", "json", "."), 1, cwd=folder, ok_codes=(0, 1))
        peak = max(s.peak_bytes for s in figures.samples) / 2**20 if figures.samples else 0
        print(f"| {scale:g} | {python:,} | {figures.cell()} | {peak / python * 1000:.1f} |", flush=True)


def apply_table(folder: Path, scratch: Path, runs: int) -> list[str]:
    """`apply --phase all` on a git copy of M, restored before each run; the files it rewrites."""
    copy = scratch / "M-apply"
    shutil.copytree(folder, copy, symlinks=True, ignore=shutil.ignore_patterns(".migrator"))
    argv = (*MIGRATOR, "apply", "--phase", "all", "-f", "json", ".")

    def restore() -> None:
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=copy, check=True)
        subprocess.run(["git", "clean", "-fdq", "-e", ".migrator"], cwd=copy, check=True)
        shutil.rmtree(copy / ".migrator", ignore_errors=True)

    restore()
    done = subprocess.run(argv, cwd=copy, capture_output=True, text=True, check=False)
    changed = json.loads(done.stdout)["changed_files"]
    figures = repeat(argv, runs, cwd=copy, ok_codes=(0, 1), before_each=restore)

    def restore_and_check() -> None:
        restore()
        subprocess.run([*MIGRATOR, "check", "-q", "-f", "json", "."], cwd=copy, capture_output=True, check=False)

    after_check = repeat(argv, runs, cwd=copy, ok_codes=(0, 1), before_each=restore_and_check)

    def restore_and_apply() -> None:
        restore()
        subprocess.run(argv, cwd=copy, capture_output=True, check=False)

    # The workflow's next step: the check of the tree the first apply left.
    check_after = repeat((*MIGRATOR, "check", "-f", "json", "."), runs, cwd=copy, ok_codes=(0, 1), before_each=restore_and_apply)
    print(f"\n`apply --phase all` on M ({len(changed):,} files rewritten):\n")
    print("| | time (min–max), peak memory, cores busy | per rewritten file |\n|---|---|---|")
    for label, timed in (("no index (the first run in a tree)", figures), ("after a `check` (its file index)", after_check)):
        per_file = f"{timed.median / len(changed) * 1000:.1f} ms" if changed and timed.samples else "n/a"
        print(f"| {label} | {cell(timed)} | {per_file} |")
    print(f"| `check` right after the first `apply` | {cell(check_after)} | |")
    return [item if isinstance(item, str) else item["path"] for item in changed]


def slice_table(folder: Path, rewritten: Sequence[str], scratch: Path, runs: int, size: int = SLICE_FILES) -> None:
    """LibCST's codemod runner renaming the getter, and `apply --phase all`, on the same files:
    those `apply` rewrites first, then others, `size` in all."""
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=folder, capture_output=True, text=True).stdout.split()
    chosen = list(dict.fromkeys([*rewritten, *listed]))[:size]
    source = scratch / "slice"
    for relpath in chosen:
        (source / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / relpath, source / relpath)
    shutil.copy2(folder / "pyproject.toml", source / "pyproject.toml")
    target = scratch / "slice-run"

    def fresh() -> None:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)

    old, new = f"{FACTORY}.{NAME}", f"{FACTORY}.create_agent_instance_factory"
    rename = (PY, "-m", "libcst.tool", "codemod", "rename.RenameCommand", "--old_name", old, "--new_name", new,
              "-j", "2", "--no-format", "--hide-progress", ".")
    apply = (*MIGRATOR, "apply", "--phase", "all", "--allow-dirty", "-f", "json", ".")
    runner = repeat(rename, runs, cwd=target, ok_codes=(0, 1), before_each=fresh)
    ours = repeat(apply, runs, cwd=target, ok_codes=(0, 1), before_each=fresh)
    print(f"\nA {len(chosen):,}-file slice of M ({sum(1 for r in rewritten if r in chosen):,} of them rewritten by apply)\n")
    print("| command | time (min–max), peak memory, cores busy |\n|---|---|")
    print(f"| LibCST's codemod runner, `RenameCommand`, `-j 2` | {cell(runner)} |")
    print(f"| **migrator** `apply --phase all` | {cell(ours)} |")
    if runner.samples and ours.samples:
        print(f"\n- LibCST runner / apply: {runner.median / ours.median:.1f} (target >= 30)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scales", default="0.2,1,2", help="corpus scales for the memory table (1 is M itself)")
    parser.add_argument("--quick", action="store_true", help="skip LibCST's runner on the slice")
    parser.add_argument("--slice", type=int, default=SLICE_FILES, help="files in the slice LibCST's runner works on")
    parser.add_argument("--only", choices=("table", "memory", "apply", "slice"), help="one part alone")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(BENCH.parent)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([PY, "-m", "compileall", "-q", str(BENCH.parent / "migrator")], check=False)
    folder = corpus(1)
    print(f"Corpus M: {folder}; {os.cpu_count()} cores; {args.runs} runs each")
    wanted = {args.only} if args.only else {"table", "memory", "apply", *(() if args.quick else ("slice",))}
    if "table" in wanted:
        ratios(main_table(folder, args.runs))
    if "memory" in wanted:
        memory_scaling([float(s) for s in args.scales.split(",") if s])
    scratch = Path(tempfile.mkdtemp(prefix="migrator-bench-m-"))
    try:
        if wanted & {"apply", "slice"}:
            rewritten = apply_table(corpus(1), scratch, args.runs if "apply" in wanted else 1)
            if "slice" in wanted:
                slice_table(corpus(1), rewritten, scratch, args.runs, args.slice)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
