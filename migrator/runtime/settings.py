"""Operating limits of a runtime deployment, from arguments or ``MIGRATOR_RUNTIME_*`` variables."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import Any

from .errors import SettingsError

ENV_PREFIX = "MIGRATOR_RUNTIME_"
_MAY_BE_ZERO = frozenset({"db_max_overflow"})


@dataclasses.dataclass(frozen=True)
class RuntimeSettings:
    """Every limit the server side enforces; one frozen value per process."""

    outbox_max_bytes: int = 1_048_576
    send_timeout: float = 10.0
    token_ttl: float = 3600.0
    redis_max_connections: int = 64
    redis_pool_timeout: float = 5.0
    redis_publish_timeout: float = 5.0
    run_state_ttl: float = 3600.0
    health_timeout: float = 2.0
    shutdown_grace: float = 5.0
    keep_alive_timeout: float = 75.0
    db_pool_size: int = 5
    db_max_overflow: int = 10

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SettingsError(f"{field.name} must be a number, got {value!r}")
            lowest_allowed = 0 if field.name in _MAY_BE_ZERO else math.ulp(0)
            if not math.isfinite(value) or value < lowest_allowed:
                kind = "zero or more" if lowest_allowed == 0 else "a positive number"
                raise SettingsError(f"{field.name} must be {kind}, got {value!r}")
            if field.type == "int" and value != int(value):
                raise SettingsError(f"{field.name} must be a whole number, got {value!r}")

    @staticmethod
    def variable(name: str) -> str:
        """Return the environment variable that sets the field ``name``."""
        return ENV_PREFIX + name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> RuntimeSettings:
        """Read every set ``MIGRATOR_RUNTIME_<FIELD>`` variable; ``overrides`` win over them."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(cls.variable(field.name))
            if raw is None or not raw.strip():
                continue
            convert = int if field.type == "int" else float
            try:
                values[field.name] = convert(raw.strip().replace("_", ""))
            except ValueError:
                kind = "a whole number" if convert is int else "a number"
                raise SettingsError(
                    f"{cls.variable(field.name)}={raw!r} is not {kind}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except SettingsError as error:
            raise SettingsError(f"{error} (from arguments or {ENV_PREFIX}* variables)") from None
        except TypeError as error:
            raise SettingsError(str(error)) from None
