"""A seeded generator of small modules that use the deprecated getter in many shapes, for tests."""

from __future__ import annotations

import random
from pathlib import Path

FACTORY = "netra_backend.app.agents.supervisor.agent_instance_factory"

FRAGMENTS = (
    f"""
from {FACTORY} import get_agent_instance_factory


async def handle_{{n}}(user_id, thread_id, run_id):
    factory = get_agent_instance_factory()
    return await factory.create_agent_instance("triage", None)
""",
    f"""
from {FACTORY} import get_agent_instance_factory as make_{{n}}


def plain_{{n}}():
    return make_{{n}}()
""",
    f"""
import {FACTORY} as factories_{{n}}


async def attr_{{n}}(user_id, thread_id):
    return factories_{{n}}.get_agent_instance_factory()
""",
    f"""
import {FACTORY}

FACTORY_{{n}} = {FACTORY}.get_agent_instance_factory()
""",
    """
from netra_backend.app.agents.supervisor import get_agent_instance_factory


def route_{n}(factory=Depends(get_agent_instance_factory)):
    return factory
""",
    """
def get_agent_instance_factory():
    return None


OWN_{n} = get_agent_instance_factory()
""",
    f"""
from {FACTORY} import get_agent_instance_factory


def shadow_{{n}}(get_agent_instance_factory):
    return get_agent_instance_factory()


LATER_{{n}} = lambda: get_agent_instance_factory()
""",
    """
NOTE_{n} = "get_agent_instance_factory() is deprecated"  # get_agent_instance_factory()
""",
    """
from .agent_instance_factory import get_agent_instance_factory


class Service{n}:
    async def run(self, user_id, thread_id):
        return get_agent_instance_factory()
""",
    f"""
from {FACTORY} import *


def many_{{n}}():
    return [get_agent_instance_factory() for _ in range(2)]
""",
    f"""
def nested_{{n}}(user_context):
    from {FACTORY} import get_agent_instance_factory

    return f"{{{{get_agent_instance_factory()}}}}"
""",
    """
def unrelated_{n}(obj):
    return obj.get_agent_instance_factory(), obj.get_agent_instance_factory_v2()
""",
    f"""
import {FACTORY} as f_{{n}}


class Holder{{n}}:
    factory = f_{{n}}.get_agent_instance_factory()

    @staticmethod
    def again(user_id, thread_id, run_id):
        return f_{{n}}.get_agent_instance_factory()
""",
)
# Fragments that bind the bare name to something else (an own function, a relative import that
# may not reach the deprecated module) stand alone: QualifiedNameProvider, behind the reference
# detector, unites every binding of a scope and does not follow their order as Python does.
SOLO = frozenset({5, 8})
FOLDERS = (
    "netra_backend/app/routes",
    "netra_backend/app/agents/supervisor",
    "tests/unit",
    "examples",
    "scripts",
)


def module_text(rng: random.Random, number: int, fragments: int = 3) -> str:
    """A module of a few fragments picked at random, each numbered so names stay unique."""
    chosen = [rng.randrange(len(FRAGMENTS)) for _ in range(rng.randint(1, fragments))]
    solo = [index for index in chosen if index in SOLO]
    if solo:
        chosen = solo[:1]
    picked = [FRAGMENTS[index].format(n=f"{number}_{i}") for i, index in enumerate(chosen)]
    return '"""Generated."""\n' + "\n".join(picked)


def write_corpus(root: Path, count: int, seed: int = 6, every_file_calls: bool = False) -> list[str]:
    """Write `count` modules under `root` with a `[tool.migrator]` config; return their paths."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.migrator]\n")
    paths = []
    for number in range(count):
        folder = rng.choice(FOLDERS)
        name = f"test_mod_{number:04d}.py" if folder.startswith("tests") else f"mod_{number:04d}.py"
        relpath = f"{folder}/{name}"
        text = FRAGMENTS[0].format(n=number) if every_file_calls else module_text(rng, number)
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(relpath)
    return paths
