"""The demo ASGI app: token issue, agent runs over HTTP, events over websockets."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .config import Runtime
from .context import UserExecutionContext
from .errors import InvalidContextError, TokenError, UnknownAgentError
from .events import AgentEvent
from .holder import create_agent_instance_factory
from .tokens import TokenSigner

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
DEFAULT_BACKLOG = 10_000


class Outbox:
    """Events waiting to be written to one socket; overflowing it ends that socket only."""

    def __init__(self, limit: int) -> None:
        self._events: collections.deque[AgentEvent] = collections.deque()
        self._ready = asyncio.Event()
        self._limit = limit
        self.overflowed = False

    def put(self, event: AgentEvent) -> None:
        """Queue an event without blocking the publisher."""
        if len(self._events) >= self._limit:
            self.overflowed = True
        else:
            self._events.append(event)
        self._ready.set()

    async def drain(self) -> list[AgentEvent]:
        """Wait for events and return all queued ones in order."""
        await self._ready.wait()
        self._ready.clear()
        events = list(self._events)
        self._events.clear()
        return events


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def create_app(
    runtime: Runtime,
    signer: TokenSigner,
    *,
    manage_runtime: bool = True,
    backlog: int = DEFAULT_BACKLOG,
) -> Starlette:
    """Return the app; with ``manage_runtime`` its lifespan starts and stops the runtime."""
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "connections": runtime.router.connection_count(),
                             "active_contexts": len(runtime.tracker)})

    async def issue_token(request: Request) -> JSONResponse:
        body = await request.json()
        try:
            token = signer.issue(body.get("user_id"))
        except InvalidContextError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"token": token, "user_id": body["user_id"]})

    async def run_agent(request: Request) -> JSONResponse:
        try:
            user_id = signer.verify(_bearer_token(request))
        except TokenError as error:
            return JSONResponse({"error": str(error)}, status_code=401)
        body: dict[str, Any] = await request.json()
        agent_name = body.get("agent", "echo")
        try:
            # The guide's per-request pattern: a context, then a factory bound to its user.
            user_context = UserExecutionContext.from_request_supervisor(
                user_id=user_id, thread_id=body.get("thread_id"), run_id=body.get("run_id"))
            factory = create_agent_instance_factory(user_context, runtime=runtime)
            async with factory.user_execution_scope(
                user_id, user_context.thread_id, user_context.run_id
            ) as context:
                agent = await factory.create_agent_instance(agent_name, context)
                try:
                    result = await agent.execute(body.get("request"), context.run_id)
                except Exception as error:
                    await context.websocket_emitter.notify_agent_error(agent_name, error)
                    raise
        except InvalidContextError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        except UnknownAgentError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        except Exception as error:
            return JSONResponse({"error": str(error), "run_id": user_context.run_id},
                                status_code=500)
        return JSONResponse({
            "run_id": context.run_id,
            "thread_id": context.thread_id,
            "result": result,
            "events_emitted": context.websocket_emitter.sent_events,
        })

    async def events_socket(websocket: WebSocket) -> None:
        try:
            user_id = signer.verify(websocket.query_params.get("token"))
        except TokenError as error:
            # Accept first so the client sees a close code, not a bare HTTP 403.
            await websocket.accept()
            await websocket.close(code=POLICY_VIOLATION, reason=str(error)[:120])
            return
        outbox = Outbox(backlog)
        # Registered before accept: once the client's handshake returns, it gets every event.
        registration = runtime.router.register(user_id, outbox.put)
        try:
            await websocket.accept()
            sender = asyncio.create_task(_send_events(websocket, outbox))
            try:
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
        finally:
            registration.close()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_runtime:
            await runtime.start()
        try:
            yield
        finally:
            if manage_runtime:
                await runtime.aclose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/auth/token", issue_token, methods=["POST"]),
            Route("/runs", run_agent, methods=["POST"]),
            WebSocketRoute("/ws", events_socket),
        ],
        lifespan=lifespan,
    )


async def _send_events(websocket: WebSocket, outbox: Outbox) -> None:
    """Write queued events to the socket in order until it closes or overflows."""
    try:
        while True:
            for event in await outbox.drain():
                await websocket.send_text(event.to_json())
            if outbox.overflowed:
                await websocket.close(code=TRY_AGAIN_LATER, reason="event backlog exceeded")
                return
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
