"""A JWT verifier built on PyJWT (an extra: ``migrator-codemod[runtime]``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import jwt

from .auth import Principal
from .errors import ExpiredTokenError, InvalidContextError, TokenError


@dataclasses.dataclass(frozen=True)
class JWTVerifier:
    """Accepts a JWT signed with ``key`` that carries ``sub`` (the user) and ``exp``.

    ``audience`` and ``issuer``, when set, must match the token's ``aud`` and ``iss``.
    Algorithms are pinned, so a token cannot choose ``none`` or switch HMAC for RSA.
    """

    key: Any
    algorithms: Sequence[str] = ("HS256",)
    audience: str | None = None
    issuer: str | None = None
    leeway: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.key, (str, bytes)) and any(a.startswith("HS") for a in self.algorithms) \
                and len(self.key) < 32:
            raise ValueError("an HMAC key for JWTs must be at least 32 bytes long")
        if "none" in (a.lower() for a in self.algorithms):
            raise ValueError("the 'none' algorithm cannot be allowed")

    def __call__(self, token: str) -> Principal:
        """Return the principal of a valid token, or raise TokenError saying why not."""
        try:
            claims = jwt.decode(
                token, self.key, algorithms=list(self.algorithms), audience=self.audience,
                issuer=self.issuer, leeway=self.leeway,
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise ExpiredTokenError("token has expired; request a new one") from None
        except jwt.InvalidTokenError as error:
            raise TokenError(f"invalid token: {error}") from None
        try:
            return Principal(claims["sub"], float(claims["exp"]))
        except InvalidContextError as error:
            raise TokenError(f"invalid token subject: {error}") from None

    def issue(self, user_id: str, ttl_seconds: float, **claims: Any) -> str:
        """Return a token for ``user_id``; for the demo and tests, the host's IdP issues real ones."""
        now = time.time()
        payload = {"sub": user_id, "iat": int(now), "exp": now + ttl_seconds, **claims}
        if self.audience is not None:
            payload.setdefault("aud", self.audience)
        if self.issuer is not None:
            payload.setdefault("iss", self.issuer)
        return jwt.encode(payload, self.key, algorithm=self.algorithms[0])
