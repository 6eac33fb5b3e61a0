"""Limits from arguments and MIGRATOR_RUNTIME_* variables, and lifecycle fixes they touch."""

from __future__ import annotations

import pytest

from migrator.runtime import (
    AgentInstanceFactory,
    Runtime,
    RuntimeSettings,
    SettingsError,
)


def test_defaults_are_positive_and_documented_variables_exist() -> None:
    settings = RuntimeSettings()
    assert settings.outbox_max_bytes == 1_048_576
    assert RuntimeSettings.variable("send_timeout") == "MIGRATOR_RUNTIME_SEND_TIMEOUT"


def test_environment_sets_every_limit() -> None:
    environ = {
        "MIGRATOR_RUNTIME_OUTBOX_MAX_BYTES": "65_536",
        "MIGRATOR_RUNTIME_SEND_TIMEOUT": "2.5",
        "MIGRATOR_RUNTIME_TOKEN_TTL": "600",
        "MIGRATOR_RUNTIME_REDIS_MAX_CONNECTIONS": "8",
        "MIGRATOR_RUNTIME_REDIS_POOL_TIMEOUT": "1",
        "MIGRATOR_RUNTIME_REDIS_PUBLISH_TIMEOUT": "3",
        "MIGRATOR_RUNTIME_RUN_STATE_TTL": "120",
        "MIGRATOR_RUNTIME_HEALTH_TIMEOUT": "0.5",
        "MIGRATOR_RUNTIME_SHUTDOWN_GRACE": "30",
        "MIGRATOR_RUNTIME_KEEP_ALIVE_TIMEOUT": "120",
        "MIGRATOR_RUNTIME_DB_POOL_SIZE": "2",
        "MIGRATOR_RUNTIME_DB_MAX_OVERFLOW": "0",
    }
    settings = RuntimeSettings.from_env(environ)
    assert (settings.outbox_max_bytes, settings.send_timeout, settings.token_ttl) == (
        65_536, 2.5, 600.0)
    assert (settings.redis_max_connections, settings.redis_pool_timeout,
            settings.redis_publish_timeout, settings.run_state_ttl,
            settings.health_timeout, settings.shutdown_grace, settings.keep_alive_timeout) == (
        8, 1.0, 3.0, 120.0, 0.5, 30.0, 120.0)
    assert (settings.db_pool_size, settings.db_max_overflow) == (2, 0)


def test_arguments_win_over_the_environment() -> None:
    settings = RuntimeSettings.from_env({"MIGRATOR_RUNTIME_TOKEN_TTL": "600"}, token_ttl=60.0)
    assert settings.token_ttl == 60.0


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("MIGRATOR_RUNTIME_SEND_TIMEOUT", "soon", "MIGRATOR_RUNTIME_SEND_TIMEOUT='soon' is not a number"),
    ("MIGRATOR_RUNTIME_OUTBOX_MAX_BYTES", "1.5", "is not a whole number"),
    ("MIGRATOR_RUNTIME_SEND_TIMEOUT", "0", "send_timeout must be a positive number"),
    ("MIGRATOR_RUNTIME_SHUTDOWN_GRACE", "-1", "shutdown_grace must be a positive number"),
    ("MIGRATOR_RUNTIME_HEALTH_TIMEOUT", "nan", "health_timeout must be a positive number"),
    ("MIGRATOR_RUNTIME_DB_POOL_SIZE", "0", "db_pool_size must be a positive number"),
])
def test_bad_values_name_the_variable_or_field(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        RuntimeSettings.from_env({variable: value})


async def test_forced_cleanup_without_a_database_keeps_session_counts_whole() -> None:
    factory = AgentInstanceFactory(Runtime())
    async with factory.user_execution_scope("alice", "t1") as context:
        assert await factory.cleanup_inactive_contexts(0) == 1
        assert context.is_cleaned
    metrics = factory.get_factory_metrics()
    assert metrics["open_sessions"] == 0
    assert (metrics["sessions_opened"], metrics["sessions_closed"]) == (0, 0)
    assert metrics["cleanup_errors"] == 0
    assert metrics["stale_contexts_cleaned"] == 1


async def test_a_runs_thread_mapping_is_dropped_when_its_scope_ends() -> None:
    runtime = Runtime()
    factory = AgentInstanceFactory(runtime)
    async with factory.user_execution_scope("alice", "t1") as context:
        await runtime.bridge.register_run_thread_mapping(context.run_id, "t1",
                                                         {"user_id": "alice"})
        assert (await runtime.bridge.get_run_mapping_status(context.run_id))["registered"]
    assert runtime.bridge.mapped_run_count() == 0


async def test_scope_times_are_recorded_in_the_histograms() -> None:
    factory = AgentInstanceFactory(Runtime())
    for _ in range(3):
        async with factory.user_execution_scope("alice", "t1"):
            pass
    counters = factory.runtime.tracker.counters
    assert counters.context_creation_seconds.count == 3
    assert counters.context_cleanup_seconds.count == 3
    assert counters.context_creation_seconds.cumulative()[-1] == (float("inf"), 3)
    assert factory.get_factory_metrics()["context_creation_time_ms"] > 0
