"""A real uvicorn server and real websocket clients: each user receives only its events."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from runtime_support import (
    SECRET,
    WAIT,
    bounded,
    connect_events,
    receive_events,
    receives_nothing,
    wait_until,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from migrator.runtime import InProcessEventRouter, Runtime, TokenSigner
from migrator.runtime.asgi import POLICY_VIOLATION, create_app
from migrator.runtime.auth import EVENTS_SUBPROTOCOL, client_subprotocols
from migrator.runtime.demo import demo_registry, expected_event_count
from migrator.runtime.server import BackgroundServer

USERS = 50


@dataclass(frozen=True)
class Served:
    server: BackgroundServer
    signer: TokenSigner
    runtime: Runtime
    http: httpx.AsyncClient

    async def connect(self, user_id: str) -> ClientConnection:
        return await connect_events(self.server.ws_url, self.signer.issue(user_id),
                                    max_queue=None)

    async def run(self, user_id: str, thread_id: str, steps: int, pause_ms: int = 1) -> dict:
        token = self.signer.issue(user_id)
        response = await self.http.post(
            "/runs", headers={"Authorization": f"Bearer {token}"},
            json={"agent": "echo", "thread_id": thread_id,
                  "request": {"message": f"hello from {user_id}", "steps": steps,
                              "pause_ms": pause_ms}})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    runtime = Runtime(router=InProcessEventRouter(), class_registry=demo_registry())
    signer = TokenSigner(SECRET)
    async with BackgroundServer(create_app(runtime, signer)) as server:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=server.http_url, timeout=WAIT,
                                     limits=limits) as http:
            yield Served(server, signer, runtime, http)


def check_runs(messages: list[dict], user_id: str, runs: list[dict]) -> None:
    """Assert the messages are exactly the events of ``runs``, each run in sequence order."""
    assert {m["user_id"] for m in messages} == {user_id}
    by_run: dict[str, list[dict]] = defaultdict(list)
    for message in messages:
        by_run[message["run_id"]].append(message)
    assert set(by_run) == {r["run_id"] for r in runs}
    for run in runs:
        events = by_run[run["run_id"]]
        assert [e["sequence"] for e in events] == list(range(1, run["events_emitted"] + 1))
        assert {e["thread_id"] for e in events} == {run["thread_id"]}
        assert events[0]["type"] == "agent_started"
        assert events[-1]["type"] == "agent_completed"
        assert events[-1]["data"]["result"]["user_id"] == user_id


async def test_fifty_users_each_receive_exactly_their_own_events(served: Served) -> None:
    users = [f"user-{i:02d}" for i in range(USERS)]
    sockets = await bounded(asyncio.gather(*(served.connect(u) for u in users)), 30)
    assert served.runtime.router.connection_count() == USERS

    async def runs_of(i: int, user: str) -> list[dict]:
        steps = [1 + (i + n) % 5 for n in range(2 if i % 2 == 0 else 1)]
        runs = await asyncio.gather(*(served.run(user, f"thread-{user}-{n}", steps=s)
                                      for n, s in enumerate(steps)))
        assert [r["events_emitted"] for r in runs] == [expected_event_count(s) for s in steps]
        return list(runs)

    all_runs = await bounded(asyncio.gather(*(runs_of(i, u) for i, u in enumerate(users))), 60)

    async def check(user: str, socket: ClientConnection, runs: list[dict]) -> None:
        total = sum(run["events_emitted"] for run in runs)
        check_runs(await receive_events(socket, total), user, runs)
        assert await receives_nothing(socket)

    await bounded(asyncio.gather(*(check(u, s, r)
                                   for u, s, r in zip(users, sockets, all_runs))), 60)
    await asyncio.gather(*(s.close() for s in sockets))


async def test_a_connected_user_without_runs_receives_nothing(served: Served) -> None:
    idle = await served.connect("idle-user")
    busy = await served.connect("busy-user")
    run = await served.run("busy-user", "t1", steps=3)
    check_runs(await receive_events(busy, run["events_emitted"]), "busy-user", [run])
    assert await receives_nothing(idle)
    await idle.close()
    await busy.close()


async def test_one_users_disconnect_affects_no_one_else(served: Served) -> None:
    users = [f"user-{i}" for i in range(10)]
    sockets = dict(zip(users, await bounded(asyncio.gather(*(served.connect(u)
                                                             for u in users)))))
    second_socket = await served.connect("user-1")
    leaver = sockets["user-0"]
    runs = {u: asyncio.create_task(served.run(u, f"t-{u}", steps=8, pause_ms=20))
            for u in users}
    first = json.loads(await bounded(leaver.recv()))
    assert first["user_id"] == "user-0"
    await leaver.close()
    await sockets["user-1"].close()

    results = {u: await bounded(task, 30) for u, task in runs.items()}
    assert all(r["events_emitted"] == expected_event_count(8) for r in results.values())
    for user in users[2:]:
        messages = await receive_events(sockets[user], results[user]["events_emitted"])
        check_runs(messages, user, [results[user]])
    check_runs(await receive_events(second_socket, results["user-1"]["events_emitted"]),
               "user-1", [results["user-1"]])
    await wait_until(lambda: served.runtime.router.connection_count() == 9)
    for socket in [second_socket, *(sockets[u] for u in users[2:])]:
        assert await receives_nothing(socket, 0.2)
        await socket.close()


async def assert_refused(served: Served, token: str | None, query: str = "") -> str:
    subprotocols = client_subprotocols(token) if token else [EVENTS_SUBPROTOCOL]
    async with connect(f"{served.server.ws_url}/ws{query}", open_timeout=WAIT,
                       subprotocols=subprotocols) as socket:
        with pytest.raises(ConnectionClosed):
            await bounded(socket.recv())
        assert socket.close_code == POLICY_VIOLATION
        return socket.close_reason


def forge(token: str, user_id: str) -> str:
    """Swap the user in a token's payload and keep the original signature."""
    import base64

    payload, _, signature = token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = user_id
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + signature


async def test_missing_forged_and_expired_tokens_are_refused(served: Served) -> None:
    victim = await served.connect("victim")
    genuine = served.signer.issue("attacker")
    other_secret = TokenSigner(b"another-secret-0123456789").issue("victim")
    expired = served.signer.issue("victim", ttl_seconds=-1)
    assert "missing" in await assert_refused(served, None)
    assert "signature" in await assert_refused(served, forge(genuine, "victim"))
    assert "signature" in await assert_refused(served, other_secret)
    assert "expired" in await assert_refused(served, expired)
    assert "malformed" in await assert_refused(served, "garbage")
    assert "URLs" in await assert_refused(served, None, f"?token={genuine}")
    assert served.runtime.router.connection_count() == 1
    assert served.runtime.tracker.counters.auth_refused == 6

    response = await served.http.post(
        "/runs", headers={"Authorization": f"Bearer {forge(genuine, 'victim')}"},
        json={"agent": "echo", "thread_id": "t", "request": "x"})
    assert response.status_code == 401
    assert await receives_nothing(victim, 0.2)
    await victim.close()


async def test_failing_run_reports_an_error_event_to_its_user_only(served: Served) -> None:
    owner = await served.connect("owner")
    bystander = await served.connect("bystander")
    token = served.signer.issue("owner")
    response = await served.http.post(
        "/runs", headers={"Authorization": f"Bearer {token}"},
        json={"agent": "echo", "thread_id": "t1", "request": {"message": "x", "fail": True}})
    assert response.status_code == 500
    messages = await receive_events(owner, 4)
    assert [m["type"] for m in messages] == [
        "agent_started", "agent_thinking", "tool_executing", "agent_error"]
    assert await receives_nothing(bystander, 0.2)
    assert served.runtime.tracker.counters.contexts_failed == 1
    await owner.close()
    await bystander.close()


async def test_bad_requests_are_rejected_with_clear_statuses(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.signer.issue('alice')}"}
    unknown = await served.http.post("/runs", headers=headers,
                                     json={"agent": "triage", "thread_id": "t"})
    placeholder = await served.http.post("/runs", headers=headers,
                                         json={"agent": "echo", "thread_id": "null"})
    assert (unknown.status_code, placeholder.status_code) == (404, 400)
    assert "registered: echo" in unknown.json()["error"]
    assert "thread_id" in placeholder.json()["error"]
