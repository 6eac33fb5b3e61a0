"""The ASGI app: agent runs over HTTP, each user's events over websockets, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from .auth import (
    EVENTS_SUBPROTOCOL,
    Principal,
    Verifier,
    authenticate,
    bearer_from_header,
    bearer_from_subprotocols,
)
from .config import Runtime
from .connection import POLICY_VIOLATION, TRY_AGAIN_LATER, EventStream, Outbox
from .context import UserExecutionContext
from .errors import EventPublishError, InvalidContextError, TokenError, UnknownAgentError
from .holder import create_agent_instance_factory, using_runtime
from .ids import require_id
from .prometheus import metrics_registry, render
from .settings import RuntimeSettings

__all__ = ["POLICY_VIOLATION", "TRY_AGAIN_LATER", "create_app"]

# Status for a request whose client disconnected before the answer (nginx's convention).
CLIENT_CLOSED_REQUEST = 499

logger = logging.getLogger("migrator.runtime.app")

TokenIssuer = Callable[[str], str]


class BadRequest(Exception):
    """The request body is not what the endpoint takes."""


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest(f"the request body must be a JSON object, not {type(body).__name__}")
    return body


def _text_field(body: dict[str, Any], name: str, default: str | None = None) -> str | None:
    value = body.get(name, default)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name!r} must be a string, not {type(value).__name__}")
    return value


async def _client_gone(request: Request) -> None:
    """Return when the client disconnects (the body has been read, so only that can come)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def create_app(
    runtime: Runtime,
    verifier: Verifier,
    *,
    settings: RuntimeSettings | None = None,
    manage_runtime: bool = True,
    token_issuer: TokenIssuer | None = None,
) -> Starlette:
    """Return the app; ``verifier`` decides who a credential belongs to.

    With ``manage_runtime`` its lifespan starts and stops the runtime. ``token_issuer``
    adds the demo's ``POST /auth/token``, which hands a token to anyone who asks: only
    for demos, never in front of real users.
    """
    settings = settings or RuntimeSettings()
    counters = runtime.tracker.counters
    registry = metrics_registry(runtime)

    async def principal_of(credential: str | None, where: str) -> Principal:
        try:
            return await authenticate(verifier, credential)
        except TokenError as error:
            counters.auth_refused += 1
            logger.info("credential refused: %s", error,
                        extra={"event": "auth_refused", "where": where})
            raise

    async def state() -> dict[str, Any]:
        router_health = getattr(runtime.router, "health", None)
        checks: dict[str, Any] = {}
        if router_health is not None:
            checks["events"] = await router_health()
        if runtime.session_factory is not None:
            from .db import database_health
            checks["database"] = await database_health(runtime.session_factory,
                                                       settings.health_timeout)
        ready = all(check["ok"] for check in checks.values())
        return {"status": "ok" if ready else "degraded", **checks,
                "connections": runtime.router.connection_count(),
                "active_contexts": len(runtime.tracker)}

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(await state())

    async def readyz(request: Request) -> JSONResponse:
        body = await state()
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    async def metrics(request: Request) -> Response:
        payload, content_type = render(registry)
        return Response(payload, media_type=content_type)

    async def issue_token(request: Request) -> JSONResponse:
        assert token_issuer is not None
        try:
            user_id = require_id("user_id", _text_field(await _json_object(request), "user_id"))
            return JSONResponse({"token": token_issuer(user_id), "user_id": user_id})
        except (BadRequest, InvalidContextError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)

    async def execute(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        agent_name = _text_field(body, "agent", "echo") or "echo"
        with using_runtime(runtime):
            # The guide's per-request pattern: a context, then a factory bound to its user.
            user_context = UserExecutionContext.from_request_supervisor(
                user_id=principal.user_id, thread_id=_text_field(body, "thread_id"),
                run_id=_text_field(body, "run_id"))
            factory = create_agent_instance_factory(user_context)
            async with factory.user_execution_scope(
                principal.user_id, user_context.thread_id, user_context.run_id
            ) as context:
                agent = await factory.create_agent_instance(agent_name, context)
                try:
                    result = await agent.execute(body.get("request"), context.run_id)
                except Exception as error:
                    if not isinstance(error, EventPublishError):
                        with contextlib.suppress(EventPublishError):
                            await context.websocket_emitter.notify_agent_error(agent_name,
                                                                               error)
                    raise
        return {"run_id": context.run_id, "thread_id": context.thread_id, "result": result,
                "events_emitted": context.websocket_emitter.sent_events}

    async def run_agent(request: Request) -> Response:
        try:
            principal = await principal_of(
                bearer_from_header(request.headers.get("authorization")), "http")
        except TokenError as error:
            return JSONResponse({"error": str(error)}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            body = await _json_object(request)
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        run = asyncio.ensure_future(execute(principal, body))
        gone = asyncio.ensure_future(_client_gone(request))
        try:
            await asyncio.wait({run, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not run.done():
                run.cancel()
        if not run.done() or run.cancelled():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await run
            counters.runs_cancelled_by_client += 1
            logger.info("run cancelled: the client went away",
                        extra={"event": "run_cancelled", "user_id": principal.user_id})
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        try:
            return JSONResponse(run.result())
        except (InvalidContextError, BadRequest) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        except UnknownAgentError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        except EventPublishError as error:
            return JSONResponse({"error": str(error)}, status_code=503)
        except Exception as error:
            logger.exception("run failed", extra={"event": "run_failed",
                                                  "user_id": principal.user_id})
            return JSONResponse({"error": f"{type(error).__name__}: {error}"}, status_code=500)

    async def events_socket(websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        subprotocol = EVENTS_SUBPROTOCOL if EVENTS_SUBPROTOCOL in offered else None
        if "token" in websocket.query_params or "access_token" in websocket.query_params:
            counters.auth_refused += 1
            await _refuse(websocket, subprotocol, "tokens in URLs are refused; offer the "
                                                  "token as the 'bearer.<token>' subprotocol")
            return
        try:
            principal = await principal_of(bearer_from_subprotocols(offered), "websocket")
        except TokenError as error:
            await _refuse(websocket, subprotocol, str(error))
            return
        outbox = Outbox(settings.outbox_max_bytes, counters)
        # Registered before accept: once the client's handshake returns, it gets every event.
        registration = runtime.router.register(principal.user_id, outbox.put)
        counters.websocket_connections_opened += 1
        try:
            await websocket.accept(subprotocol=subprotocol)
            ended = await EventStream(websocket, principal, outbox, settings, counters).serve()
            logger.debug("websocket ended: %s", ended,
                         extra={"event": "websocket_closed", "user_id": principal.user_id,
                                "reason": ended})
        finally:
            registration.close()
            counters.websocket_connections_closed += 1

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_runtime:
            await runtime.start()
        try:
            yield
        finally:
            if manage_runtime:
                await runtime.aclose()

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/runs", run_agent, methods=["POST"]),
        WebSocketRoute("/ws", events_socket),
    ]
    if token_issuer is not None:
        routes.append(Route("/auth/token", issue_token, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


async def _refuse(websocket: WebSocket, subprotocol: str | None, reason: str) -> None:
    # Accept first so the client sees a close code and reason, not a bare HTTP 403.
    await websocket.accept(subprotocol=subprotocol)
    await websocket.close(code=POLICY_VIOLATION, reason=reason[:120])
