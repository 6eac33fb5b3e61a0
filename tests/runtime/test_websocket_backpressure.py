"""A client that stops reading is evicted; it never slows another client or grows memory."""

from __future__ import annotations

import asyncio

from runtime_support import SECRET, SilentClient, bounded, connect_events, receive_events, wait_until

from migrator.runtime import AgentEvent, InProcessEventRouter, Runtime, RuntimeSettings, TokenSigner
from migrator.runtime.asgi import create_app
from migrator.runtime.connection import Outbox
from migrator.runtime.demo import demo_registry
from migrator.runtime.metrics import RuntimeCounters
from migrator.runtime.server import BackgroundServer

PAYLOAD = "x" * 8_000


def event(user_id: str, sequence: int, payload: str = PAYLOAD) -> AgentEvent:
    return AgentEvent(user_id=user_id, thread_id="t", run_id="r", type="agent_thinking",
                      data={"reasoning": payload}, sequence=sequence)


def test_outbox_is_bounded_in_bytes_and_overflows_once() -> None:
    counters = RuntimeCounters()
    outbox = Outbox(50_000, counters)
    for sequence in range(1, 7):
        outbox.put(event("alice", sequence))
    assert not outbox.overflowed
    assert 6 * 8_000 < outbox.queued_bytes <= 50_000
    outbox.put(event("alice", 7))
    outbox.put(event("alice", 8))
    assert outbox.overflowed
    assert outbox.queued_bytes == 0
    assert counters.websocket_events_dropped == 8


async def test_outbox_hands_out_events_in_order_and_frees_their_bytes() -> None:
    outbox = Outbox(1_000_000, RuntimeCounters())
    for sequence in (1, 2, 3):
        outbox.put(event("alice", sequence, "small"))
    texts = [await bounded(outbox.get()) for _ in range(3)]
    assert ['"sequence":1' in texts[0], '"sequence":3' in texts[2]] == [True, True]
    assert outbox.queued_bytes == 0


async def test_a_flood_overflows_the_outbox_and_evicts_only_that_client() -> None:
    settings = RuntimeSettings(outbox_max_bytes=200_000, send_timeout=30)
    router = InProcessEventRouter()
    runtime = Runtime(router=router, class_registry=demo_registry())
    signer = TokenSigner(SECRET)
    async with BackgroundServer(create_app(runtime, signer, settings=settings),
                                settings=settings) as server:
        stuck = await SilentClient.connect(server.host, server.port, signer.issue("stuck"))
        reader = await connect_events(server.ws_url, signer.issue("reader"), max_queue=None)
        connections = server.server.server_state.connections
        assert len(connections) == 2
        received: list[dict] = []

        async def keep_reading(total: int) -> None:
            received.extend(await receive_events(reader, total, timeout=30))

        reading = asyncio.create_task(keep_reading(2_000))
        # ~16 MB for the stuck client: more than the kernel buffers and the outbox hold.
        for sequence in range(1, 2_001):
            router.deliver(event("stuck", sequence))
            router.deliver(event("reader", sequence, "hello"))
            if sequence % 50 == 0:
                await asyncio.sleep(0)
        await bounded(reading, 30)
        assert [m["sequence"] for m in received] == list(range(1, 2_001))

        counters = runtime.tracker.counters
        await wait_until(lambda: router.connection_count("stuck") == 0)
        assert counters.websocket_clients_evicted_backlog == 1
        assert counters.websocket_events_dropped > 0
        # The server cut the TCP connection off, so the unread buffer is gone with it.
        await wait_until(lambda: len(connections) == 1)
        assert router.connection_count("reader") == 1
        await reader.close()
        stuck.close()


async def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout() -> None:
    settings = RuntimeSettings(outbox_max_bytes=64_000_000, send_timeout=0.5)
    router = InProcessEventRouter()
    runtime = Runtime(router=router, class_registry=demo_registry())
    signer = TokenSigner(SECRET)
    async with BackgroundServer(create_app(runtime, signer, settings=settings),
                                settings=settings) as server:
        stuck = await SilentClient.connect(server.host, server.port, signer.issue("stuck"))
        reader = await connect_events(server.ws_url, signer.issue("reader"), max_queue=None)
        connections = server.server.server_state.connections
        counters = runtime.tracker.counters
        # Paced, so the sender keeps writing until the kernel and transport buffers are full
        # and a send blocks; the outbox alone would hold all of it.
        sequence = 0
        while router.connection_count("stuck") and sequence < 4_000:
            sequence += 1
            router.deliver(event("stuck", sequence))
            router.deliver(event("reader", sequence, "hello"))
            if sequence % 20 == 0:
                await asyncio.sleep(0.005)
        await wait_until(lambda: router.connection_count("stuck") == 0)
        assert counters.websocket_clients_evicted_send_timeout == 1
        assert counters.websocket_clients_evicted_backlog == 0
        # A close frame cannot pass a full buffer: the connection is aborted instead.
        await wait_until(lambda: len(connections) == 1)
        received = await receive_events(reader, sequence)
        assert [m["sequence"] for m in received] == list(range(1, sequence + 1))
        await reader.close()
        stuck.close()
