"""The Python anchor workloads the benchmark times: read, parse or resolve every file of a corpus.

Run by the runner as ``python bench/anchors.py KIND FOLDER [--jobs N]``; KIND is one of
prefilter, ast, cst, qualnames.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

NEEDLE = b"get_agent_instance_factory"


def python_files(folder: Path) -> list[str]:
    """Every .py file under `folder`, skipping the tool's own state folders."""
    found = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in (".migrator", ".git", "__pycache__")]
        found.extend(os.path.join(top, name) for name in files if name.endswith(".py"))
    return sorted(found)


def prefilter(paths: list[str]) -> int:
    """How many files contain the needle, reading each file's bytes once."""
    count = 0
    for path in paths:
        with open(path, "rb") as handle:
            if NEEDLE in handle.read():
                count += 1
    return count


def parse_ast(path: str) -> int:
    import ast

    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        return len(ast.parse(raw).body)
    except (SyntaxError, ValueError):
        return -1


def parse_cst(path: str) -> int:
    import libcst

    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        return len(libcst.parse_module(raw).body)
    except Exception:  # noqa: BLE001 - a file LibCST cannot parse counts as one, not a crash
        return -1


def resolve_qualnames(path: str) -> int:
    import libcst
    from libcst.metadata import MetadataWrapper, QualifiedNameProvider

    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        wrapper = MetadataWrapper(libcst.parse_module(raw))
        return len(wrapper.resolve(QualifiedNameProvider))
    except Exception:  # noqa: BLE001 - as above
        return -1


WORKERS = {"ast": parse_ast, "cst": parse_cst, "qualnames": resolve_qualnames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["prefilter", *WORKERS])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    paths = python_files(args.folder)
    if args.kind == "prefilter":
        print(f"{prefilter(paths)} of {len(paths)} files mention the name")
        return
    chunk = max(1, len(paths) // (args.jobs * 8))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        failed = sum(1 for result in pool.map(WORKERS[args.kind], paths, chunksize=chunk) if result < 0)
    print(f"{len(paths)} files, {failed} not parsed", file=sys.stderr)


if __name__ == "__main__":
    main()
