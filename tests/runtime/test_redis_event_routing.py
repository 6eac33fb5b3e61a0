"""Event routing across server processes through a real redis-server."""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis
from runtime_support import (
    JWT_SECRET,
    SECRET,
    WAIT,
    Recorder,
    bounded,
    connect_events,
    jwt_for,
    receive_events,
    receives_nothing,
    wait_until,
)

import migrator.runtime
from migrator.runtime import EventPublishError, Runtime, TokenSigner, UserWebSocketEmitter
from migrator.runtime.asgi import create_app
from migrator.runtime.demo import demo_registry, expected_event_count
from migrator.runtime.redis_router import RedisEventRouter, RouterNotStartedError
from migrator.runtime.server import BackgroundServer

REPO_ROOT = Path(migrator.runtime.__file__).parent.parent.parent


@pytest.fixture
def prefix() -> str:
    """A channel prefix of this test alone, so tests sharing the server never meet."""
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
async def two_routers(redis_url: str, prefix: str) -> AsyncIterator[list[RedisEventRouter]]:
    routers = [RedisEventRouter(redis_url, channel_prefix=prefix) for _ in range(2)]
    for router in routers:
        await bounded(router.start())
    yield routers
    for router in routers:
        await bounded(router.aclose())


async def test_publish_before_start_says_what_to_do(redis_url: str) -> None:
    router = RedisEventRouter(redis_url)
    with pytest.raises(EventPublishError, match="start") as caught:
        await UserWebSocketEmitter("alice", "t", "r", router).notify_agent_started("x")
    assert isinstance(caught.value.__cause__, RouterNotStartedError)


async def test_events_cross_routers_to_their_user_only(
    two_routers: list[RedisEventRouter],
) -> None:
    first, second = two_routers
    alice_there, bob_there, alice_here = Recorder(), Recorder(), Recorder()
    second.register("alice", alice_there)
    second.register("bob", bob_there)
    first.register("alice", alice_here)
    emitter = UserWebSocketEmitter("alice", "t1", "r1", first)
    for step in range(20):
        await emitter.notify_agent_thinking("echo", "...", step)
    await wait_until(lambda: len(alice_there.events) == 20 and len(alice_here.events) == 20)
    assert [e.sequence for e in alice_there.events] == list(range(1, 21))
    assert bob_there.events == []


async def test_an_event_whose_body_names_another_user_is_rejected(
    two_routers: list[RedisEventRouter], redis_url: str,
) -> None:
    _, second = two_routers
    alice, bob = Recorder(), Recorder()
    second.register("alice", alice)
    second.register("bob", bob)
    body = '{"user_id":"bob","thread_id":"t","run_id":"r","type":"x","data":{},' \
           '"sequence":1,"timestamp":0}'
    client = redis.Redis.from_url(redis_url)
    try:
        await client.publish(second.channel("alice"), body)
        await client.publish(second.channel("alice"), "not json")
        await client.publish(second.channel("alice"), body.replace('"bob"', '"alice"')
                             .replace('"sequence":1', '"sequence":"1"'))
    finally:
        await client.aclose()
    await wait_until(lambda: second.rejected == 3)
    assert second.reconnects == 0
    assert alice.events == [] and bob.events == []


async def test_two_servers_deliver_each_users_events_across_processes(
    redis_url: str, prefix: str,
) -> None:
    signer = TokenSigner(SECRET)
    runtimes = [Runtime(router=RedisEventRouter(redis_url, channel_prefix=prefix),
                        class_registry=demo_registry()) for _ in range(2)]
    async with BackgroundServer(create_app(runtimes[0], signer)) as one, \
            BackgroundServer(create_app(runtimes[1], signer)) as two:
        servers = [one, two]
        users = [f"user-{i:02d}" for i in range(20)]
        sockets = [await connect_events(servers[i % 2].ws_url, signer.issue(u))
                   for i, u in enumerate(users)]

        async def run_elsewhere(i: int, user: str) -> dict:
            async with httpx.AsyncClient(base_url=servers[(i + 1) % 2].http_url,
                                         timeout=WAIT) as http:
                response = await http.post(
                    "/runs", headers={"Authorization": f"Bearer {signer.issue(user)}"},
                    json={"agent": "echo", "thread_id": f"t-{user}",
                          "request": {"message": user, "steps": 1 + i % 4, "pause_ms": 1}})
            assert response.status_code == 200, response.text
            return response.json()

        runs = await bounded(asyncio.gather(*(run_elsewhere(i, u)
                                              for i, u in enumerate(users))), 60)
        for i, (user, socket, run) in enumerate(zip(users, sockets, runs)):
            assert run["events_emitted"] == expected_event_count(1 + i % 4)
            messages = await receive_events(socket, run["events_emitted"])
            assert {(m["user_id"], m["run_id"]) for m in messages} == {(user, run["run_id"])}
            assert [m["sequence"] for m in messages] == list(
                range(1, run["events_emitted"] + 1))
        quiet = await asyncio.gather(*(receives_nothing(s, 0.3) for s in sockets))
        assert all(quiet)
        for socket in sockets:
            await socket.close()
    total = sum(run["events_emitted"] for run in runs)
    for side, runtime in enumerate(runtimes):
        local = sum(run["events_emitted"] for i, run in enumerate(runs) if i % 2 == side)
        assert runtime.router.received == total
        assert runtime.router.local.delivered == local
        assert runtime.router.local.undeliverable == total - local


async def _start_serve_process(redis_url: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "migrator.runtime", "serve", "--port", "0",
        "--redis-url", redis_url, "--secret", JWT_SECRET, "--no-database",
        "--log-level", "warning",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    while True:
        line = (await bounded(process.stderr.readline(), 30)).decode()
        assert line, "serve exited before it reported its address"
        found = re.search(r"serving on (http://\S+)", line)
        if found:
            return process, found.group(1)


async def test_two_serve_processes_route_events_through_redis(redis_url: str) -> None:
    started = [await _start_serve_process(redis_url) for _ in range(2)]
    processes = [p for p, _ in started]
    drains = [asyncio.create_task(p.stderr.read()) for p in processes]  # type: ignore[union-attr]
    urls = [url for _, url in started]
    try:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            async def healthy() -> None:
                for url in urls:
                    while True:
                        try:
                            if (await http.get(f"{url}/healthz")).status_code == 200:
                                break
                        except httpx.TransportError:
                            pass
                        await asyncio.sleep(0.05)

            await bounded(healthy(), 30)
            users = [f"proc-user-{i}" for i in range(6)]
            sockets = [await connect_events(urls[i % 2].replace("http", "ws", 1), jwt_for(u))
                       for i, u in enumerate(users)]
            runs = []
            for i, user in enumerate(users):
                response = await http.post(
                    f"{urls[(i + 1) % 2]}/runs",
                    headers={"Authorization": f"Bearer {jwt_for(user)}"},
                    json={"agent": "echo", "thread_id": f"t-{i}", "request": user})
                assert response.status_code == 200, response.text
                runs.append(response.json())
            for user, socket, run in zip(users, sockets, runs):
                messages = await receive_events(socket, run["events_emitted"])
                assert {(m["user_id"], m["run_id"]) for m in messages} == {
                    (user, run["run_id"])}
                assert [m["sequence"] for m in messages] == list(
                    range(1, run["events_emitted"] + 1))
            assert all(await asyncio.gather(*(receives_nothing(s, 0.3) for s in sockets)))
            for socket in sockets:
                await socket.close()
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process, drain in zip(processes, drains):
            await bounded(process.wait(), 20)
            await bounded(drain)
