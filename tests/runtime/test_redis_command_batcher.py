"""The command batcher on a real redis-server: order, replies, errors, lost connections."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from redis.exceptions import RedisError, ResponseError
from runtime_support import RedisProcess, bounded

from migrator.runtime.redis_batch import CommandBatcher


@contextlib.asynccontextmanager
async def started(url: str) -> AsyncIterator[CommandBatcher]:
    """A started batcher on its own client; closed (again, if the test closed it) at the end."""
    client = redis.Redis.from_url(url)
    sender = CommandBatcher(client)
    sender.start()
    try:
        yield sender
    finally:
        await bounded(sender.aclose())
        await client.aclose()


@pytest.fixture
async def batcher(redis_url: str) -> AsyncIterator[CommandBatcher]:
    async with started(redis_url) as sender:
        yield sender


async def test_concurrent_commands_keep_their_order_and_get_their_own_replies(
    batcher: CommandBatcher, redis_url: str,
) -> None:
    key = f"test:{uuid.uuid4().hex}"
    replies = await bounded(asyncio.gather(
        *(batcher.submit(("RPUSH", key, n)) for n in range(200))))
    # RPUSH answers the list's length, so each reply tells which push it belongs to.
    assert replies == list(range(1, 201))
    client = redis.Redis.from_url(redis_url)
    try:
        assert [int(v) for v in await client.lrange(key, 0, -1)] == list(range(200))
    finally:
        await client.aclose()


async def test_commands_of_one_submit_go_back_to_back_and_answer_with_the_last(
    batcher: CommandBatcher,
) -> None:
    key = f"test:{uuid.uuid4().hex}"
    reply = await bounded(batcher.submit(("SET", key, "1"), ("INCRBY", key, 41)))
    assert reply == 42


async def test_an_error_reply_fails_only_the_submit_it_belongs_to(
    batcher: CommandBatcher,
) -> None:
    key = f"test:{uuid.uuid4().hex}"
    await bounded(batcher.submit(("SET", key, "text")))
    wrong, after = await bounded(asyncio.gather(
        batcher.submit(("ZADD", key, 1, "member")), batcher.submit(("GET", key)),
        return_exceptions=True))
    assert isinstance(wrong, ResponseError) and "WRONGTYPE" in str(wrong)
    assert after == b"text"


async def test_a_lost_connection_fails_its_commands_and_the_next_ones_reconnect(
    restartable_redis: RedisProcess,
) -> None:
    key = f"test:{uuid.uuid4().hex}"
    async with started(restartable_redis.url) as sender:
        assert await bounded(sender.submit(("INCR", key))) == 1
        await asyncio.to_thread(restartable_redis.kill)
        with pytest.raises((RedisError, OSError)):
            await bounded(sender.submit(("INCR", key)))
        assert await asyncio.to_thread(restartable_redis.start)
        # A new server starts empty: the reply proves the command reached it.
        assert await bounded(sender.submit(("INCR", key))) == 1


async def test_closing_during_a_round_trip_leaves_no_submitter_waiting(
    restartable_redis: RedisProcess,
) -> None:
    async with started(restartable_redis.url) as sender:
        # BLPOP on an empty list holds the round trip open until the batcher is closed.
        held = asyncio.ensure_future(sender.submit(("BLPOP", f"test:{uuid.uuid4().hex}", 30)))
        await asyncio.sleep(0.2)
        assert not held.done()
        await bounded(sender.aclose())
        with pytest.raises(asyncio.CancelledError):
            await bounded(held)
