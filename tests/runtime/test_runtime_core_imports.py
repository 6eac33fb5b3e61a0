"""The core runs on the standard library alone and stays apart from the CLI side."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import migrator.runtime

RUNTIME_DIR = Path(migrator.runtime.__file__).parent
REPO_ROOT = RUNTIME_DIR.parent.parent
# Modules allowed to import third-party packages, each only its own.
EXTRA_MODULES = {"db.py", "asgi.py", "redis_router.py", "redis_batch.py", "server.py",
                 "__main__.py", "connection.py", "jwt_auth.py", "prometheus.py"}

CORE_SCRIPT = textwrap.dedent("""
    import asyncio, sys
    BLOCKED = {"starlette", "uvicorn", "websockets", "sqlalchemy", "aiosqlite", "redis",
               "httpx", "anyio", "libcst", "rich", "pathspec", "jwt",
               "prometheus_client"}

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked third-party import: {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    before = set(sys.modules)
    import migrator.runtime as rt

    class Echo(rt.BaseAgent):
        async def execute(self, request, run_id):
            await self.notify_event("agent_started", {"request": request})
            return request

    async def main():
        registry = rt.AgentClassRegistry()
        registry.register("echo", Echo, "Echoes")
        registry.freeze()
        context = rt.UserExecutionContext.from_request_supervisor("alice", "t1")
        factory = rt.create_agent_instance_factory(
            context, runtime=rt.Runtime(class_registry=registry))
        received = []
        factory.runtime.router.register("alice", received.append)
        async with factory.user_execution_scope("alice", "t1", context.run_id) as scoped:
            agent = await factory.create_agent_instance("echo", scoped)
            assert await agent.execute("hi", scoped.run_id) == "hi"
            assert await asyncio.to_thread(rt.current_user_context) is scoped
        assert [e.type for e in received] == ["agent_started"]
        assert factory.get_factory_metrics()["active_contexts"] == 0
        signer = rt.TokenSigner(b"0123456789abcdef0123")
        assert signer.verify(signer.issue("alice")) == "alice"

    asyncio.run(main())
    loaded = {m.split(".")[0] for m in set(sys.modules) - before}
    foreign = sorted(m for m in loaded if m not in sys.stdlib_module_names and m != "migrator")
    assert not foreign, foreign
    print("ok")
""")


def test_core_works_with_third_party_packages_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-S", "-c", CORE_SCRIPT],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base.rstrip('.')}.{alias.name}" for alias in node.names)
    return names


def test_core_modules_import_only_the_standard_library_and_each_other() -> None:
    for path in sorted(RUNTIME_DIR.glob("*.py")):
        if path.name in EXTRA_MODULES:
            continue
        for name in _imported_modules(path):
            if name.startswith("."):
                continue
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or top == "__future__", (path.name, name)


def test_runtime_imports_nothing_from_the_cli_side() -> None:
    for path in sorted(RUNTIME_DIR.glob("*.py")):
        for name in _imported_modules(path):
            assert not name.startswith(".."), (path.name, name)
            assert not (name.startswith("migrator") and not name.startswith(
                "migrator.runtime")), (path.name, name)


def test_cli_side_imports_nothing_from_the_runtime() -> None:
    for path in sorted((REPO_ROOT / "migrator").rglob("*.py")):
        if RUNTIME_DIR in path.parents:
            continue
        for name in _imported_modules(path):
            assert "runtime" not in name.split("."), (str(path), name)
