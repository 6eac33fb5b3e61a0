"""The HTTP side under uvicorn: latency settings, bad input, client aborts, health, metrics."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from runtime_support import SECRET, WAIT, connect_events, wait_until

from migrator.runtime import (
    AgentClassRegistry,
    BaseAgent,
    RegistryFrozenError,
    Runtime,
    TokenSigner,
    UserExecutionContext,
    configured_runtime,
    create_agent_instance_factory,
)
from migrator.runtime.asgi import create_app
from migrator.runtime.db import create_session_factory, dispose_session_factory, sqlite_url
from migrator.runtime.demo import EchoAgent
from migrator.runtime.prometheus import metric_names
from migrator.runtime.server import BackgroundServer

SIGNER = TokenSigner(SECRET)
HEADERS = {"Authorization": f"Bearer {SIGNER.issue('alice')}"}


class NestedAgent(BaseAgent):
    """Asks for a factory the way migrated code does: from the context alone."""

    async def execute(self, request: Any, run_id: str) -> dict[str, Any]:
        factory = create_agent_instance_factory(
            UserExecutionContext.from_request_supervisor(self.user_id, self.thread_id))
        return {"same_runtime": factory.runtime is configured_runtime() is not None}


def app_registry() -> AgentClassRegistry:
    registry = AgentClassRegistry()
    registry.register("echo", EchoAgent, "Echoes")
    registry.register("nested", NestedAgent, "Builds a factory inside a run")
    return registry


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[BackgroundServer, Runtime,
                                                        httpx.AsyncClient]]:
    sessions = create_session_factory(sqlite_url(tmp_path / "app.sqlite3"))
    runtime = Runtime(class_registry=app_registry(), session_factory=sessions)
    async with BackgroundServer(create_app(runtime, SIGNER)) as server, \
            httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
        yield server, runtime, http
    await dispose_session_factory(sessions)


async def test_accepted_connections_have_tcp_nodelay(served: Any) -> None:
    server, _, http = served
    assert (await http.get("/healthz")).status_code == 200
    connections = server.server.server_state.connections
    assert connections
    for connection in connections:
        sock = connection.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"thread_id": 7}', "'thread_id' must be a string"),
    (b'{"agent": ["echo"], "thread_id": "t"}', "'agent' must be a string"),
    (b'{"request": "x"}', "thread_id"),
])
async def test_malformed_run_requests_get_400(served: Any, body: bytes, message: str) -> None:
    _, runtime, http = served
    response = await http.post("/runs", headers=HEADERS, content=body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert len(runtime.tracker) == 0


async def test_a_client_that_goes_away_cancels_its_run(served: Any) -> None:
    _, runtime, http = served
    request = asyncio.create_task(http.post("/runs", headers=HEADERS, json={
        "thread_id": "t", "request": {"steps": 10_000, "pause_ms": 10}}))
    await wait_until(lambda: len(runtime.tracker) == 1)
    request.cancel()
    counters = runtime.tracker.counters
    await wait_until(lambda: counters.runs_cancelled_by_client == 1)
    await wait_until(lambda: len(runtime.tracker) == 0)
    assert counters.contexts_cancelled == 1
    assert counters.sessions_rolled_back == 1
    assert counters.sessions_opened == counters.sessions_closed
    assert counters.events_emitted < 100


async def test_code_inside_a_run_finds_the_apps_runtime(served: Any) -> None:
    _, _, http = served
    response = await http.post("/runs", headers=HEADERS,
                               json={"agent": "nested", "thread_id": "t"})
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"same_runtime": True}
    assert configured_runtime() is None


async def test_registering_after_the_app_started_is_an_error(served: Any) -> None:
    _, runtime, _ = served
    with pytest.raises(RegistryFrozenError):
        runtime.registry.register("late", EchoAgent, "Too late")


async def test_health_and_readiness_report_the_database(served: Any) -> None:
    _, _, http = served
    health, ready = await http.get("/healthz"), await http.get("/readyz")
    assert (health.status_code, ready.status_code) == (200, 200)
    body = ready.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["events"] == {"ok": True}


async def test_readiness_fails_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    missing = create_session_factory(sqlite_url(tmp_path / "no" / "such" / "dir.sqlite3"))
    runtime = Runtime(class_registry=app_registry(), session_factory=missing)
    async with BackgroundServer(create_app(runtime, SIGNER)) as server, \
            httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
        health, ready = await http.get("/healthz"), await http.get("/readyz")
    await dispose_session_factory(missing)
    assert (health.status_code, ready.status_code) == (200, 503)
    assert health.json()["status"] == "degraded"
    assert "unable to open database file" in ready.json()["database"]["error"]


def scrape(text: str) -> dict[str, float]:
    """Parse the text exposition into {series with labels: value}."""
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


async def test_metrics_endpoint_counts_what_happened(served: Any) -> None:
    _, _, http = served
    run = await http.post("/runs", headers=HEADERS,
                          json={"thread_id": "t", "request": {"steps": 2}})
    refused = await http.post("/runs", headers={"Authorization": "Bearer forged"},
                              json={"thread_id": "t"})
    assert (run.status_code, refused.status_code) == (200, 401)
    response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    values = scrape(response.text)
    series = {name.partition("{")[0] for name in values}
    assert series == metric_names()
    prefix = "migrator_runtime_"
    assert values[prefix + "contexts_created_total"] == 1
    assert values[prefix + 'contexts_finished_total{outcome="succeeded"}'] == 1
    assert values[prefix + "events_emitted_total"] == run.json()["events_emitted"] == 6
    assert values[prefix + "auth_refused_total"] == 1
    assert values[prefix + "db_sessions_open"] == 0
    assert values[prefix + 'db_sessions_finished_total{result="committed"}'] == 1
    assert values[prefix + 'context_creation_seconds_bucket{le="+Inf"}'] == 1
    assert values[prefix + "context_cleanup_seconds_count"] == 1
    assert values[prefix + "redis_up"] == 1


async def test_demo_run_can_write_through_its_request_session(served: Any) -> None:
    _, runtime, http = served
    for n in range(3):
        response = await http.post("/runs", headers=HEADERS, json={
            "thread_id": "t", "request": {"message": f"m{n}", "record": True}})
        assert response.status_code == 200, response.text
    async with runtime.session_factory() as session:
        connection = await session.connection()
        rows = (await connection.exec_driver_sql(
            "SELECT user_id, message FROM demo_runs ORDER BY message")).all()
    assert [tuple(r) for r in rows] == [("alice", "m0"), ("alice", "m1"), ("alice", "m2")]
    bad = await http.post("/runs", headers=HEADERS,
                          json={"thread_id": "t", "request": {"steps": "many"}})
    assert bad.status_code == 400


async def test_a_failing_demo_write_fails_its_run_and_leaves_no_row(served: Any) -> None:
    _, runtime, http = served
    body = {"thread_id": "t", "run_id": "run-twice", "request": {"message": "m",
                                                                "record": True}}
    first = await http.post("/runs", headers=HEADERS, json=body)
    assert first.status_code == 200, first.text
    # The same run id again: the primary key refuses the row, and that error is not
    # mistaken for the table being missing.
    second = await http.post("/runs", headers=HEADERS,
                             json={**body, "request": {"message": "again", "record": True}})
    assert second.status_code == 500
    assert "UNIQUE constraint failed" in second.json()["error"]
    async with runtime.session_factory() as session:
        connection = await session.connection()
        rows = (await connection.exec_driver_sql("SELECT message FROM demo_runs")).all()
    assert [tuple(r) for r in rows] == [("m",)]
    assert runtime.tracker.counters.sessions_rolled_back == 1


async def test_event_stream_is_not_compressed_by_default(served: Any) -> None:
    server, _, _ = served
    socket = await connect_events(server.ws_url, SIGNER.issue("alice"))
    assert socket.protocol.extensions == []
    await socket.close()
