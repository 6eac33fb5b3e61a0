"""Warnings for a configuration that matches nothing in the tree, each naming its key.

A run with such a configuration is not wrong, but its result is likely empty for the wrong
reason: legacy modules that live under other names, phase patterns that select no file,
import targets that rewritten code could not import.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence

from migrator.config import DEFAULT_IMPORTS, DEFAULT_LEGACY, Config
from migrator.phases import DEFAULT_PHASES

_SHOWN = 3


def modules_in_tree(modules: Iterable[str], relpaths: Iterable[str]) -> set[str]:
    """Those of `modules` that a file of the tree defines (also under a `src/` or other parent
    folder). One pass over the paths: each is compared only with the modules whose file name
    it has."""
    by_name: dict[str, list[tuple[str, str]]] = {}
    for module in modules:
        stem = module.replace(".", "/")
        for end in (f"{stem}.py", f"{stem}/__init__.py"):
            by_name.setdefault(end.rpartition("/")[2], []).append((end, module))
    found = set()
    for path in relpaths:
        for end, module in by_name.get(path.rpartition("/")[2], ()):
            if path == end or path.endswith("/" + end):
                found.add(module)
    return found


def module_in_tree(module: str, relpaths: Iterable[str]) -> bool:
    """Whether a file of the tree defines `module` (also under a `src/` or other parent folder)."""
    return bool(modules_in_tree([module], relpaths))


def module_available(module: str, relpaths: set[str]) -> bool:
    """In the tree, or its top-level package installed where migrator runs."""
    if module_in_tree(module, relpaths):
        return True
    try:
        return importlib.util.find_spec(module.partition(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def legacy_warnings(config: Config, relpaths: set[str], findings: int) -> list[str]:
    """When nothing was found and no legacy module is in the tree, the legacy names likely
    live elsewhere: say which keys to set."""
    if findings or not relpaths:
        return []
    modules = set(config.legacy.values())
    missing = sorted(modules - modules_in_tree(modules, relpaths))
    if len(missing) < len(modules):
        return []
    custom = sorted(name for name, module in config.legacy.items() if DEFAULT_LEGACY.get(name) != module)
    keys = ", ".join(f"legacy.{name}" for name in custom) if custom else "legacy"
    return [
        f"0 findings, and no module named in [tool.migrator.legacy] exists in this tree "
        f"({_listed(missing)}); if your legacy names are defined elsewhere, set key '{keys}' "
        f"to their modules, for example get_agent_instance_factory = \"yourapp.factory\""
    ]


def import_warnings(config: Config, relpaths: set[str], rewritten: Iterable[str]) -> list[str]:
    """Import targets that rewritten files now import but that exist neither in the tree nor
    in the environment."""
    texts = list(rewritten)
    warnings = []
    for name, module in sorted(config.imports.items()):
        if not any(f"from {module} import" in text or f"import {module}" in text for text in texts):
            continue
        if module_available(module, relpaths):
            continue
        default = " (the default)" if DEFAULT_IMPORTS.get(name) == module else ""
        warnings.append(
            f"key 'imports.{name}' = {module!r}{default}: no such module in this tree or environment, "
            f"so the rewritten files cannot import {name}; point it at your module, or at migrator.runtime"
        )
    return warnings


def phase_warnings(config: Config, relpaths: Sequence[str]) -> list[str]:
    """Configured phase patterns that match no file of the tree."""
    defaults = {phase.id: phase.patterns for phase in DEFAULT_PHASES}
    configured = [phase for phase in config.phases if phase.patterns != defaults.get(phase.id)]
    if not configured:
        return []
    import pathspec  # only for phases other than the defaults

    warnings = []
    for phase in configured:
        for pattern in phase.patterns:
            spec = pathspec.GitIgnoreSpec.from_lines([pattern])
            if not any(spec.match_file(path) for path in relpaths):
                warnings.append(f"key 'phases.{phase.id}.paths': pattern {pattern!r} matches no file")
    return warnings


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")
