"""WebSocketBridge: the emitting side of websocket delivery, in front of a router."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .emitter import UserWebSocketEmitter
from .ids import require_id
from .metrics import RuntimeCounters
from .routing import EventRouter


class WebSocketBridge:
    """Creates user-bound emitters over a router and keeps optional run-to-thread mappings."""

    def __init__(self, router: EventRouter, counters: RuntimeCounters | None = None) -> None:
        self.router = router
        self._counters = counters
        self._run_mappings: dict[str, dict[str, Any]] = {}

    def create_emitter(self, user_id: str, thread_id: str, run_id: str) -> UserWebSocketEmitter:
        """Return an emitter whose events can only reach ``user_id``."""
        return UserWebSocketEmitter(
            require_id("user_id", user_id),
            require_id("thread_id", thread_id),
            require_id("run_id", run_id),
            self.router,
            self._counters,
        )

    async def register_run_thread_mapping(
        self, run_id: str, thread_id: str, metadata: Mapping[str, Any] | None = None
    ) -> bool:
        """Record which thread and user a run belongs to, for diagnostics."""
        self._run_mappings[require_id("run_id", run_id)] = {
            "thread_id": require_id("thread_id", thread_id),
            "metadata": dict(metadata or {}),
        }
        return True

    async def unregister_run_mapping(self, run_id: str) -> bool:
        """Forget a run's mapping; returns whether there was one."""
        return self.forget_run(run_id)

    def forget_run(self, run_id: str) -> bool:
        """Drop a run's mapping; its scope calls this when it ends, so mappings never pile up."""
        return self._run_mappings.pop(run_id, None) is not None

    def mapped_run_count(self) -> int:
        """Count the runs with a mapping."""
        return len(self._run_mappings)

    async def get_run_mapping_status(self, run_id: str) -> dict[str, Any]:
        """Describe a run's mapping and how many local connections its user has."""
        mapping = self._run_mappings.get(run_id)
        if mapping is None:
            return {"run_id": run_id, "registered": False}
        user_id = mapping["metadata"].get("user_id")
        return {
            "run_id": run_id,
            "registered": True,
            "thread_id": mapping["thread_id"],
            "user_id": user_id,
            "user_connections": self.router.connection_count(user_id) if user_id else 0,
        }
