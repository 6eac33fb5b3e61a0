"""Fetches the pinned Django 5.2 sdist from PyPI (once) and extracts its .py files as corpus A.

Run by hand: ``python bench/fetch_django.py``; the sdist is kept in bench/.cache/ and the
files land in bench/.corpus/A/ (both gitignored).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REQUIREMENT = "django==5.2.*"


def download_sdist(cache: Path) -> Path:
    """The Django sdist in `cache`, downloaded with pip when not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob("[Dd]jango-5.2*.tar.gz"))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps"]
        subprocess.run([*command, "--dest", str(cache), REQUIREMENT], check=True)
        found = sorted(cache.glob("[Dd]jango-5.2*.tar.gz"))
    if not found:
        raise SystemExit(f"pip left no Django 5.2 sdist in {cache}")
    return found[-1]


def extract_sources(sdist: Path, out: Path) -> int:
    """Extract the sdist's .py files under `out` (replacing it); return how many."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    count = 0
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            if not member.isfile() or not member.name.endswith(".py"):
                continue
            # Drop the top folder (Django-5.2.x/) so paths read like a checkout.
            relative = Path(*Path(member.name).parts[1:])
            if relative.is_absolute() or ".." in relative.parts:
                continue
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is not None:
                target.write_bytes(source.read())
                count += 1
    # A config file pins the project root for migrator, as in a real checkout.
    (out / "migrator.toml").write_text("")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=BENCH / ".cache")
    parser.add_argument("--out", type=Path, default=BENCH / ".corpus" / "A")
    args = parser.parse_args()
    sdist = download_sdist(args.cache)
    count = extract_sources(sdist, args.out)
    size = sum(path.stat().st_size for path in args.out.rglob("*.py"))
    print(f"{args.out}: {count} .py files, {size / 1e6:.1f} MB from {sdist.name}")


if __name__ == "__main__":
    main()
