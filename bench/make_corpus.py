"""Writes corpus S: a seeded synthetic project of ~150-line modules, 30% calling the deprecated getter.

Run by hand: ``python bench/make_corpus.py --files 2000 --out bench/.corpus/S2000``.
Every call sits in an async function that takes `user_id`, `thread_id` and `run_id`, so
`migrator apply` can fix all of them; the same seed always writes the same bytes.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

FACTORY = "netra_backend.app.agents.supervisor.agent_instance_factory"
HIT_SHARE = 0.3
FILES_PER_PACKAGE = 50
TARGET_LINES = 150

_WORDS = (
    "account billing cache channel config cursor digest event ledger message metric order "
    "payload profile queue quota record report request schedule session signal status "
    "stream summary task thread token usage window worker"
).split()


def _name(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(_WORDS) for _ in range(parts))


def _class_block(rng: random.Random) -> list[str]:
    name = "".join(word.title() for word in _name(rng).split("_"))
    fields = rng.sample(_WORDS, 3)
    lines = [
        "@dataclasses.dataclass(frozen=True)",
        f"class {name}:",
        f'    """A {fields[0]} record with its {fields[1]} and {fields[2]}."""',
        "",
        *(f"    {field}: str = {field!r}" for field in fields),
        "",
        "    def describe(self) -> str:",
        f'        return f"{{self.{fields[0]}}}:{{self.{fields[1]}}}"',
        "",
        "    def weight(self, factor: int = 2) -> int:",
        f"        total = sum(len(part) for part in (self.{fields[0]}, self.{fields[1]}, self.{fields[2]}))",
        "        return total * factor if total > 10 else -total",
        "",
        "",
    ]
    return lines


def _function_block(rng: random.Random) -> list[str]:
    name = _name(rng)
    arg = rng.choice(_WORDS)
    lines = [
        f"def {name}({arg}s: list[str], limit: int = {rng.randint(2, 90)}) -> dict[str, int]:",
        f'    """Count the {arg}s seen, up to `limit` of them."""',
        "    counts: dict[str, int] = {}",
        f"    for index, item in enumerate({arg}s):",
        "        if index >= limit:",
        "            break",
        "        key = item.strip().lower()",
        "        counts[key] = counts.get(key, 0) + 1",
        f"    logger.debug(\"{name}: %d distinct\", len(counts))",
        "    return {key: value for key, value in sorted(counts.items()) if value}",
        "",
        "",
    ]
    return lines


def _async_block(rng: random.Random) -> list[str]:
    name = _name(rng)
    return [
        f"async def {name}(client, request_id: str, retries: int = 3):",
        f'    """Fetch the {name.replace("_", " ")} for one request, retrying on timeouts."""',
        "    for attempt in range(retries):",
        "        try:",
        f'            return await client.get(f"/{name}/{{request_id}}", timeout=attempt + 1)',
        "        except TimeoutError:",
        f'            logger.warning("{name} timed out (attempt %d)", attempt)',
        "    return None",
        "",
        "",
    ]


def _hit_block(rng: random.Random) -> list[str]:
    agent = rng.choice(("triage", "supervisor", "data_helper", "reporting"))
    name = f"handle_{_name(rng)}"
    return [
        f"async def {name}(user_id: str, thread_id: str, run_id: str, message: str):",
        '    """Run one agent for this request."""',
        "    factory = get_agent_instance_factory()",
        f'    agent = await factory.create_agent_instance("{agent}", None)',
        "    result = await agent.execute(message, run_id)",
        '    logger.info("agent finished for %s", thread_id)',
        "    return result",
        "",
        "",
    ]


def module_text(rng: random.Random, hit: bool) -> str:
    """One module of about TARGET_LINES lines; a hit module imports and calls the getter."""
    header = [f'"""Generated module about {_name(rng)}."""', "", "from __future__ import annotations", ""]
    header += ["import dataclasses", "import logging", ""]
    if hit:
        header.append(f"from {FACTORY} import get_agent_instance_factory")
    header += ["", "logger = logging.getLogger(__name__)", "", ""]
    body: list[str] = []
    blocks = (_class_block, _function_block, _async_block)
    hit_at = rng.randint(1, 5) if hit else -1
    while len(header) + len(body) < TARGET_LINES - 10:
        if len(body) // 12 == hit_at:
            body += _hit_block(rng)
            hit_at = -1
        body += rng.choice(blocks)(rng)
    if hit_at != -1:
        body += _hit_block(rng)
    return "\n".join(header + body).rstrip() + "\n"


def write_corpus(out: Path, files: int, seed: int = 6) -> int:
    """Write `files` modules under `out` (replacing it); return how many call the getter."""
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    hits = set(rng.sample(range(files), round(files * HIT_SHARE)))
    (out / "netra_backend").mkdir(parents=True)
    (out / "pyproject.toml").write_text('[project]\nname = "corpus-s"\nversion = "0"\n\n[tool.migrator]\n')
    for number in range(files):
        package = out / "netra_backend" / f"svc{number // FILES_PER_PACKAGE:03d}"
        package.mkdir(exist_ok=True)
        module = package / f"{_name(rng)}_{number:05d}.py"
        module.write_text(module_text(rng, number in hits))
    return len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    hits = write_corpus(args.out, args.files, args.seed)
    print(f"{args.out}: {args.files} modules, {hits} calling get_agent_instance_factory")


if __name__ == "__main__":
    main()
