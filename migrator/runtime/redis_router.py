"""An event router that reaches connections in every server process through Redis pub/sub.

Redis pub/sub keeps no history, so the router makes loss visible instead of silent:
a publish nobody heard is retried and then raised, and each receiving process checks
sequence numbers, learns how each run ended (an end marker, and a sorted set it reads
after reconnecting), and sends a ``gap`` event for whatever it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .errors import EventPublishError
from .events import AgentEvent
from .redis_batch import CommandBatcher
from .redis_receiver import RUN_END, EventReceiver
from .routing import EventSink, InProcessEventRouter, Registration
from .settings import RuntimeSettings

DEFAULT_CHANNEL_PREFIX = "migrator:events"
# Runs recorded as ended this long before an outage began are read back after it.
CLOCK_SLACK = 1.0
RETRY_PAUSE = 0.05

logger = logging.getLogger("migrator.runtime.redis")


class RouterNotStartedError(RuntimeError):
    """publish() was called before start() connected the router to Redis."""


class RedisEventRouter:
    """Publishes each event on its user's channel; every process delivers it to its own sockets.

    Each process subscribes once to the pattern of all user channels and hands what it
    receives to its local in-process router, which knows the sockets of this process.
    """

    def __init__(self, url: str, *, channel_prefix: str = DEFAULT_CHANNEL_PREFIX,
                 settings: RuntimeSettings | None = None, start_timeout: float = 10.0,
                 reconnect_pause: float = RETRY_PAUSE, client_name: str = "migrator-events",
                 ) -> None:
        self.url = url
        self.client_name = client_name
        self._reconnect_pause = reconnect_pause
        self.channel_prefix = channel_prefix
        self.settings = settings or RuntimeSettings()
        self.receiver = EventReceiver(self.channel(""))
        self._start_timeout = start_timeout
        self._client: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()
        self._batcher: Any = None
        self._trimmed_at = 0.0
        self.reconnects = 0
        self.publish_retries = 0
        self.publish_failures = 0
        self.end_marker_failures = 0

    def channel(self, user_id: str) -> str:
        """Return the pub/sub channel carrying ``user_id``'s events."""
        return f"{self.channel_prefix}:user:{user_id}"

    @property
    def ended_runs_key(self) -> str:
        """The sorted set of recently ended runs, scored by end time."""
        return f"{self.channel_prefix}:ended"

    @property
    def local(self) -> InProcessEventRouter:
        """The router of this process's own connections."""
        return self.receiver.local

    @property
    def received(self) -> int:
        """Events received and delivered to local connections."""
        return self.receiver.received

    @property
    def rejected(self) -> int:
        """Messages refused: malformed, or naming another user than their channel."""
        return self.receiver.rejected

    @property
    def duplicates(self) -> int:
        """Events received twice and dropped."""
        return self.receiver.duplicates

    @property
    def gaps(self) -> int:
        """Sequence gaps found."""
        return self.receiver.gaps

    @property
    def events_missing(self) -> int:
        """Events published but never received here."""
        return self.receiver.events_missing

    @property
    def subscribed(self) -> bool:
        """Tell whether this process currently receives events from Redis."""
        return self._subscribed.is_set()

    def register(self, user_id: str, sink: EventSink) -> Registration:
        """Register a connection of this process."""
        return self.local.register(user_id, sink)

    def connection_count(self, user_id: str | None = None) -> int:
        """Count this process's connections."""
        return self.local.connection_count(user_id)

    def user_count(self) -> int:
        """Count the users with a connection to this process."""
        return self.local.user_count()

    async def publish(self, event: AgentEvent) -> int:
        """Publish to Redis and return how many processes heard it.

        A publish that fails, or that no process heard (so not even this process's own
        subscription is up), is retried until ``redis_publish_timeout``, then raised.
        """
        client = self._client
        if client is None:
            raise RouterNotStartedError(
                "RedisEventRouter.publish() before start(); configure the runtime with "
                "configure_agent_instance_factory(...) or await router.start()")
        command = ("PUBLISH", self.channel(event.user_id), event.to_json())
        return await self._with_retries(lambda: self._batcher.submit(command),
                                        f"event #{event.sequence} of run {event.run_id!r}")

    async def _with_retries(self, send: Any, what: str) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.redis_publish_timeout
        while True:
            try:
                heard = await send()
            except (RedisError, OSError) as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if heard:
                    return heard
                problem = "no process was subscribed to hear it"
            if loop.time() >= deadline:
                self.publish_failures += 1
                raise EventPublishError(f"{what} not delivered to Redis: {problem}")
            self.publish_retries += 1
            await asyncio.sleep(RETRY_PAUSE)

    def finish_run(self, user_id: str, thread_id: str, run_id: str, last_sequence: int) -> None:
        """Record, in the background, that a run ended after ``last_sequence`` events."""
        if self._client is None:
            return
        try:
            task = asyncio.get_running_loop().create_task(
                self._publish_end(user_id, thread_id, run_id, last_sequence))
        except RuntimeError:
            return
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish_end(self, user_id: str, thread_id: str, run_id: str, last: int) -> None:
        marker = AgentEvent(user_id=user_id, thread_id=thread_id, run_id=run_id, type=RUN_END,
                            data={}, sequence=last).to_json()
        member = json.dumps([user_id, thread_id, run_id, last], separators=(",", ":"))

        async def send() -> int:
            now = time.time()
            # Recorded before the marker is published, so a process that reconnects and
            # reads the set either finds the run there or receives the marker.
            commands: list[tuple[Any, ...]] = [("ZADD", self.ended_runs_key, now, member)]
            if now - self._trimmed_at > 1.0:
                self._trimmed_at = now
                commands.append(("ZREMRANGEBYSCORE", self.ended_runs_key, "-inf",
                                 now - self.settings.run_state_ttl))
            commands.append(("PUBLISH", self.channel(user_id), marker))
            return await self._batcher.submit(*commands)

        try:
            await self._with_retries(send, f"end of run {run_id!r}")
        except EventPublishError as error:
            self.end_marker_failures += 1
            logger.error("run end not recorded: %s", error,
                         extra={"event": "end_marker_failed", "run_id": run_id})

    async def start(self) -> None:
        """Connect and subscribe, returning only once Redis has confirmed the subscription."""
        if self._client is not None:
            return
        pool = redis.BlockingConnectionPool.from_url(
            self.url, max_connections=self.settings.redis_max_connections,
            timeout=self.settings.redis_pool_timeout, retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=self.settings.redis_pool_timeout,
            client_name=self.client_name)
        client = redis.Redis.from_pool(pool)
        try:
            pubsub = await asyncio.wait_for(self._subscribe(client), self._start_timeout)
        except BaseException:
            await client.aclose()
            raise
        self._client, self._pubsub = client, pubsub
        self._batcher = CommandBatcher(client)
        self._batcher.start()
        self._reader = asyncio.create_task(self._read(), name="redis-event-reader")

    async def _subscribe(self, client: Any) -> Any:
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(self.channel("*"))
            # Events published before this confirmation would be missed, so wait for it.
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message["type"] == "psubscribe":
                    break
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            raise
        self._subscribed.set()
        return pubsub

    async def _read(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] == "pmessage":
                        self.receiver.dispatch(message["channel"], message["data"],
                                               expect_start=self.reconnects > 0)
                raise RedisError("the subscription ended")
            except Exception as error:
                # Any failure of the reader (not only a lost connection) must end in a new
                # subscription, never in a reader that silently stopped.
                down_at = time.time()
                self._subscribed.clear()
                self.reconnects += 1
                logger.warning("redis subscription lost, reconnecting: %s", error,
                               extra={"event": "redis_disconnected",
                                      "error": type(error).__name__})
                await self._resubscribe()
                logger.info("redis subscription restored", extra={"event": "redis_reconnected"})
                await self._reconcile(down_at)

    async def _resubscribe(self) -> None:
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        pause = self._reconnect_pause
        while True:
            await asyncio.sleep(pause)
            try:
                self._pubsub = await asyncio.wait_for(self._subscribe(self._client),
                                                      self._start_timeout)
                return
            except (RedisError, OSError, asyncio.TimeoutError):
                pause = min(pause * 2, max(1.0, self._reconnect_pause))

    async def _reconcile(self, down_at: float) -> None:
        """Read how the runs that ended during the outage ended, and report what was missed."""
        while True:
            try:
                ended = await self._client.zrangebyscore(self.ended_runs_key,
                                                         down_at - CLOCK_SLACK, "+inf")
                break
            except (RedisError, OSError):
                await asyncio.sleep(RETRY_PAUSE)
        for member in ended:
            try:
                user_id, thread_id, run_id, last = json.loads(member)
            except (ValueError, TypeError):
                continue
            self.receiver.run_ended(user_id, thread_id, run_id, int(last))

    async def health(self) -> dict[str, Any]:
        """Ping Redis and report whether this process's subscription is up."""
        state: dict[str, Any] = {"ok": False, "subscribed": self.subscribed,
                                 "reconnects": self.reconnects}
        if self._client is None:
            state["error"] = "not started"
            return state
        try:
            await asyncio.wait_for(self._client.ping(), self.settings.health_timeout)
        except (RedisError, OSError, asyncio.TimeoutError) as error:
            state["error"] = f"{type(error).__name__}: {error}" if str(error) \
                else type(error).__name__
            return state
        state["ok"] = self.subscribed
        if not self.subscribed:
            state["error"] = "subscription not restored yet"
        return state

    async def aclose(self) -> None:
        """Finish pending end markers, stop reading, unsubscribe and disconnect."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=self.settings.redis_publish_timeout)
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if self._batcher is not None:
            await self._batcher.aclose()
        pubsub, client = self._pubsub, self._client
        self._pubsub = self._client = None
        self._subscribed.clear()
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        if client is not None:
            await client.aclose()
        await self.local.aclose()
