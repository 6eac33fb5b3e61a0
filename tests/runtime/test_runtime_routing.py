"""The in-process router and the emitter: per-user delivery and per-run sequences."""

from __future__ import annotations

import dataclasses

import pytest
from runtime_support import Recorder

from migrator.runtime import (
    AgentEvent,
    InProcessEventRouter,
    UserWebSocketEmitter,
    WebSocketBridge,
)


async def test_events_reach_only_their_users_connections() -> None:
    router = InProcessEventRouter()
    alice_1, alice_2, bob = Recorder(), Recorder(), Recorder()
    router.register("alice", alice_1)
    router.register("alice", alice_2)
    router.register("bob", bob)
    emitter = UserWebSocketEmitter("alice", "t1", "r1", router)
    await emitter.notify_agent_started("echo")
    await emitter.notify_agent_completed("echo", {"ok": True})
    assert [e.type for e in alice_1.events] == ["agent_started", "agent_completed"]
    assert alice_2.events == alice_1.events
    assert bob.events == []


async def test_sequence_numbers_count_per_run() -> None:
    router = InProcessEventRouter()
    sink = Recorder()
    router.register("alice", sink)
    run_1 = UserWebSocketEmitter("alice", "t1", "r1", router)
    run_2 = UserWebSocketEmitter("alice", "t1", "r2", router)
    for _ in range(3):
        await run_1.notify_agent_thinking("echo", "...")
        await run_2.notify_agent_thinking("echo", "...")
    by_run = {r: [e.sequence for e in sink.events if e.run_id == r] for r in ("r1", "r2")}
    assert by_run == {"r1": [1, 2, 3], "r2": [1, 2, 3]}


async def test_unregistering_one_connection_leaves_the_others() -> None:
    router = InProcessEventRouter()
    kept, dropped, other = Recorder(), Recorder(), Recorder()
    router.register("alice", kept)
    registration = router.register("alice", dropped)
    router.register("bob", other)
    registration.close()
    registration.close()
    await UserWebSocketEmitter("alice", "t", "r", router).notify_agent_started("echo")
    await UserWebSocketEmitter("bob", "t", "r", router).notify_agent_started("echo")
    assert (len(kept.events), len(dropped.events), len(other.events)) == (1, 0, 1)
    assert router.connection_count("alice") == 1 and router.connection_count() == 2


async def test_a_failing_connection_does_not_stop_delivery() -> None:
    router = InProcessEventRouter()

    def broken(event: AgentEvent) -> None:
        raise OSError("socket gone")

    healthy = Recorder()
    router.register("alice", broken)
    router.register("alice", healthy)
    await UserWebSocketEmitter("alice", "t", "r", router).notify_agent_started("echo")
    assert len(healthy.events) == 1 and router.sink_errors == 1


async def test_every_notify_method_carries_its_fields() -> None:
    router = InProcessEventRouter()
    sink = Recorder()
    router.register("alice", sink)
    emitter = UserWebSocketEmitter("alice", "t1", "r1", router)
    await emitter.notify_agent_started("a", {"x": 1})
    await emitter.notify_agent_thinking("a", "hmm", 2)
    await emitter.notify_tool_executing("a", "search", {"q": "x"})
    await emitter.notify_tool_completed("a", "search", [1])
    await emitter.notify_agent_completed("a", "done")
    await emitter.notify_agent_error("a", ValueError("bad"))
    assert [(e.type, e.sequence) for e in sink.events] == [
        ("agent_started", 1), ("agent_thinking", 2), ("tool_executing", 3),
        ("tool_completed", 4), ("agent_completed", 5), ("agent_error", 6)]
    assert sink.events[1].data["step_number"] == 2
    assert sink.events[2].data["parameters"] == {"q": "x"}
    assert sink.events[5].data["error"] == "bad"
    assert {(e.user_id, e.thread_id, e.run_id) for e in sink.events} == {("alice", "t1", "r1")}


def test_event_json_round_trip() -> None:
    event = AgentEvent("alice", "t1", "r1", "agent_started", {"a": [1, 2]}, 7)
    assert AgentEvent.from_json(event.to_json()) == event


async def test_emitted_events_are_frozen_and_equal_to_constructed_ones() -> None:
    router = InProcessEventRouter()
    sink = Recorder()
    router.register("alice", sink)
    payload = {"x": 1}
    await UserWebSocketEmitter("alice", "t1", "r1", router).emit("agent_started", payload)
    payload["x"] = 2
    (event,) = sink.events
    assert event == AgentEvent("alice", "t1", "r1", "agent_started", {"x": 1}, 1,
                               event.timestamp)
    assert repr(event).startswith("AgentEvent(user_id='alice', thread_id='t1'")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.user_id = "bob"  # type: ignore[misc]
    assert AgentEvent.from_json(event.to_json()) == event


async def test_bridge_run_mapping_status() -> None:
    router = InProcessEventRouter()
    router.register("alice", Recorder())
    bridge = WebSocketBridge(router)
    assert (await bridge.get_run_mapping_status("r1"))["registered"] is False
    await bridge.register_run_thread_mapping(run_id="r1", thread_id="t1",
                                             metadata={"user_id": "alice"})
    status = await bridge.get_run_mapping_status("r1")
    assert (status["thread_id"], status["user_connections"]) == ("t1", 1)
    assert await bridge.unregister_run_mapping("r1") is True
