"""Signed, expiring tokens (HMAC-SHA256, standard library only): the demo's verifier."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Callable

from .auth import Principal
from .errors import ExpiredTokenError, TokenError
from .ids import require_id


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclasses.dataclass(frozen=True)
class TokenSigner:
    """Issues and verifies ``payload.signature`` tokens naming a user and an expiry time."""

    secret: bytes
    ttl_seconds: float = 3600.0
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes long")

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self.secret, payload.encode("ascii"), hashlib.sha256).digest()
        return _b64encode(digest)

    def issue(self, user_id: str, ttl_seconds: float | None = None) -> str:
        """Return a token proving ``user_id`` until the expiry time."""
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        claims = {"sub": require_id("user_id", user_id), "exp": self.clock() + ttl}
        payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str | None) -> str:
        """Return the user a token proves, or raise TokenError saying why it is refused."""
        return self.principal(token).user_id

    def __call__(self, token: str) -> Principal:
        """Verify ``token``: a TokenSigner is itself a verifier for create_app."""
        return self.principal(token)

    def principal(self, token: str | None) -> Principal:
        """Return who the token proves and until when, or raise TokenError."""
        if not token:
            raise TokenError("missing token")
        payload, dot, signature = token.partition(".")
        if not dot or not payload or not signature:
            raise TokenError("malformed token")
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise TokenError("token signature does not match")
        try:
            claims = json.loads(_b64decode(payload))
            user_id, expires_at = claims["sub"], float(claims["exp"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise TokenError("malformed token claims") from None
        if self.clock() >= expires_at:
            raise ExpiredTokenError("token has expired; request a new one")
        return Principal(require_id("user_id", user_id), expires_at)
