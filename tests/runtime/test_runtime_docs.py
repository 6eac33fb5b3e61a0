"""Every python block of docs/runtime.md runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import migrator.runtime

REPO_ROOT = Path(migrator.runtime.__file__).parent.parent.parent
DOCS = (REPO_ROOT / "docs" / "runtime.md", REPO_ROOT / "README.md")
FENCE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[tuple[str, str]]:
    """Return (heading, code) for each python fence of the runtime docs and the README."""
    blocks = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            headings = re.findall(r"^## (.+)$", text[:match.start()], re.MULTILINE)
            heading = headings[-1] if headings else "intro"
            blocks.append((heading if doc.name == "runtime.md" else f"README: {heading}", match.group(1)))
    return blocks


BLOCKS = python_blocks()


def test_handling_a_request_section_has_a_runnable_handler() -> None:
    sections = [heading for heading, _ in BLOCKS]
    assert "Handling a request" in sections
    handler = dict(BLOCKS)["Handling a request"]
    assert dict(BLOCKS)["README: The runtime"] == handler
    assert "async def handle_user_request(" in handler
    assert "factory.user_execution_scope(" in handler


@pytest.mark.parametrize(("heading", "code"), BLOCKS,
                         ids=[f"{i}-{h}" for i, (h, _) in enumerate(BLOCKS)])
def test_block_runs(heading: str, code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in {"AGENT_REGISTRY_ARCHITECTURE", "MIGRATOR_RUNTIME_DATABASE_URL"}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                      env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{heading}:\n{result.stderr}"
