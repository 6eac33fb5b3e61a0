"""What a transform sees while it plans the fixes of one file."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from migrator.analysis.facts import CodebaseFacts
from migrator.analysis.model import ModuleModel, Reference, StmtSlot
from migrator.analysis.scopes import Scope
from migrator.config import Config
from migrator.transforms.edits import Plan

_INDENTED = re.compile(r"^([ \t]+)\S")


class PlanState(msgspec.Struct):
    """What earlier findings of the same file already planned (fresh for every file)."""

    context_statements: list[tuple[Scope, tuple[StmtSlot, ...], str]] = msgspec.field(default_factory=list)
    plans: dict[int, Plan] = msgspec.field(default_factory=dict)
    cache: dict[str, dict] = msgspec.field(default_factory=dict)

    def dominating_context(self, function: Scope, path: tuple[StmtSlot, ...]) -> str | None:
        """The name of a context statement planned earlier that runs before `path` in `function`."""
        for scope, planned, name in self.context_statements:
            if scope is not function or len(path) < len(planned):
                continue
            head, last = planned[:-1], planned[-1]
            slot = path[len(planned) - 1]
            if path[: len(head)] == head and slot.block == last.block and slot.index >= last.index:
                return name
        return None


class PlanContext(msgspec.Struct, dict=True):
    """The file-level facts a transform plans with."""

    model: ModuleModel
    config: Config
    phase: str
    relpath: str
    conftest_has_fixture: bool
    state: PlanState = msgspec.field(default_factory=PlanState)
    project: Any = None
    # What the plans asked of other modules, `(module, name, answer)`: a cached result stands
    # only while every answer is still the same.
    asked: list[tuple[str, str, bool | None]] = msgspec.field(default_factory=list)

    def is_agent_class(self, cls: Scope | None) -> bool:
        """Whether a class scope defines an agent: a BaseAgent subclass or a registered class."""
        if cls is None or cls.kind != "class":
            return False
        if any(ast.unparse(base).rpartition(".")[2] == "BaseAgent" for base in cls.node.bases):
            return True
        qualname = f"{self.model.module_name}.{cls.name}"
        return self.project is not None and qualname in self.project.agent_classes

    @functools.cached_property
    def indent_unit(self) -> str:
        """The file's own indentation step, so inserted code matches it."""
        for line in self.model.lines:
            found = _INDENTED.match(line)
            if found:
                return found.group(1)
        return "    "

    @property
    def codebase(self) -> CodebaseFacts:
        """What the codebase's own definitions say (documented defaults when there are none)."""
        return self.project.codebase if self.project is not None else CodebaseFacts()

    def defines(self, module: str, name: str) -> bool | None:
        """Whether `module` binds `name` at top level (None: the module is not in the tree), recorded."""
        answer = self.codebase.defines(module, name)
        self.asked.append((module, name, answer))
        return answer

    def plan_of(self, ref: Reference) -> Plan | None:
        return self.state.plans.get(id(ref))


class Transform(Protocol):
    """A transform module: plans the fix of one finding, or says why a person must do it."""

    STAGE: str

    def plan(self, ref: Reference, ctx: PlanContext, params: Mapping[str, Any]) -> Plan: ...
