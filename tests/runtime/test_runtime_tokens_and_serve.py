"""Connection tokens, and the serve command started as a real process."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import migrator.runtime
from migrator.runtime import ExpiredTokenError, TokenError, TokenSigner
from migrator.runtime.__main__ import build_parser

REPO_ROOT = Path(migrator.runtime.__file__).parent.parent.parent
SECRET = b"0123456789abcdef-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_token_round_trip() -> None:
    signer = TokenSigner(SECRET)
    assert signer.verify(signer.issue("alice")) == "alice"


def test_token_expires_at_its_deadline() -> None:
    clock = Clock()
    signer = TokenSigner(SECRET, ttl_seconds=60, clock=clock)
    token = signer.issue("alice")
    clock.now += 59.9
    assert signer.verify(token) == "alice"
    clock.now += 0.1
    with pytest.raises(ExpiredTokenError):
        signer.verify(token)


@pytest.mark.parametrize("token", [None, "", "abc", "abc.", ".abc", "a.b.c"])
def test_malformed_tokens_are_refused(token: str | None) -> None:
    with pytest.raises(TokenError):
        TokenSigner(SECRET).verify(token)


def test_token_of_another_secret_is_refused() -> None:
    token = TokenSigner(b"another-secret-of-16-bytes").issue("alice")
    with pytest.raises(TokenError, match="signature"):
        TokenSigner(SECRET).verify(token)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        TokenSigner(b"short")


def test_serve_arguments_have_safe_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.no_database) == ("127.0.0.1", 8000, False)


def test_serve_without_a_secret_warns_and_serves(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in {"MIGRATOR_RUNTIME_SECRET", "MIGRATOR_RUNTIME_REDIS_URL"}}
    env["PYTHONPATH"] = str(REPO_ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "migrator.runtime", "serve", "--port", "0",
         "--log-level", "warning"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr],
                              daemon=True)
    try:
        reader.start()
        assert "random secret" in lines.get(timeout=30)
        address = re.search(r"serving on (http://\S+)", lines.get(timeout=30))
        assert address is not None
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{address.group(1)}/healthz", timeout=5) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(20)
        reader.join(20)
        process.stderr.close()


def test_serve_refuses_a_bad_limit_with_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MIGRATOR_RUNTIME_SEND_TIMEOUT": "soon"}
    result = subprocess.run(
        [sys.executable, "-m", "migrator.runtime", "serve", "--port", "0", "--no-database"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "MIGRATOR_RUNTIME_SEND_TIMEOUT='soon' is not a number" in result.stderr


def test_serve_demo_issues_tokens_and_logs_json_without_them(tmp_path: Path) -> None:
    import json

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_RUNTIME_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "migrator.runtime", "serve", "--port", "0", "--demo",
         "--no-database", "--log-format", "json", "--secret", "s" * 32],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        address = None
        while address is None:
            line = process.stderr.readline()
            assert line, "serve exited before it reported its address"
            found = re.search(r"serving on (http://\S+)", line)
            address = found.group(1) if found else None
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(
                    f"{address}/auth/token", data=b'{"user_id": "alice"}', method="POST",
                    headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as reply:
                    token = json.loads(reply.read())["token"]
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.05)
        ws_url = address.replace("http", "ws", 1)
        with connect(f"{ws_url}/ws?token={token}", open_timeout=10) as socket:
            with pytest.raises(ConnectionClosed):
                socket.recv(timeout=10)
            assert socket.close_code == 1008
        with connect(f"{ws_url}/ws", subprotocols=["migrator.events.v1", f"bearer.{token}"],
                     open_timeout=10) as socket:
            assert socket.subprotocol == "migrator.events.v1"
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    records = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    assert records, errors
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any("[redacted]" in record["message"] for record in records)
    assert token not in errors
