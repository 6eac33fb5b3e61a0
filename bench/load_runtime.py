"""Load test of the runtime's real path; run by hand: ``python bench/load_runtime.py``.

Starts a redis-server and 2-4 ``serve`` processes on 127.0.0.1 sharing one SQLite file.
Each simulated user holds a websocket on one server and posts its runs to another, so
every event crosses processes through Redis. Each user has an HTTP client of its own. Each
run writes a row through its request's database session. Per user count it prints runs/s, run latency (POST to response) p50 and
p99, and events misrouted (another user's or another run's), lost (emitted but never
received) and runs failed (non-200), as medians of the repeats with min-max, and the CPU
time per run of the server processes (together), of Redis and of this load generator
(read from /proc on Linux), which the machine's other work disturbs less than latency.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from migrator.runtime.auth import client_subprotocols  # noqa: E402
from migrator.runtime.jwt_auth import JWTVerifier  # noqa: E402

SECRET = "load-test-secret-0123456789abcdef-0123"
# Runs per user at each level, so every level stays bounded in count.
RUNS_PER_USER = {1: 300, 10: 60, 100: 10, 1000: 3}
EVENT_WAIT = 10.0
LEVEL_DEADLINE = 120.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    misrouted: int = 0
    lost: int = 0
    failed: int = 0
    gaps: int = 0
    reasons: collections.Counter[str] = field(default_factory=collections.Counter)


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, or NaN where /proc does not tell."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_probe(servers: Sequence[subprocess.Popen], redis: subprocess.Popen
              ) -> Callable[[], tuple[float, float, float]]:
    """Return a function reading the CPU seconds used so far by the servers (together),
    Redis and this process."""
    def read() -> tuple[float, float, float]:
        return (sum(process_cpu_seconds(s.pid) for s in servers),
                process_cpu_seconds(redis.pid), time.process_time())
    return read


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not on PATH")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--loglevel", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


class ServerLog:
    """What a server writes to stderr after start-up (warnings and errors), read by a
    thread so that a full pipe can never stall the server."""

    def __init__(self, stream: object, keep: int = 20) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self.count = 0
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.count += 1
            self.lines.append(line.rstrip())

    def join(self) -> None:
        self._thread.join(5)


def start_servers(count: int, redis_url: str, database: Path
                  ) -> tuple[list, list[str], list[ServerLog]]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    processes, urls, logs = [], [], []
    for _ in range(count):
        process = subprocess.Popen(
            [sys.executable, "-m", "migrator.runtime", "serve", "--port", "0",
             "--redis-url", redis_url, "--secret", SECRET,
             "--database-url", f"sqlite+aiosqlite:///{database}",
             "--log-level", "warning", "--no-access-log"],
            cwd=database.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        assert process.stderr is not None
        while True:
            line = process.stderr.readline()
            if not line:
                raise SystemExit("a server exited before it reported its address")
            found = re.search(r"serving on (http://\S+)", line)
            if found:
                urls.append(found.group(1))
                break
        processes.append(process)
        logs.append(ServerLog(process.stderr))
    return processes, urls, logs


def describe(error: BaseException) -> str:
    """Name an error and the errors that caused it: ``ReadError <- ConnectionResetError: ...``."""
    chain, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(type(current).__name__)
        last = current
        current = current.__cause__ or current.__context__
    return " <- ".join(chain) + (f": {last}" if str(last) else "")


class User:
    """One user: a websocket on one server, runs posted to another."""

    def __init__(self, user_id: str, socket: ClientConnection, http: httpx.AsyncClient,
                 run_url: str, tally: Tally) -> None:
        self.user_id = user_id
        self.socket = socket
        self.http = http
        self.run_url = run_url
        self.tally = tally
        self.token = JWTVerifier(SECRET).issue(user_id, 3600)
        self.received: dict[str, set[int]] = {}
        self.arrived = asyncio.Event()
        self.record = True
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            event = json.loads(message)
            if event["user_id"] != self.user_id:
                self.tally.misrouted += 1
                continue
            if event["type"] == "gap":
                self.tally.gaps += 1
                continue
            self.received.setdefault(event["run_id"], set()).add(event["sequence"])
            self.arrived.set()

    async def run(self, n: int) -> None:
        started = time.perf_counter()
        try:
            response = await self.http.post(
                self.run_url, headers={"Authorization": f"Bearer {self.token}"},
                json={"agent": "echo", "thread_id": f"{self.user_id}-t{n}",
                      "request": {"message": f"{self.user_id}/{n}", "record": self.record}})
        except httpx.HTTPError as error:
            self.tally.failed += 1
            self.tally.reasons[describe(error)] += 1
            return
        self.tally.latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            self.tally.failed += 1
            self.tally.reasons[f"{response.status_code} {response.text[:80]}"] += 1
            return
        body = response.json()
        expected = set(range(1, body["events_emitted"] + 1))
        deadline = time.monotonic() + EVENT_WAIT
        while self.received.get(body["run_id"], set()) != expected \
                and time.monotonic() < deadline:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
        got = self.received.pop(body["run_id"], set())
        self.tally.lost += len(expected - got)
        self.tally.misrouted += len(got - expected)

    async def close(self) -> None:
        await self.socket.close()
        await asyncio.gather(self.reader, return_exceptions=True)
        stray = sum(len(s) for s in self.received.values())
        self.tally.misrouted += stray


async def run_level(users: int, urls: list[str], record: bool,
                    cpu: Callable[[], tuple[float, float, float]]) -> dict[str, float]:
    tally = Tally()
    # One HTTP client (one keep-alive connection) per user, as each user is a browser of
    # its own. A pool shared by hundreds of users costs the load generator a scan of all
    # its connections per request, and a pass of a shared pool can close an idle
    # connection it has just handed to a request that has not started yet, which then
    # fails as ReadError <- ClosedResourceError (httpcore issue 1110). The servers keep
    # idle connections for 75 s, so the client never expires them during a level.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1,
                          keepalive_expiry=None)
    tls = ssl.create_default_context()  # shared: building one per client costs ~20 ms
    clients: list[httpx.AsyncClient] = []
    prefix = f"u{users}-{os.urandom(3).hex()}"
    people: list[User] = []
    try:
        for start in range(0, users, 100):
            batch = range(start, min(users, start + 100))

            async def join(i: int) -> User:
                user_id = f"{prefix}-{i}"
                token = JWTVerifier(SECRET).issue(user_id, 3600)
                ws_url = urls[i % len(urls)].replace("http", "ws", 1) + "/ws"
                socket = await connect(ws_url, subprotocols=client_subprotocols(token),
                                       open_timeout=30, max_queue=None)
                target = (i + 1) % len(urls)
                http = httpx.AsyncClient(timeout=60, limits=limits, verify=tls)
                clients.append(http)
                return User(user_id, socket, http, urls[target] + "/runs", tally)

            people.extend(await asyncio.gather(*(join(i) for i in batch)))
        for user in people:
            user.record = record
        runs = RUNS_PER_USER[users]

        async def work(user: User) -> None:
            for n in range(runs):
                await user.run(n)

        cpu_before = cpu()
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(work(u) for u in people)), LEVEL_DEADLINE)
        elapsed = time.perf_counter() - started
        cpu_used = [after - before for before, after in zip(cpu_before, cpu())]
    finally:
        await asyncio.gather(*(u.close() for u in people), return_exceptions=True)
        for client in clients:
            await client.aclose()
    ordered = sorted(tally.latencies)
    per_run = 1000 / max(1, users * runs)
    return {
        "runs/s": len(ordered) / elapsed,
        "p50 ms": ordered[len(ordered) // 2] * 1000,
        "p99 ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "misrouted": tally.misrouted, "lost": tally.lost, "failed": tally.failed,
        "gaps": tally.gaps, "runs": users * runs,
        "server cpu ms/run": cpu_used[0] * per_run, "redis cpu ms/run": cpu_used[1] * per_run,
        "client cpu ms/run": cpu_used[2] * per_run,
        "failures": dict(tally.reasons),
    }


def summarise(samples: list[float], integer: bool, digits: int = 1) -> str:
    if any(math.isnan(s) for s in samples):
        return "-"
    if integer:
        return f"{int(statistics.median(samples))} ({int(min(samples))}-{int(max(samples))})"
    return (f"{statistics.median(samples):.{digits}f} "
            f"({min(samples):.{digits}f}-{max(samples):.{digits}f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3, choices=(2, 3, 4))
    parser.add_argument("--users", default="1,10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-record", action="store_true",
                        help="runs write nothing to SQLite (isolates the database's cost)")
    args = parser.parse_args()
    levels = [int(u) for u in args.users.split(",")]
    unknown = [u for u in levels if u not in RUNS_PER_USER]
    if unknown:
        parser.error(f"user counts must be among {sorted(RUNS_PER_USER)}")
    redis_process, redis_url = start_redis()
    workdir = Path(tempfile.mkdtemp(prefix="migrator-load-"))
    servers, urls, logs = start_servers(args.servers, redis_url, workdir / "load.sqlite3")
    cpu = cpu_probe(servers, redis_process)
    results: dict[int, list[dict[str, float]]] = {u: [] for u in levels}
    try:
        for attempt in range(args.repeat):
            for users in levels:
                result = asyncio.run(run_level(users, urls, not args.no_record, cpu))
                results[users].append(result)
                print(f"run {attempt + 1} users {users}: " + ", ".join(
                    f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in result.items()), file=sys.stderr, flush=True)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
        redis_process.terminate()
        redis_process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
        for number, log in enumerate(logs, 1):
            log.join()
            if log.count:
                print(f"server {number} logged {log.count} warning/error lines; the last:",
                      *log.lines, sep="\n  ", file=sys.stderr)
    failures = collections.Counter()
    for rows in results.values():
        for row in rows:
            failures.update(row["failures"])
    for reason, count in failures.most_common():
        print(f"failed runs: {count} x {reason}", file=sys.stderr)
    print(f"\n{args.servers} server processes + Redis + one SQLite file; "
          f"median (min-max) of {args.repeat} runs\n")
    columns = ("runs/s", "p50 ms", "p99 ms", "misrouted", "lost", "failed",
               "server cpu ms/run", "redis cpu ms/run", "client cpu ms/run")
    print("| users | runs | " + " | ".join(columns) + " |")
    print("| ---: " * (len(columns) + 2) + "|")
    for users in levels:
        rows = results[users]
        cells = [summarise([r[k] for r in rows], integer=k in {"misrouted", "lost", "failed"},
                           digits=2 if "cpu" in k else 1)
                 for k in columns]
        print(f"| {users:,} | {int(rows[0]['runs']):,} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
