"""Apply on generated modules (hypothesmith) that also hold deprecated uses: shared by the fuzz test and bench/fuzz_apply.py."""

from __future__ import annotations

import collections
import dataclasses
import warnings

import libcst as cst

from migrator.config import parse_config
from migrator.engine import Settings, process_bytes
from migrator.project import ProjectFacts
from migrator.results import Status
from migrator.rules import load_rules
from migrator.transforms import TRANSFORMS

FACTORY = "netra_backend.app.agents.supervisor.agent_instance_factory"
IMPORT = f"from {FACTORY} import get_agent_instance_factory\n"
USE = "\n\ndef build_for_request(user_context):\n    return get_agent_instance_factory()\n"
RELPATH = "app/generated.py"


def fix_settings() -> Settings:
    """Every shipped rule, with fixes on, for a project root that does not matter."""
    from pathlib import Path

    config = parse_config({}, root=Path("/project"), source=None)
    rules = load_rules(config.rule_dirs, TRANSFORMS.keys())
    return Settings.build(config, rules, fix=True, project=ProjectFacts())


def with_deprecated_use(generated: str, import_first: bool) -> str:
    """`generated` with the legacy import (first or after it) and a function that calls the getter, after it."""
    body = generated if not generated or generated.endswith(("\n", "\r")) else generated + "\n"
    return IMPORT + body + USE if import_first else body + IMPORT + USE


@dataclasses.dataclass
class Tally:
    """What happened to each generated module."""

    counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    reasons: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    problems: list[str] = dataclasses.field(default_factory=list)

    def check(self, generated: str, settings: Settings) -> None:
        """Apply to one generated module in both placements; record outcomes, and problems that are bugs."""
        for import_first in (True, False):
            source = with_deprecated_use(generated, import_first)
            if not _compiles(source):
                self.counts["not valid for this Python"] += 1
                continue
            self.counts["modules applied"] += 1
            result = process_bytes(source.encode("utf-8"), RELPATH, "2A", settings)
            if result.status is Status.FAILED:
                message = result.message or ""
                reason = message.split(":")[0] if not message.startswith("rewrite rejected") else message[:60]
                self.reasons[reason] += 1
                self.counts["refused"] += 1
                if message.startswith("internal error"):
                    self.problems.append(f"crash: {message}\n{source}")
                continue
            if result.status is not Status.CHANGED:
                self.counts["unchanged"] += 1
                self.problems.append(f"the deprecated use was not fixed:\n{source}")
                continue
            self.counts["rewritten"] += 1
            output = result.rewritten.decode("utf-8")
            if not _compiles(output):
                self.problems.append(f"output does not compile:\n{output}")
                continue
            try:
                cst.parse_module(output)
            except cst.ParserSyntaxError as error:
                self.problems.append(f"output does not parse with LibCST: {error}\n{output}")
                continue
            self.counts["outputs that parse"] += 1
            if generated.rstrip("\r\n") in output:
                self.counts["generated code kept byte for byte"] += 1
            else:
                self.problems.append(f"the generated code changed:\n{source}\n---\n{output}")


def _compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, RELPATH, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True
