"""RegistryAdapter: the old registry.get(name) call shape over the factory."""

from __future__ import annotations

from .agent import BaseAgent
from .context import UserExecutionContext
from .factory import AgentInstanceFactory


class RegistryAdapter:
    """Temporary adapter for code still written as ``await registry.get(name)``."""

    def __init__(
        self, factory: AgentInstanceFactory, default_context: UserExecutionContext
    ) -> None:
        self.factory = factory
        self.default_context = default_context

    async def get(self, agent_name: str) -> BaseAgent:
        """Return a fresh agent for the adapter's one context; never a shared instance."""
        return await self.factory.create_agent_instance(agent_name, self.default_context)

    def list_agent_names(self) -> list[str]:
        """Return the names the factory can create."""
        return self.factory.runtime.registry.list_agent_names()
