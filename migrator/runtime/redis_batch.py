"""Batches Redis commands from many concurrent runs into one write per round trip."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from redis.exceptions import ResponseError

# A command as Redis receives it: its name, then its arguments ("PUBLISH", channel, text).
Command = tuple[Any, ...]


class CommandBatcher:
    """Sends queued commands in order, one batch at a time, on one connection of its own.

    Under load, the runs of a process share a few round trips instead of each waiting for
    a connection of its own; commands keep the order they were submitted in. The
    connection is taken from the client's pool once and kept, which spares every round
    trip the pool's locking and a pipeline object of its own.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._connection: Any = None
        self._queue: list[tuple[tuple[Command, ...], asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the sending task."""
        self._task = asyncio.create_task(self._send_forever(), name="redis-command-batcher")

    async def submit(self, *commands: Command) -> Any:
        """Queue commands (sent back to back) and return the last one's reply.

        Raises what Redis or the connection raised for them.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((commands, future))
        self._wake.set()
        return await future

    async def _send_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if batch:
                await self._send(batch)

    async def _send(self, batch: list[tuple[tuple[Command, ...], asyncio.Future[Any]]]) -> None:
        try:
            replies = await self._round_trip([c for commands, _ in batch for c in commands])
        except BaseException as error:
            # Stopped midway (aclose) or failed: no submitter of the batch is left waiting.
            for _, future in batch:
                if not future.done():
                    if isinstance(error, Exception):
                        future.set_exception(error)
                    else:
                        future.cancel()
            if not isinstance(error, Exception):
                raise
            return
        position = 0
        for commands, future in batch:
            mine = replies[position:position + len(commands)]
            position += len(commands)
            if future.done():
                continue
            failure = next((r for r in mine if isinstance(r, Exception)), None)
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(mine[-1])

    async def _round_trip(self, commands: list[Command]) -> list[Any]:
        """Write all commands at once and read one reply each (an error reply as its
        exception); a connection that fails midway is dropped, never reused."""
        connection = self._connection
        if connection is None:
            connection = self._connection = await self._client.connection_pool.get_connection()
        try:
            # Reconnects by itself when the previous round trip dropped the connection.
            await connection.send_packed_command(connection.pack_commands(commands))
            replies: list[Any] = []
            for name, *_ in commands:
                try:
                    replies.append(await self._client.parse_response(connection, name))
                except ResponseError as error:
                    replies.append(error)
            return replies
        except BaseException:
            # Replies of this batch may still be on the wire: the next batch must not
            # read them as its own.
            await connection.disconnect(nowait=True)
            raise

    async def aclose(self) -> None:
        """Stop sending; commands still queued fail with CancelledError."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _, future in self._queue:
            future.cancel()
        self._queue.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._client.connection_pool.release(connection)
