"""An event router that reaches connections in every server process through Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError

from .events import AgentEvent
from .routing import EventSink, InProcessEventRouter, Registration

DEFAULT_CHANNEL_PREFIX = "migrator:events"


class RouterNotStartedError(RuntimeError):
    """publish() was called before start() connected the router to Redis."""


class RedisEventRouter:
    """Publishes each event on its user's channel; every process delivers it to its own sockets.

    Each process subscribes once to the pattern of all user channels and hands what it
    receives to its local in-process router, which knows the sockets of this process.
    """

    def __init__(self, url: str, *, channel_prefix: str = DEFAULT_CHANNEL_PREFIX,
                 start_timeout: float = 10.0) -> None:
        self.url = url
        self.channel_prefix = channel_prefix
        self.local = InProcessEventRouter()
        self._start_timeout = start_timeout
        self._client: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self.received = 0
        self.rejected = 0
        self.reconnects = 0

    def channel(self, user_id: str) -> str:
        """Return the pub/sub channel carrying ``user_id``'s events."""
        return f"{self.channel_prefix}:user:{user_id}"

    def register(self, user_id: str, sink: EventSink) -> Registration:
        """Register a connection of this process."""
        return self.local.register(user_id, sink)

    def connection_count(self, user_id: str | None = None) -> int:
        """Count this process's connections."""
        return self.local.connection_count(user_id)

    async def publish(self, event: AgentEvent) -> int:
        """Publish to Redis; returns how many processes were subscribed."""
        if self._client is None:
            raise RouterNotStartedError(
                "RedisEventRouter.publish() before start(); configure the runtime with "
                "configure_agent_instance_factory(...) or await router.start()"
            )
        return await self._client.publish(self.channel(event.user_id), event.to_json())

    async def start(self) -> None:
        """Connect and subscribe, returning only once Redis has confirmed the subscription."""
        if self._client is not None:
            return
        client = redis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(self.channel("*"))
            await asyncio.wait_for(self._confirmed(pubsub), self._start_timeout)
        except BaseException:
            await pubsub.aclose()
            await client.aclose()
            raise
        self._client, self._pubsub = client, pubsub
        self._reader = asyncio.create_task(self._read(pubsub), name="redis-event-reader")

    @staticmethod
    async def _confirmed(pubsub: Any) -> None:
        # Events published before this confirmation would be lost, so start() waits for it.
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "psubscribe":
                return

    async def _read(self, pubsub: Any) -> None:
        prefix = self.channel("")
        while True:
            try:
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        self._dispatch(message["channel"], message["data"], prefix)
            except RedisConnectionError:
                # redis-py resubscribes on reconnect; back off so a dead server is not spun on.
                self.reconnects += 1
                await asyncio.sleep(0.5)

    def _dispatch(self, channel: bytes | str, data: bytes | str, prefix: str) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode()
        try:
            event = AgentEvent.from_json(data)
        except (ValueError, KeyError, TypeError):
            self.rejected += 1
            return
        if channel != prefix + event.user_id:
            # Never deliver an event whose body names a different user than its channel.
            self.rejected += 1
            return
        self.received += 1
        self.local.deliver(event)

    async def aclose(self) -> None:
        """Stop reading, unsubscribe and disconnect."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        pubsub, client = self._pubsub, self._client
        self._pubsub = self._client = None
        if pubsub is not None:
            await pubsub.aclose()
        if client is not None:
            await client.aclose()
        await self.local.aclose()
