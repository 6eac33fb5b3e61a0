"""The host owns authentication: verifiers, the bearer subprotocol, expiry, no tokens in logs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from runtime_support import SECRET, WAIT, bounded, connect_events, receive_events
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from migrator.runtime import (
    InProcessEventRouter,
    JWTVerifier,
    Principal,
    Runtime,
    TokenError,
    TokenSigner,
)
from migrator.runtime.asgi import POLICY_VIOLATION, create_app
from migrator.runtime.auth import EVENTS_SUBPROTOCOL, authenticate
from migrator.runtime.demo import demo_registry
from migrator.runtime.errors import ExpiredTokenError
from migrator.runtime.logs import RedactCredentials, redact
from migrator.runtime.server import BackgroundServer

KEY = "a-jwt-key-of-at-least-thirty-two-bytes"


def test_jwt_round_trip_gives_user_and_expiry() -> None:
    verifier = JWTVerifier(KEY)
    principal = verifier(verifier.issue("alice", 60))
    assert principal.user_id == "alice"
    assert principal.expires_at is not None


@pytest.mark.parametrize(("token", "message"), [
    (jwt.encode({"sub": "alice", "exp": 1}, KEY, algorithm="HS256"), "expired"),
    (jwt.encode({"sub": "alice", "exp": 9e9}, "another-key-of-thirty-two-bytes!!",
                algorithm="HS256"), "(?i)signature"),
    (jwt.encode({"sub": "alice", "exp": 9e9}, None, algorithm="none"), "alg"),
    (jwt.encode({"exp": 9e9}, KEY, algorithm="HS256"), "sub"),
    (jwt.encode({"sub": "alice"}, KEY, algorithm="HS256"), "exp"),
    (jwt.encode({"sub": "null", "exp": 9e9}, KEY, algorithm="HS256"), "subject"),
    ("not-a-jwt", "invalid"),
])
def test_jwt_verifier_refuses_bad_tokens(token: str, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        JWTVerifier(KEY)(token)


def test_expired_jwt_is_an_expired_token_error() -> None:
    verifier = JWTVerifier(KEY)
    with pytest.raises(ExpiredTokenError):
        verifier(verifier.issue("alice", -1))


def test_jwt_audience_and_issuer_must_match() -> None:
    strict = JWTVerifier(KEY, audience="migrator", issuer="https://idp.example")
    assert strict(strict.issue("alice", 60)).user_id == "alice"
    with pytest.raises(TokenError, match="(?i)audience"):
        strict(JWTVerifier(KEY).issue("alice", 60, aud="elsewhere", iss="https://idp.example"))


def test_short_hmac_keys_and_the_none_algorithm_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        JWTVerifier("short")
    with pytest.raises(ValueError, match="none"):
        JWTVerifier(KEY, algorithms=("HS256", "none"))


async def test_a_verifier_returning_something_else_refuses() -> None:
    with pytest.raises(TokenError, match="not a Principal"):
        await authenticate(lambda token: "alice", "token")
    with pytest.raises(TokenError, match="missing"):
        await authenticate(lambda token: Principal("alice"), "")


@pytest.fixture
async def host_app() -> AsyncIterator[tuple[BackgroundServer, Runtime, list[str]]]:
    """An app whose host verifies its own session ids, asynchronously."""
    sessions = {"session-of-alice": "alice", "session-of-bob": "bob"}
    seen: list[str] = []

    async def check_session(credential: str) -> Principal:
        seen.append(credential)
        await asyncio.sleep(0)
        if credential not in sessions:
            raise TokenError("unknown session")
        return Principal(sessions[credential])

    runtime = Runtime(router=InProcessEventRouter(), class_registry=demo_registry())
    async with BackgroundServer(create_app(runtime, check_session)) as server:
        yield server, runtime, seen


async def test_the_hosts_verifier_decides_for_http_and_websocket(
    host_app: tuple[BackgroundServer, Runtime, list[str]],
) -> None:
    server, runtime, seen = host_app
    socket = await connect_events(server.ws_url, "session-of-alice")
    assert socket.subprotocol == EVENTS_SUBPROTOCOL
    async with httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
        refused = await http.post("/runs", headers={"Authorization": "Bearer stolen"},
                                  json={"thread_id": "t", "request": "x"})
        run = await http.post("/runs", headers={"Authorization": "Bearer session-of-alice"},
                              json={"thread_id": "t", "request": "x"})
        no_minting = await http.post("/auth/token", json={"user_id": "alice"})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert run.status_code == 200, run.text
    assert no_minting.status_code in (404, 405)
    events = await receive_events(socket, run.json()["events_emitted"])
    assert {e["user_id"] for e in events} == {"alice"}
    assert seen == ["session-of-alice", "stolen", "session-of-alice"]
    assert runtime.tracker.counters.auth_refused == 1
    await socket.close()


async def test_a_socket_is_closed_with_1008_when_its_token_expires() -> None:
    signer = TokenSigner(SECRET)
    runtime = Runtime(class_registry=demo_registry())
    async with BackgroundServer(create_app(runtime, signer)) as server:
        short = await connect_events(server.ws_url, signer.issue("alice", ttl_seconds=0.5))
        long = await connect_events(server.ws_url, signer.issue("alice", ttl_seconds=600))
        with pytest.raises(ConnectionClosed):
            await bounded(short.recv())
        assert short.close_code == POLICY_VIOLATION
        assert short.close_reason == "token expired"
        assert runtime.router.connection_count("alice") == 1
        assert runtime.tracker.counters.websocket_closed_token_expired == 1
        await long.close()


async def test_demo_token_endpoint_only_when_asked_for() -> None:
    verifier = JWTVerifier(KEY)
    runtime = Runtime(class_registry=demo_registry())
    app = create_app(runtime, verifier, token_issuer=lambda user: verifier.issue(user, 60))
    async with BackgroundServer(app) as server, \
            httpx.AsyncClient(base_url=server.http_url, timeout=WAIT) as http:
        issued = await http.post("/auth/token", json={"user_id": "alice"})
        bad = await http.post("/auth/token", content=b"{not json")
        placeholder = await http.post("/auth/token", json={"user_id": "undefined"})
    assert verifier(issued.json()["token"]).user_id == "alice"
    assert (bad.status_code, placeholder.status_code) == (400, 400)


async def test_refused_token_in_the_url_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    signer = TokenSigner(SECRET)
    token = signer.issue("alice")
    runtime = Runtime(class_registry=demo_registry())
    redactor = RedactCredentials()
    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn.access")]
    for logger in loggers:
        logger.addFilter(redactor)
        # uvicorn's own logging config stops propagation; listen on its loggers directly.
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        async with BackgroundServer(create_app(runtime, signer), log_level="info",
                                    log_config=None) as server:
            async with connect(f"{server.ws_url}/ws?token={token}", open_timeout=WAIT) as socket:
                with pytest.raises(ConnectionClosed):
                    await bounded(socket.recv())
            async with httpx.AsyncClient(base_url=server.http_url) as http:
                await http.get(f"/healthz?access_token={token}")
    finally:
        for logger in loggers:
            logger.removeFilter(redactor)
            logger.removeHandler(caplog.handler)
    assert socket.close_code == POLICY_VIOLATION
    logged = "\n".join(record.getMessage() for record in caplog.records
                       if record.name.startswith(("uvicorn", "migrator")))
    assert "token=[redacted]" in logged
    assert token not in logged
    assert token.split(".")[1] not in logged


def test_redact_hides_query_and_subprotocol_tokens() -> None:
    assert redact("GET /ws?token=abc.def&x=1") == "GET /ws?token=[redacted]&x=1"
    assert redact("offered bearer.eyJ.x.y, migrator") == "offered bearer.[redacted], migrator"
