"""The registry-split rules across files and together in one file."""

from __future__ import annotations

from migrator.exit_codes import ExitCode
from tests.conftest import write
from tests.helpers import run_text

REGISTRY = "netra_backend.app.agents.supervisor.agent_registry"


def test_instantiation_uses_the_name_registered_in_another_file(cli, tmp_path):
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/agents/triage.py": '''
                from app.agents.base import BaseAgent


                class TriageSubAgent(BaseAgent):
                    """Sorts requests."""
            ''',
            "app/startup.py": f'''
                from {REGISTRY} import AgentRegistry
                from app.agents.triage import TriageSubAgent


                async def startup(llm, tools, bridge):
                    registry = AgentRegistry(llm, tools)
                    registry.register("sorter", TriageSubAgent(llm, tools))
                    registry.set_websocket_bridge(bridge)
            ''',
            "app/routes.py": """
                from app.agents.triage import TriageSubAgent


                async def route(user_context, request):
                    agent = TriageSubAgent(None, None)
                    return await agent.execute(request, user_context.run_id)
            """,
        },
    )
    result = cli("apply", "--phase", "2A", "--format", "json", cwd=tmp_path)
    assert result.code == ExitCode.CLEAN, result.out
    routes = (tmp_path / "app/routes.py").read_text()
    assert 'create_agent_instance("sorter", user_context)' in routes
    startup = (tmp_path / "app/startup.py").read_text()
    assert 'class_registry.register("sorter", TriageSubAgent, "Sorts requests.")' in startup
    assert (
        "    await configure_agent_instance_factory(\n"
        "        websocket_bridge=bridge,\n"
        '        agent_dependencies={"llm": llm, "tools": tools},\n'
        "    )\n"
    ) in startup
    assert cli("check", cwd=tmp_path).code == ExitCode.CLEAN


def test_all_rules_in_one_file_apply_in_one_pass_and_stay_idempotent():
    source = f"""\
from netra_backend.app.agents.supervisor.agent_instance_factory import get_agent_instance_factory
from {REGISTRY} import get_singleton_registry
from netra_backend.app.core.database import get_db_session
from netra_backend.app.services.agent_websocket_bridge import get_global_bridge


async def handle(user_context, run_id, message):
    factory = get_agent_instance_factory()
    registry = get_singleton_registry()
    agent = registry.get("triage")
    bridge = get_global_bridge()
    await bridge.notify_agent_started(run_id, "triage", {{}})
    db = get_db_session()
    return factory, agent, db
"""
    result = run_text(source)
    assert result.message is None
    assert sorted({f.rule for f in result.findings}) == ["MIG001", "MIG002", "MIG005", "MIG006", "MIG007", "MIG009"]
    assert all(f.fixable for f in result.findings)
    after = result.rewritten.decode()
    assert after == """\
from netra_backend.app.agents.supervisor.agent_instance_factory import create_agent_instance_factory


async def handle(user_context, run_id, message):
    factory = create_agent_instance_factory(user_context)
    agent = await create_agent_instance_factory(user_context).create_agent_instance("triage", user_context)
    await user_context.websocket_emitter.notify_agent_started("triage", {})
    db = user_context.db_session
    return factory, agent, db
"""
    assert run_text(after).rewritten is None


def test_choosing_one_rule_of_a_startup_block_still_rewrites_it_whole():
    source = f"""\
from {REGISTRY} import AgentRegistry
from app.agents import TriageSubAgent


async def startup(llm, tools):
    registry = AgentRegistry(llm, tools)
    registry.register("triage", TriageSubAgent(llm, tools))
"""
    after = run_text(source, rules=("MIG004",)).rewritten.decode()
    assert "class_registry = get_agent_class_registry()" in after
    assert 'class_registry.register("triage", TriageSubAgent, "TriageSubAgent agent")' in after
    assert "AgentRegistry(" not in after
    compile(after, "x", "exec")


def test_a_getter_result_still_used_elsewhere_is_kept():
    source = f"""\
from {REGISTRY} import get_singleton_registry


async def handle(user_context):
    registry = get_singleton_registry()
    agent = registry.get("triage")
    return agent, registry
"""
    result = run_text(source)
    getter = next(f for f in result.findings if f.rule == "MIG005" and f.column == 16)
    assert not getter.fixable and "still used" in getter.reason
    after = result.rewritten.decode()
    assert "registry = get_singleton_registry()" in after
    assert "create_agent_instance_factory(user_context).create_agent_instance(" in after


def test_configured_getter_names_are_matched():
    from tests.helpers import make_config

    config = make_config(
        {
            "legacy": {"current_session": "app.db", "shared_registry": "app.registry"},
            "getters": {"db_session": ["current_session"], "registry": ["shared_registry"]},
        }
    )
    source = """\
from app.db import current_session
from app.registry import shared_registry


async def handle(user_context):
    db = current_session()
    return db, shared_registry().get("triage")
"""
    after = run_text(source, config=config).rewritten.decode()
    assert "db = user_context.db_session" in after
    assert 'create_agent_instance("triage", user_context)' in after
    assert "current_session" not in after and "shared_registry" not in after


def test_a_getter_missing_from_the_legacy_table_is_a_config_error():
    import pytest

    from migrator.exit_codes import UsageError
    from tests.helpers import make_config

    with pytest.raises(UsageError, match="getters.db_session"):
        make_config({"getters": {"db_session": ["nowhere_defined"]}})


def test_first_pass_sees_files_outside_the_phase_and_paths_asked_for(cli, tmp_path):
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.migrator]\n",
            "app/triage.py": f'''
                from app.base import BaseAgent
                from {REGISTRY} import AgentRegistry


                class TriageSubAgent(BaseAgent):
                    """Handles request triage."""


                async def startup(llm, tools):
                    registry = AgentRegistry(llm, tools)
                    registry.register("triage", TriageSubAgent(llm, tools))
            ''',
            "tests/test_triage.py": """
                from app.triage import TriageSubAgent


                async def test_direct(user_context):
                    agent = TriageSubAgent()
                    assert agent
            """,
        },
    )
    for args in (["--phase", "2B"], ["tests"]):
        doc = cli("scan", *args, "--format", "json", "--no-cache", cwd=tmp_path).json()
        assert [(f["rule"], f["path"], f["fixable"]) for f in doc["findings"]] == [("MIG008", "tests/test_triage.py", True)]
    assert cli("apply", "tests", "--phase", "2B", cwd=tmp_path).code == ExitCode.CLEAN
    assert 'create_agent_instance("triage", user_context)' in (tmp_path / "tests/test_triage.py").read_text()
