"""Batches Redis commands from many concurrent runs into one pipeline per round trip."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

Command = tuple[Any, ...]


class CommandBatcher:
    """Sends queued commands in order, one pipeline at a time, on one pooled connection.

    Under load, the runs of a process share a few round trips instead of each waiting for
    a connection of its own; commands keep the order they were submitted in.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
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
            async with self._client.pipeline(transaction=False) as pipe:
                for commands, _ in batch:
                    for name, *args in commands:
                        getattr(pipe, name)(*args)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
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
