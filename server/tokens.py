"""SimpleJWT-style tokens: HS256 JWTs with token_type, user_id, exp, iat, jti and sid claims.

`sid` names the server-side session (one per login, see `server.sessions`): every token of a
session, access and refresh, ends when the session is revoked or reaches its absolute end.

Time is an input (`clock`), so expiry is checked against it rather than the wall clock
PyJWT would use. `iat` keeps sub-second precision so that `revoke_access_before(now)`
(the expire_tokens fault) invalidates exactly the tokens issued up to that instant.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt

ACCESS = "access"
REFRESH = "refresh"


class TokenError(Exception):
    """The token cannot be used; `str(error)` is safe to show (it never contains the token)."""


@dataclass
class TokenService:
    secret: str
    clock: Callable[[], float]
    access_ttl: float = 300
    refresh_ttl: float = 86400
    access_not_before: float = float("-inf")

    def issue(self, user_id: int, token_type: str, session_id: str, ends_at: float = math.inf, *,
              now: float | None = None, jti: str | None = None) -> tuple[str, dict]:
        """(token, its claims); `exp` is never after `ends_at` (the session's absolute end).
        Given `now` and `jti`, the same token every time (HS256 signs deterministically)."""
        now = self.clock() if now is None else now
        ttl = self.access_ttl if token_type == ACCESS else self.refresh_ttl
        claims = {
            "token_type": token_type,
            "user_id": user_id,
            # never earlier than asked (a short TTL is not already over), never past the session
            "exp": min(math.ceil(now + ttl), math.floor(ends_at)) if ends_at < math.inf else math.ceil(now + ttl),
            "iat": now,
            "jti": jti or uuid.uuid4().hex,
            "sid": session_id,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256"), claims

    def claims(self, token: object, token_type: str) -> dict:
        """The verified claims of `token`, or TokenError when it is not a live `token_type` token."""
        if not isinstance(token, str) or not token:
            raise TokenError("Token is invalid")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False,
                         "require": ["exp", "iat", "jti", "token_type", "user_id", "sid"]},
            )
        except jwt.InvalidTokenError:
            raise TokenError("Token is invalid") from None
        if claims["token_type"] != token_type:
            raise TokenError("Token has wrong type")
        if (not isinstance(claims["user_id"], int) or not isinstance(claims["exp"], (int, float))
                or not isinstance(claims["sid"], str) or not isinstance(claims["jti"], str)):
            raise TokenError("Token is invalid")
        if claims["exp"] <= self.clock():
            raise TokenError("Token is expired")
        if token_type == ACCESS and not claims["iat"] > self.access_not_before:
            raise TokenError("Token is expired")
        return claims

    def derived_jti(self, parent_jti: str, token_type: str) -> str:
        """The jti of the `token_type` token that the rotation of `parent_jti` issues: the
        same on every replay of that rotation, unguessable without the secret."""
        return hmac.new(self.secret.encode(), f"{token_type}:{parent_jti}".encode(), hashlib.sha256).hexdigest()[:32]

    def revoke_access_before(self, instant: float) -> None:
        """Every access token issued up to `instant` stops working; refresh tokens are untouched."""
        self.access_not_before = instant
