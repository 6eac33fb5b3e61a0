"""Writes corpus M: a seeded tree shaped like the large agent backend of REALWORLD.md; run by hand.

``python bench/make_monorepo.py --out bench/.corpus/M [--scale 1.0] [--git]``

At scale 1.0: 24,897 `.py` files (about 19.6 KB on average, 236 KB the largest, 487 MB in
all), 6,866 Markdown files, about 55,000 files in all; four `.gitignore` files (124 patterns
at the root); `backups/<date>/system_snapshot/` copies of the test tree that hold most of the
findings; `*.py.backup_*` files; 43 files with Python 3.12 f-strings and 3 with merge-conflict
markers; about 2,000 files that mention a deprecated name (452 getter calls, 278 getter
imports, 85 patch targets); 100 agent and test-double classes named in thousands of files.
The same seed and scale always write the same bytes. `--scale` shrinks every count alike.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
from pathlib import Path

FACTORY = "netra_backend.app.agents.supervisor.agent_instance_factory"
REGISTRY = "netra_backend.app.agents.supervisor.agent_registry"
AGENTS_MODULE = "netra_backend.app.agents"
FULL = {
    "py": 24_897, "md": 6_866, "other": 23_200, "backup_suffixed": 240, "py312": 43, "conflicts": 3,
    "getter_imports": 278, "getter_calls": 452, "patch_targets": 85, "other_mentions": 1_600,
    "agent_classes": 60, "test_doubles": 40, "agent_importers": 3_000, "md_fences": 400,
}
MEAN_BYTES, MAX_BYTES = 19_600, 236_000
BACKUP_SHARE = 0.65  # of the files with findings, the share that sits in backups/
PRODUCTION = ("netra_backend/app/agents", "netra_backend/app/services", "netra_backend/app/routes",
              "netra_backend/app/core", "netra_backend/app/db", "netra_backend/app/websocket", "auth_service/auth_core",
              "auth_service/services", "scripts")
TESTS = ("tests/unit", "tests/integration", "tests/e2e", "tests/mission_critical", "netra_backend/tests/agents",
         "netra_backend/tests/services", "netra_backend/tests/routes", "test_framework/fixtures", "test_framework/ssot")
WORDS = ["account", "agent", "billing", "cache", "channel", "config", "cursor", "digest", "event", "ledger", "message", "metric", "order", "payload", "profile", "queue", "quota", "record", "report", "request", "schedule", "session", "signal", "status", "stream", "summary", "task", "thread", "token", "usage", "window", "worker"]


def _ident(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(WORDS) for _ in range(parts))


def _block(rng: random.Random) -> str:
    """One ordinary function or class, about 0.6–2 KB, that mentions nothing deprecated."""
    name = _ident(rng, 3)
    if rng.random() < 0.4:
        cls = "".join(w.title() for w in name.split("_"))
        fields = rng.sample(WORDS, 4)
        body = "".join(f"        self.{f} = {f}\n" for f in fields)
        methods = "".join(
            f"\n    def {f}_{_ident(rng)}(self, value: int = {i}) -> dict:\n"
            f'        """Return the {f} view of this {cls}."""\n'
            f"        return {{'{f}': self.{f}, 'value': value * {i + 1}}}\n"
            for i, f in enumerate(fields)
        )
        return f"\n\nclass {cls}:\n    \"\"\"Holds {', '.join(fields)}.\"\"\"\n\n    def __init__(self, {', '.join(fields)}):\n{body}{methods}"
    lines = "".join(
        f"    {w} = [item for item in items if item.get('{w}') is not None]  # keep {w} rows\n"
        f"    total += len({w}) * {i}\n"
        for i, w in enumerate(rng.sample(WORDS, 6))
    )
    return (
        f"\n\nasync def {name}(items: list[dict], limit: int = 100) -> int:\n"
        f'    """Count the {name.replace("_", " ")} entries, at most `limit`."""\n'
        f"    total = 0\n{lines}    return min(total, limit)\n"
    )


def _size(rng: random.Random) -> int:
    return int(min(MAX_BYTES, max(400, rng.lognormvariate(9.6, 0.75))))


HEADER = '"""Generated module."""\nfrom __future__ import annotations\n\nimport asyncio\nimport logging\n'


def _hit(rng: random.Random, kind: str, counts: dict[str, int], agents: list[str]) -> str:
    """The deprecated use a file of `kind` carries (an import of the getter comes with its calls)."""
    if kind == "getter":
        calls = "".join(
            f"\n\nasync def handle_{_ident(rng)}_{n}(user_id, thread_id, run_id):\n"
            f"    factory = get_agent_instance_factory()\n    return await factory.create_agent_instance('triage', None)\n"
            for n in range(counts.pop("calls_here"))
        )
        return f"from {FACTORY} import get_agent_instance_factory\n{calls}"
    if kind == "patch":
        module = rng.choice(PRODUCTION).replace("/", ".")
        return f"from unittest.mock import patch\n\n\n@patch('{module}.get_agent_instance_factory')\ndef test_patched_{_ident(rng)}(factory):\n    assert factory is not None\n"
    if kind == "registry":
        return f"from {REGISTRY} import AgentRegistry\n\n\ndef test_{_ident(rng)}():\n    registry = AgentRegistry()\n    assert registry.get('triage') is None\n"
    agent = rng.choice(agents)
    return f"from {AGENTS_MODULE} import {agent}\n\n\ndef test_{_ident(rng)}():\n    agent = {agent}()\n    assert agent.name\n"


def _module(rng: random.Random, extra: str = "") -> str:
    target = _size(rng)
    parts = [HEADER, extra]
    size = len(HEADER) + len(extra)
    while size < target:
        parts.append(_block(rng))
        size += len(parts[-1])
    return "".join(parts)


def write_monorepo(out: Path, scale: float = 1.0, seed: int = 25) -> dict[str, int]:
    """Write the tree under `out` (replaced if present); return what was written, by kind."""
    rng = random.Random(seed)
    n = {key: max(1, round(value * scale)) for key, value in FULL.items()}
    shutil.rmtree(out, ignore_errors=True)
    files: dict[str, str] = {}
    agents = ["".join(w.title() for w in _ident(rng).split("_")) + f"{i}Agent" for i in range(n["agent_classes"])]
    doubles = [f"Mock{name}" for name in agents[: n["test_doubles"]]]
    for i, name in enumerate(agents):
        files[f"netra_backend/app/agents/agent_{i:03d}.py"] = _module(
            rng, f"from netra_backend.app.agents.base_agent import BaseAgent\n\n\nclass {name}(BaseAgent):\n    name = '{name.lower()}'\n"
        )
    files["netra_backend/app/agents/__init__.py"] = "".join(f"from .agent_{i:03d} import {a}\n" for i, a in enumerate(agents))
    for i, name in enumerate(doubles):
        files[f"tests/doubles/double_{i:03d}.py"] = _module(rng, f"class {name}:\n    name = 'double'\n")
    hits = (["getter"] * n["getter_imports"] + ["patch"] * n["patch_targets"]
            + ["registry"] * (n["other_mentions"] // 2) + ["agent"] * (n["other_mentions"] - n["other_mentions"] // 2))
    rng.shuffle(hits)
    calls_left = n["getter_calls"]
    in_backups = round(len(hits) * BACKUP_SHARE)
    snapshot = "backups/2025-09-14/system_snapshot"
    for index, kind in enumerate(hits):
        imports_left = hits[index:].count("getter")
        counts = {"calls_here": max(1, calls_left // imports_left) if kind == "getter" else 0}
        calls_left -= counts["calls_here"]
        folder = rng.choice(TESTS if kind != "getter" or rng.random() < 0.5 else PRODUCTION)
        relpath = f"{folder}/test_{_ident(rng)}_{index}.py" if folder in TESTS else f"{folder}/{_ident(rng)}_{index}.py"
        text = _module(rng, _hit(rng, kind, counts, agents))
        files[relpath if index >= in_backups else f"{snapshot}/{relpath}"] = text
        if index < in_backups and rng.random() < 0.3:
            files[relpath] = text  # the live copy of a backed-up test
    for index in range(n["agent_importers"]):
        agent = rng.choice(agents)
        files[f"{rng.choice(PRODUCTION + TESTS)}/uses_{_ident(rng)}_{index}.py"] = _module(
            rng, f"from {AGENTS_MODULE} import {agent}\n\nKNOWN = [{agent}]\n"
        )
    for index in range(n["py312"]):
        files[f"scripts/report_{index}.py"] = _module(rng, 'row = {"name": "x"}\nLABEL = f"{row["name"]}"\n')
    for index in range(n["conflicts"]):
        files[f"scripts/merge_{index}.py"] = f"{HEADER}<<<<<<< HEAD\nVALUE = 1\n=======\nVALUE = 2\n>>>>>>> branch\n"
    roots = ("test_", "validate_")
    index = 0
    while sum(1 for p in files if p.endswith(".py")) < n["py"]:
        where = rng.random()
        if where < 0.03:
            relpath = f"{rng.choice(roots)}{_ident(rng)}_{index}.py"
        else:
            folder = rng.choice(PRODUCTION + TESTS)
            relpath = f"{folder}/{'test_' if folder in TESTS else ''}{_ident(rng)}_{index}.py"
        files.setdefault(relpath, _module(rng))
        index += 1
    _write_markdown(rng, files, n)
    for index in range(n["backup_suffixed"]):
        files[f"netra_backend/app/services/{_ident(rng)}_{index}.py.backup_{_ident(rng, 1)}"] = _module(rng)
    for index in range(n["other"]):
        files[f"{rng.choice(('config', 'frontend/src', 'data', 'logs', 'reports'))}/{_ident(rng)}_{index}.{rng.choice(('json', 'yaml', 'txt', 'js'))}"] = (
            '{"generated": true}\n' * rng.randint(1, 40)
        )
    _write_ignores(files)
    for relpath, text in files.items():
        path = out / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return _census(files)


def _write_markdown(rng: random.Random, files: dict[str, str], n: dict[str, int]) -> None:
    labels = ("BEFORE (deprecated):", "AFTER:", "Example:", "❌ Old way:", "Usage:")
    for index in range(n["md"]):
        body = "\n".join(f"{_ident(rng, 6).replace('_', ' ').capitalize()}." for _ in range(rng.randint(5, 80)))
        if index < n["md_fences"]:
            label = rng.choice(labels)
            body += f"\n\n{label}\n\n```python\nfrom {FACTORY} import get_agent_instance_factory\n\nfactory = get_agent_instance_factory()\n```\n"
        folder = rng.choice(("docs", "docs/plans", "reports", "", "netra_backend/docs", "SPEC"))
        files[f"{folder}/{_ident(rng).upper()}_{index}.md".lstrip("/")] = f"# {_ident(rng, 3)}\n\n{body}\n"


def _write_ignores(files: dict[str, str]) -> None:
    patterns = ["__pycache__/", "*.py[cod]", "*.log", ".env", ".venv/", "venv/", "node_modules/", "dist/", "build/",
                "*.egg-info/", ".coverage", "htmlcov/", ".pytest_cache/", ".mypy_cache/", "logs/", "!logs/keep.md"]
    patterns += [f"/{w}_{i}/" for i, w in enumerate(WORDS)] + [f"*.{w}.tmp" for w in WORDS]
    patterns += [f"reports/{w}_*.json" for w in WORDS] + [f"config/local_{w}.yaml" for w in WORDS[:18]]
    files[".gitignore"] = "\n".join(patterns[:124]) + "\n"
    files["frontend/.gitignore"] = "*.js\n!src/keep.js\n"
    files["netra_backend/.gitignore"] = "*.sqlite\n/tmp/\n"
    files["tests/.gitignore"] = "*.snapshot\n.cache/\n"
    files["pyproject.toml"] = "[tool.migrator]\n\n[tool.ruff.lint.flake8-tidy-imports.banned-api]\n" + (
        f'"{FACTORY}.get_agent_instance_factory".msg = "use create_agent_instance_factory(user_context)"\n'
    )


def _census(files: dict[str, str]) -> dict[str, int]:
    py = [text for path, text in files.items() if path.endswith(".py")]
    return {
        "files": len(files),
        "py": len(py),
        "py_bytes": sum(len(t) for t in py),
        "py_max_bytes": max(len(t) for t in py),
        "md": sum(1 for p in files if p.endswith(".md")),
        "mention_getter": sum(1 for t in py if "get_agent_instance_factory" in t),
        "in_backups": sum(1 for p in files if p.startswith("backups/")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / ".corpus" / "M")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--git", action="store_true", help="make the tree a git repository with one commit")
    args = parser.parse_args()
    census = write_monorepo(args.out, args.scale, args.seed)
    if args.git:
        for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "corpus"]):
            subprocess.run(["git", *argv], cwd=args.out, check=True)
    print(" ".join(f"{key}={value:,}" for key, value in census.items()))


if __name__ == "__main__":
    main()
