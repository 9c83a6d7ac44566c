"""Server-side sessions: refresh-token rotation with reuse detection, an absolute lifetime,
and revocation (logout).

Theory of operation: a login opens a session (a row in `sessions`) and issues an access and
a refresh token that both carry its id (`sid`). Each refresh token is recorded by its `jti`.
A refresh marks its token used and issues a new pair in the same session (the rotation
family). Presenting a used refresh token again means it was copied: the whole session is
revoked (RFC 9700 section 4.14.2's reuse detection) and the answer is 401. One exception: a
reuse within `reuse_grace` seconds of the rotation gets a fresh pair, because two tabs of
one browser share one stored token and may refresh at the same moment.

Every token of a session stops working when the session is revoked (logout, reuse) or
reaches its absolute end (`session_ttl` after the login), whatever the tokens' own `exp`:
refreshing can no longer keep a session alive forever.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from server.store import Store
from server.tokens import ACCESS, REFRESH, TokenError, TokenService


class ReuseDetected(TokenError):
    """A used refresh token came back: its session (`session_id`) is now revoked."""

    def __init__(self, session_id: str) -> None:
        super().__init__("Token is blacklisted")
        self.session_id = session_id

DEFAULT_SESSION_TTL = 7 * 86400
DEFAULT_REUSE_GRACE = 10.0


@dataclass
class Sessions:
    store: Store
    tokens: TokenService
    session_ttl: float = DEFAULT_SESSION_TTL
    reuse_grace: float = DEFAULT_REUSE_GRACE

    async def open(self, user_id: int) -> dict[str, str]:
        """A new session for `user_id`: its first {"access", "refresh"}."""
        now = self.tokens.clock()
        await self.store.forget_expired_sessions(now)
        session_id = secrets.token_urlsafe(16)
        ends_at = now + self.session_ttl
        await self.store.create_session(session_id, user_id, now, ends_at)
        return await self._pair(user_id, session_id, ends_at)

    async def claims(self, token: object, token_type: str) -> dict:
        """Verified claims of a token whose session is still live, else TokenError."""
        claims = self.tokens.claims(token, token_type)
        session = await self.store.session(claims["sid"])
        if (session is None or session["revoked_at"] is not None or session["user_id"] != claims["user_id"]
                or session["expires_at"] <= self.tokens.clock()):
            raise TokenError("Token is blacklisted")
        return claims

    async def rotate(self, refresh: object) -> dict[str, str]:
        """A new pair for a live, unused refresh token; a reused one revokes its session."""
        claims = await self.claims(refresh, REFRESH)
        now = self.tokens.clock()
        record = await self.store.refresh_token(claims["jti"])
        if record is None or record["session_id"] != claims["sid"]:
            raise TokenError("Token is blacklisted")
        if not await self.store.use_refresh_token(claims["jti"], now):
            used_at = (await self.store.refresh_token(claims["jti"]))["used_at"]
            if now - used_at > self.reuse_grace:
                await self.store.revoke_session(claims["sid"], now)
                raise ReuseDetected(claims["sid"])
        session = await self.store.session(claims["sid"])
        return await self._pair(claims["user_id"], claims["sid"], session["expires_at"])

    async def revoke(self, refresh: object) -> str:
        """Logout: the session of this refresh token ends now. Returns the session id."""
        claims = await self.claims(refresh, REFRESH)
        await self.store.revoke_session(claims["sid"], self.tokens.clock())
        return claims["sid"]

    async def _pair(self, user_id: int, session_id: str, ends_at: float) -> dict[str, str]:
        access, _ = self.tokens.issue(user_id, ACCESS, session_id, ends_at)
        refresh, refresh_claims = self.tokens.issue(user_id, REFRESH, session_id, ends_at)
        await self.store.add_refresh_token(refresh_claims["jti"], session_id, refresh_claims["exp"])
        return {"access": access, "refresh": refresh}
