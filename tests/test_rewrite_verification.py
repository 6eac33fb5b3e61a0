"""The name check before every write, import placement and the fix loop."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from migrator import verify
from migrator.analysis.model import Pos
from migrator.analysis.signatures import SignatureIndex
from migrator.transforms._rewriter import rewrite
from migrator.transforms.edits import (
    AddImport,
    InsertStatement,
    RemoveImport,
    ReplaceCall,
    ReplaceExpression,
)
from tests.conftest import FACTORY, snapshot, write
from tests.helpers import run_text

CONTEXT_MODULE = "netra_backend.app.services.user_execution_context"


def _tree(source: str) -> ast.Module:
    return ast.parse(textwrap.dedent(source))


def _names(source: str) -> verify.Names:
    return verify.names_of(_tree(source), "m.py")


# -- pyflakes before and after ------------------------------------------------------------


def test_name_problems_reports_only_what_the_rewrite_adds() -> None:
    before = _names("import os\nprint(undefined_before)\n")
    after = _names("import os\nimport os\nprint(undefined_before, undefined_after)\n")
    assert verify.name_problems(before, after) == [
        "name bound twice 'os'",
        "new undefined name 'undefined_after'",
    ]


def test_name_problems_ignore_what_moved_lines() -> None:
    before = _names("import os\n\nprint(missing)\n")
    after = _names("\n\n\nimport os\nprint(missing)\n")
    assert verify.name_problems(before, after) == []


def test_string_annotation_use_counts_as_a_use() -> None:
    kept = _names("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from a import R\ndef f(r: 'R'): ...\n")
    dropped = _names("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\ndef f(r: 'R'): ...\n")
    assert verify.name_problems(kept, dropped) == ["new undefined name 'R'"]


def test_newly_unused_imports_are_the_ones_the_rewrite_orphaned() -> None:
    before_source = "from a import Agent, Other\nimport b.c as d\nx = Agent()\ny = d.f()\nOther\n"
    after_source = "from a import Agent, Other\nimport b.c as d\nx = make()\ny = 1\nOther\n"
    after_tree = ast.parse(after_source)
    removals = verify.newly_unused_imports(
        verify.names_of(ast.parse(before_source), "m.py"),
        verify.names_of(after_tree, "m.py"),
        after_tree,
        after_source.splitlines(),
    )
    assert removals == [RemoveImport(Pos(1, 0), "Agent"), RemoveImport(Pos(2, 0), "b.c")]


def test_an_import_in_a_try_with_a_fallback_is_never_removed_as_unused() -> None:
    before_source = "try:\n    from a import A\nexcept ImportError:\n    HAVE_A = False\nA()\n"
    after_source = "try:\n    from a import A\nexcept ImportError:\n    HAVE_A = False\nB = 1\n"
    after_tree = ast.parse(after_source)
    before = verify.names_of(ast.parse(before_source), "m.py")
    after = verify.names_of(after_tree, "m.py")
    assert verify.name_problems(before, after) == ["new unused import 'a.A'"]
    assert verify.newly_unused_imports(before, after, after_tree, after_source.splitlines()) == []


# -- calls against the callee's own definition ---------------------------------------------


def _project_with_context(root: Path) -> None:
    write(
        root,
        {
            "netra_backend/__init__.py": "",
            "netra_backend/app/__init__.py": "",
            "netra_backend/app/services/__init__.py": "",
            "netra_backend/app/services/user_execution_context.py": """
                class UserExecutionContext:
                    def __init__(self, user_id, thread_id, run_id, request_id=None):
                        self.user_id = user_id

                    @classmethod
                    def from_request_supervisor(cls, user_id, thread_id, run_id, request_id=None, *, strict=True):
                        return cls(user_id, thread_id, run_id, request_id)
            """,
        },
    )


def test_inserted_call_missing_a_required_argument_is_a_problem(tmp_path: Path) -> None:
    _project_with_context(tmp_path)
    code = "ctx = UserExecutionContext.from_request_supervisor(user_id=user_id, thread_id=thread_id, tenant='x')\n"
    after = _tree(
        f"""
        from {CONTEXT_MODULE} import UserExecutionContext
        def handle(user_id, thread_id):
            {code}
            return ctx
        """
    )
    edits = [InsertStatement(Pos(4, 4), code)]
    problems = verify.call_problems(edits, after, "app.routes", False, SignatureIndex(tmp_path))
    assert problems == [
        "line 4: from_request_supervisor() has no parameter 'tenant'",
        "line 4: from_request_supervisor() requires 'run_id', which the call does not pass",
    ]


def test_complete_calls_and_calls_of_unknown_callees_pass(tmp_path: Path) -> None:
    _project_with_context(tmp_path)
    after = _tree(f"from {CONTEXT_MODULE} import UserExecutionContext\nfrom elsewhere import build\n")
    edits = [
        ReplaceCall(Pos(3, 0), "UserExecutionContext.from_request_supervisor", "'u', 't', run_id='r', strict=False"),
        InsertStatement(Pos(4, 0), "build(anything=1)\n"),
    ]
    assert verify.call_problems(edits, after, "app.x", False, SignatureIndex(tmp_path)) == []


def test_a_call_to_a_class_binds_to_its_constructor(tmp_path: Path) -> None:
    _project_with_context(tmp_path)
    after = _tree(f"from {CONTEXT_MODULE} import UserExecutionContext as Ctx\n")
    edits = [ReplaceExpression(Pos(2, 0), "Ctx('u', 't')")]
    assert verify.call_problems(edits, after, "app.x", False, SignatureIndex(tmp_path)) == [
        "line 2: UserExecutionContext() requires 'run_id', which the call does not pass"
    ]


def test_signatures_follow_relative_reexports_of_the_shipped_runtime(tmp_path: Path) -> None:
    found = SignatureIndex(tmp_path).lookup("migrator.runtime.UserExecutionContext.from_request_supervisor")
    assert found is not None
    assert found.qualname == "migrator.runtime.context.UserExecutionContext.from_request_supervisor"
    assert {"user_id", "thread_id"} <= found.required


def test_a_context_built_for_the_tree_passes_every_argument_its_definition_requires(tmp_path: Path, cli) -> None:
    _project_with_context(tmp_path)
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "netra_backend/app/routes.py": f"""
                from {FACTORY} import get_agent_instance_factory


                async def handle(user_id, thread_id):
                    factory = get_agent_instance_factory()
                    return factory
            """,
        },
    )
    before = snapshot(tmp_path)
    safe_only = cli("apply", "--phase", "2A", "--format", "json", cwd=tmp_path)
    assert safe_only.code == 1 and safe_only.json()["changed_files"] == []
    assert snapshot(tmp_path) == before
    result = cli("apply", "--phase", "2A", "--unsafe-fixes", "--format", "json", cwd=tmp_path)
    assert result.json()["errors"] == [] and result.json()["changed_files"] == ["netra_backend/app/routes.py"]
    tree = ast.parse((tmp_path / "netra_backend/app/routes.py").read_text())
    built = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "from_request_supervisor")
    signature = SignatureIndex(tmp_path).lookup(f"{CONTEXT_MODULE}.UserExecutionContext.from_request_supervisor")
    assert signature is not None and signature.problems(built) == []
    assert {k.arg for k in built.keywords} >= {"user_id", "thread_id", "run_id"}


# -- where new imports go, and when they are not added -------------------------------------


def test_new_imports_go_after_the_import_path_set_up() -> None:
    source = textwrap.dedent(
        '''\
        """A script."""
        from __future__ import annotations
        import sys
        from pathlib import Path
        sys.path.insert(0, str(Path(__file__).parent.parent))
        from netra_backend.app.config import settings

        print(settings)
        '''
    )
    result = rewrite(source, [AddImport(CONTEXT_MODULE, "UserExecutionContext")])
    lines = result.splitlines()
    assert lines.index(f"from {CONTEXT_MODULE} import UserExecutionContext") == lines.index(
        "from netra_backend.app.config import settings"
    ) + 1


def test_new_import_follows_a_path_set_up_with_no_import_after_it() -> None:
    source = 'import sys\nsys.path.append("src")\n\n\ndef main():\n    pass\n'
    result = rewrite(source, [AddImport("uuid")])
    assert result.startswith('import sys\nsys.path.append("src")\nimport uuid\n')


def test_a_module_imported_further_down_is_not_imported_again() -> None:
    source = "import os\n\n\ndef f():\n    return uuid.uuid4()\n\n\nimport uuid\n"
    assert rewrite(source, [AddImport("uuid")]) == source


def test_a_name_imported_inside_a_try_block_is_not_imported_again() -> None:
    source = f"try:\n    from {CONTEXT_MODULE} import UserExecutionContext\nexcept ImportError:\n    raise\n"
    assert rewrite(source, [AddImport(CONTEXT_MODULE, "UserExecutionContext")]) == source


def test_new_name_merges_into_the_existing_from_import_of_its_module() -> None:
    source = f"from {FACTORY} import configure_agent_instance_factory\n\nx = 1\n"
    result = rewrite(source, [AddImport(FACTORY, "create_agent_instance_factory")])
    assert result.splitlines()[0] == f"from {FACTORY} import configure_agent_instance_factory, create_agent_instance_factory"


def test_plain_import_names_are_removed_one_by_one() -> None:
    source = "import os, a.b as c\nif True:\n    import json\n    print(1)\n"
    result = rewrite(source, [RemoveImport(Pos(1, 0), "a.b"), RemoveImport(Pos(3, 4), "json")])
    assert result == "import os\nif True:\n    print(1)\n"


# -- one run reaches the fixed point ---------------------------------------------------------


def test_two_getter_imports_become_one_import_of_the_replacement() -> None:
    source = textwrap.dedent(
        f"""\
        from {FACTORY} import get_agent_instance_factory


        def first(user_context):
            return get_agent_instance_factory()


        from {FACTORY} import get_agent_instance_factory


        def second(user_context):
            return get_agent_instance_factory()
        """
    )
    result = run_text(source)
    assert result.message is None
    text = result.rewritten.decode()
    assert text.count("import create_agent_instance_factory") == 1
    assert verify.name_problems(verify.names_of(ast.parse(source), "m"), verify.names_of(ast.parse(text), "m")) == []


def test_an_import_freed_by_a_fix_is_removed_in_the_same_run() -> None:
    source = textwrap.dedent(
        f"""\
        from {FACTORY} import get_agent_instance_factory


        async def handle(user_context):
            factory = get_agent_instance_factory()
            return factory
        """
    )
    first = run_text(source)
    assert first.rewritten is not None
    again = run_text(first.rewritten)
    assert again.rewritten is None
    assert [f for f in again.findings if f.fixable] == []
    assert "get_agent_instance_factory" not in first.rewritten.decode()


def test_a_fix_that_would_orphan_a_guarded_import_is_refused_whole() -> None:
    source = textwrap.dedent(
        """\
        try:
            from netra_backend.app.agents.supervisor import get_agent_instance_factory
            HAVE_FACTORY = True
        except ImportError:
            HAVE_FACTORY = False


        async def handle(user_context, name):
            factory = get_agent_instance_factory()
            return await factory.create_agent_instance(name, user_context)
        """
    )
    result = run_text(source)
    assert result.rewritten is None
    assert result.message == (
        "rewrite refused, file left unchanged: "
        "new unused import 'netra_backend.app.agents.supervisor.get_agent_instance_factory'"
    )
    guarded = next(f for f in result.findings if f.rule == "MIG002")
    assert not guarded.fixable and "try/except ImportError" in guarded.reason


# -- what the compiler is given ----------------------------------------------------------------

_COMPILER_CASES = """
from __future__ import annotations

import os


def untouched():
    nonlocal missing  # the compiler rejects this, but the rewrite did not write it


async def handler(user_context):
    return os.getcwd()


def sync_caller():
    return os.getcwd()
"""


def _check(new_text: str):
    from migrator import engine

    text = textwrap.dedent(_COMPILER_CASES)
    return engine._checked(text, ast.parse(text), textwrap.dedent(new_text), "m.py")


def test_the_compiler_sees_what_a_rewrite_touched_and_not_what_it_left_alone() -> None:
    # A change inside `handler` compiles with `handler`; `untouched` is not given to the compiler.
    new_tree, _, _ = _check(_COMPILER_CASES.replace("return os.getcwd()\n\n\ndef sync", "return os.getpid()\n\n\ndef sync"))
    assert [n.name for n in new_tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)] == [
        "untouched", "handler", "sync_caller"
    ]


def test_await_written_into_a_sync_function_is_a_compile_error() -> None:
    # The parser accepts `await` anywhere; only the compiler rejects it outside an async function.
    broken = _COMPILER_CASES.replace("def sync_caller():\n    return os.getcwd()", "def sync_caller():\n    return await os.getcwd()")
    with pytest.raises(SyntaxError, match="await"):
        _check(broken)


def test_an_import_placed_before_the_future_import_is_a_compile_error() -> None:
    with pytest.raises(SyntaxError, match="__future__"):
        _check("import sys\n" + textwrap.dedent(_COMPILER_CASES).lstrip("\n"))
