"""Reads `[tool.migrator]` (or `migrator.toml`) once into a frozen, validated object."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from migrator._frozen import FrozenDict
from migrator.exit_codes import UsageError
from migrator.phases import DEFAULT_PHASES, PHASE_IDS, Phase

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FACTORY_MODULE = "netra_backend.app.agents.supervisor.agent_instance_factory"
REGISTRY_MODULE = "netra_backend.app.agents.supervisor.agent_registry"

DEFAULT_LEGACY: Mapping[str, str] = FrozenDict(
    {
        "get_agent_instance_factory": FACTORY_MODULE,
        "AgentRegistry": REGISTRY_MODULE,
        "get_singleton_registry": REGISTRY_MODULE,
        "get_global_bridge": "netra_backend.app.services.agent_websocket_bridge",
        "get_global_db_session": "netra_backend.app.core.database",
        "get_db_session": "netra_backend.app.core.database",
    }
)
DEFAULT_IMPORTS: Mapping[str, str] = FrozenDict(
    {
        "UserExecutionContext": "netra_backend.app.services.user_execution_context",
        "create_agent_instance_factory": FACTORY_MODULE,
        "configure_agent_instance_factory": FACTORY_MODULE,
        "get_agent_class_registry": "netra_backend.app.agents.supervisor.agent_class_registry",
    }
)
DEFAULT_REEXPORTS = ("netra_backend.app.agents.supervisor",)
# Getters that return a legacy object, by role; rules name them as `@registry`, `@bridge`, ...
DEFAULT_GETTERS: Mapping[str, tuple[str, ...]] = FrozenDict(
    {
        "registry": ("get_singleton_registry",),
        "bridge": ("get_global_bridge",),
        "db_session": ("get_global_db_session", "get_db_session"),
    }
)
# Classes whose instances are legacy objects, by role (for constructors and annotations).
RECEIVER_TYPES: Mapping[str, str] = FrozenDict({"AgentRegistry": "registry"})


class Config(msgspec.Struct, frozen=True):
    """The validated settings of one project."""

    root: Path
    source: Path | None = None
    include: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    rule_dirs: tuple[Path, ...] = ()
    context_names: tuple[str, ...] = ("user_context",)
    legacy: Mapping[str, str] = DEFAULT_LEGACY
    reexports: tuple[str, ...] = DEFAULT_REEXPORTS
    imports: Mapping[str, str] = DEFAULT_IMPORTS
    phases: tuple[Phase, ...] = DEFAULT_PHASES
    getters: Mapping[str, tuple[str, ...]] = DEFAULT_GETTERS
    # Rule selection, with Ruff's names; validated against the loaded rules by `migrator.selection`.
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Names the user declares deprecated ([legacy]) or current: facts never override these.
    declared_legacy: frozenset[str] = frozenset()
    current: tuple[str, ...] = ()
    # Markdown fences labelled as the old pattern (BEFORE, OLD, ...) are left alone unless this is set.
    scan_old_fences: bool = False

    def import_target(self, name: str) -> str:
        """The module rewritten code imports `name` from."""
        try:
            return self.imports[name]
        except KeyError:
            raise UsageError(f"no import target for {name!r}: add it to [tool.migrator.imports]") from None


_TOP_KEYS = {
    "include", "exclude", "rules", "context_names", "reexports", "legacy", "imports", "phases", "getters",
    "select", "ignore", "extend-select", "per-file-ignores", "current", "scan-old-fences",
}
# A rule ID (MIG001), a prefix of one (MIG00, MIG) or ALL.
RULE_SELECTOR = re.compile(r"^(?:ALL|[A-Z]{3}\d{0,3})$")
_PHASE_KEYS = {"aliases", "paths"}


def find_root(start: Path) -> tuple[Path, Path | None, dict[str, Any]]:
    """Return the project root, the config file found (if any) and its migrator table."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        toml_file = candidate / "migrator.toml"
        if toml_file.is_file():
            return candidate, toml_file, _read_toml(toml_file)
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("migrator")
            if table is not None:
                if not isinstance(table, dict):
                    raise UsageError(f"{pyproject}: [tool.migrator] must be a table")
                return candidate, pyproject, table
    return Path.cwd().resolve(), None, {}


def load_config(start: Path) -> Config:
    """Find and validate the configuration that governs `start`."""
    root, source, table = find_root(start)
    if source is None:
        cwd = Path.cwd().resolve()
        target = start.resolve()
        if target != cwd and cwd not in target.parents:
            root = target if target.is_dir() else target.parent
    return parse_config(table, root=root, source=source)


def parse_config(table: Mapping[str, Any], *, root: Path, source: Path | None) -> Config:
    """Validate a `[tool.migrator]` table; unknown keys and wrong types are errors."""
    where = str(source) if source else "configuration"
    _reject_unknown(table, _TOP_KEYS, where, "tool.migrator")
    values: dict[str, Any] = {"root": root, "source": source}
    if "include" in table:
        values["include"] = _str_list(table, "include", where)
    if "exclude" in table:
        values["exclude"] = _str_list(table, "exclude", where)
    if "rules" in table:
        values["rule_dirs"] = tuple(root / p for p in _str_list(table, "rules", where))
    if "context_names" in table:
        names = _str_list(table, "context_names", where)
        if not names or not all(n.isidentifier() for n in names):
            raise UsageError(f"{where}: key 'context_names' expects a non-empty list of identifiers")
        values["context_names"] = names
    if "reexports" in table:
        values["reexports"] = _str_list(table, "reexports", where)
    if "legacy" in table:
        declared = _str_table(table, "legacy", where)
        values["legacy"] = FrozenDict({**DEFAULT_LEGACY, **declared})
        values["declared_legacy"] = frozenset(declared)
    if "current" in table:
        values["current"] = _str_list(table, "current", where)
    if "scan-old-fences" in table:
        if not isinstance(table["scan-old-fences"], bool):
            raise UsageError(f"{where}: key 'scan-old-fences' expects true or false, got {_describe(table['scan-old-fences'])}")
        values["scan_old_fences"] = table["scan-old-fences"]
    if "imports" in table:
        values["imports"] = FrozenDict({**DEFAULT_IMPORTS, **_str_table(table, "imports", where)})
    if "phases" in table:
        values["phases"] = _parse_phases(table["phases"], where)
    if "getters" in table:
        values["getters"] = _parse_getters(table["getters"], where, values.get("legacy", DEFAULT_LEGACY))
    for key in ("select", "ignore", "extend-select"):
        if key in table:
            values[key.replace("-", "_")] = _selectors(table, key, where)
    if "per-file-ignores" in table:
        values["per_file_ignores"] = _parse_per_file_ignores(table["per-file-ignores"], where)
    return Config(**values)


def _selectors(table: Mapping[str, Any], key: str, where: str, prefix: str = "") -> tuple[str, ...]:
    """Rule IDs or prefixes, upper-cased; whether each names a rule is checked once rules are loaded."""
    values = tuple(value.strip().upper() for value in _str_list(table, key, where, prefix))
    for value in values:
        if not RULE_SELECTOR.match(value):
            raise UsageError(
                f"{where}: key '{prefix}{key}' expects rule IDs or prefixes such as MIG001, MIG00 or ALL, got {value!r}"
            )
    return values


def _parse_per_file_ignores(raw: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: key 'per-file-ignores' expects a table of \"glob\" = [rule IDs]")
    entries = []
    for pattern in raw:
        if not pattern.strip():
            raise UsageError(f"{where}: key 'per-file-ignores' has an empty glob")
        entries.append((pattern, _selectors(raw, pattern, where, prefix="per-file-ignores.")))
    return tuple(entries)


def _parse_getters(raw: Any, where: str, legacy: Mapping[str, str]) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: key 'getters' expects a table of role = [getter names]")
    getters = dict(DEFAULT_GETTERS)
    for role in raw:
        if role not in DEFAULT_GETTERS:
            raise UsageError(
                f"{where}: key 'getters.{role}' names an unknown role; expected one of {', '.join(DEFAULT_GETTERS)}"
            )
        values = _str_list(raw, role, where, prefix="getters.")
        for name in values:
            if name not in legacy:
                raise UsageError(
                    f"{where}: key 'getters.{role}' names {name!r}, which [tool.migrator.legacy] does not define; "
                    f"add {name} = \"its.module\" there"
                )
        getters[role] = values
    return FrozenDict(getters)


def _parse_phases(raw: Any, where: str) -> tuple[Phase, ...]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: key 'phases' expects a table of phase tables")
    by_id = {phase.id: phase for phase in DEFAULT_PHASES}
    for phase_id, body in raw.items():
        if phase_id not in by_id:
            raise UsageError(
                f"{where}: key 'phases.{phase_id}' names an unknown phase; expected one of {', '.join(PHASE_IDS)}"
            )
        if not isinstance(body, dict):
            raise UsageError(f"{where}: key 'phases.{phase_id}' expects a table")
        _reject_unknown(body, _PHASE_KEYS, where, f"phases.{phase_id}")
        changes: dict[str, Any] = {}
        if "aliases" in body:
            changes["aliases"] = _str_list(body, "aliases", where, prefix=f"phases.{phase_id}.")
        if "paths" in body:
            changes["patterns"] = _str_list(body, "paths", where, prefix=f"phases.{phase_id}.")
        by_id[phase_id] = msgspec.structs.replace(by_id[phase_id], **changes)
    return tuple(by_id[phase.id] for phase in DEFAULT_PHASES)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot be read: {error.strerror}") from None


def _reject_unknown(table: Mapping[str, Any], known: set[str], where: str, section: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(
            f"{where}: unknown key '{unknown[0]}' in [{section}]; expected one of {', '.join(sorted(known))}"
        )


def _str_list(table: Mapping[str, Any], key: str, where: str, prefix: str = "") -> tuple[str, ...]:
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"{where}: key '{prefix}{key}' expects a list of strings, got {_describe(value)}")
    return tuple(value)


def _str_table(table: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = table[key]
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise UsageError(f"{where}: key '{key}' expects a table of name = \"module.path\" strings")
    for name, module in value.items():
        if not name.isidentifier() or not all(part.isidentifier() for part in module.split(".")):
            raise UsageError(f"{where}: key '{key}.{name}' expects a dotted module path, got {module!r}")
    return dict(value)


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"
