"""Generation and validation of the identifiers that name a user's request."""

from __future__ import annotations

import os

from .errors import InvalidContextError

# Values that upstream code produces when an id was never set: str(None), JSON null, JS undefined.
PLACEHOLDER_IDS = frozenset({"", "none", "null", "undefined", "nil"})

# Ids are 128 random bits from the OS in hex: as unique as a uuid4's 122 random bits, at a
# quarter of the cost (building the uuid.UUID object was most of uuid4().hex's time).


def generate_run_id() -> str:
    """Return a new, unique run id."""
    return "run_" + os.urandom(16).hex()


def generate_request_id() -> str:
    """Return a new, unique request id."""
    return "req_" + os.urandom(16).hex()


def generate_run_and_request_ids() -> tuple[str, str]:
    """Return a new run id and a new request id, from one read of the OS's random source."""
    entropy = os.urandom(32).hex()
    return "run_" + entropy[:32], "req_" + entropy[32:]


def is_placeholder_id(value: str) -> bool:
    """Tell whether a string is empty, blank or a stand-in for a missing value."""
    return value.strip().lower() in PLACEHOLDER_IDS


def require_id(field_name: str, value: object) -> str:
    """Return ``value`` if it is a usable identifier, else raise InvalidContextError."""
    if not isinstance(value, str):
        raise InvalidContextError(
            f"{field_name} must be a string identifier, got {type(value).__name__} {value!r}"
        )
    if is_placeholder_id(value):
        raise InvalidContextError(
            f"{field_name} must be a real identifier, got placeholder {value!r}; "
            f"pass the id from the request instead of a default"
        )
    return value
