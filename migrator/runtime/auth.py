"""The authentication hook: the host application decides who a credential belongs to.

A verifier is any callable taking the credential string and returning a ``Principal``
(or an awaitable of one), raising ``TokenError`` to refuse it. ``TokenSigner`` and
``JWTVerifier`` are two ready-made verifiers; a host plugs in its own session or token check.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Union

from .errors import InvalidContextError, TokenError
from .ids import require_id

# The subprotocol a client offers, and the server accepts, for the event stream.
EVENTS_SUBPROTOCOL = "migrator.events.v1"
# A client sends its credential as a second offered subprotocol: "bearer.<token>".
BEARER_PREFIX = "bearer."


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who a credential proves, and until when (seconds since the epoch; None: no expiry)."""

    user_id: str
    expires_at: float | None = None

    def __post_init__(self) -> None:
        require_id("user_id", self.user_id)
        if self.expires_at is not None and not math.isfinite(self.expires_at):
            raise TokenError("token expiry is not a finite time")


Verifier = Callable[[str], Union[Principal, Awaitable[Principal]]]


async def authenticate(verifier: Verifier, credential: str | None) -> Principal:
    """Run the host's verifier on a credential; anything but a Principal is a refusal."""
    if not credential:
        raise TokenError("missing credential")
    try:
        result = verifier(credential)
        if inspect.isawaitable(result):
            result = await result
    except InvalidContextError as error:
        raise TokenError(f"the credential names no usable user: {error}") from None
    if not isinstance(result, Principal):
        raise TokenError(f"the verifier returned {type(result).__name__}, not a Principal")
    return result


def bearer_from_header(value: str | None) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = (value or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def bearer_from_subprotocols(offered: Sequence[str]) -> str | None:
    """Return the token a websocket client offered as a ``bearer.<token>`` subprotocol."""
    for protocol in offered:
        if protocol.startswith(BEARER_PREFIX):
            return protocol[len(BEARER_PREFIX):] or None
    return None


def client_subprotocols(token: str) -> list[str]:
    """The subprotocols a client offers to authenticate with ``token``."""
    return [EVENTS_SUBPROTOCOL, BEARER_PREFIX + token]
