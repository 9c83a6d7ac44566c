"""Server-side sessions: refresh-token rotation with reuse detection, an absolute lifetime,
and revocation (logout).

Theory of operation: a login opens a session (a row in `sessions`) and issues an access and
a refresh token that both carry its id (`sid`). Each refresh token is recorded by its `jti`.
A refresh marks its token used and issues a new pair in the same session (the rotation
family). Presenting a used refresh token again means it was copied: the whole session is
revoked (RFC 9700 section 4.14.2's reuse detection) and the answer is 401. One exception: a
reuse within `reuse_grace` seconds of the rotation gets the same pair that rotation issued,
because two tabs of one browser share one stored token and may refresh at the same moment.
That pair is derived again, not stored: its jtis are an HMAC of the used token's jti and it
is issued at the recorded `used_at` (`TokenService.derived_jti`), so a replay is idempotent
and never a second branch of the session that reuse detection would not see.

A session rotates at most `refresh_limit` times per `refresh_window` seconds (counted on
the database's `used_at`, so on every worker); more is `RefreshLimited` (429).

Rows are pruned, and reuse detection does not need them: a rotation deletes its session's
rows used more than `keep_used` seconds ago (past the grace and the rate window, plus a
minute for clocks of other workers), and revoking a session deletes all of its rows. A
refresh token is recorded before it is handed out, so a validly signed refresh token of a
live session whose row is gone was used and pruned: that is a reuse too, and revokes the
session. (Rows that expire with their tokens go at the next login.) A session thus keeps
about `refresh_limit` + 1 rows, not one per rotation for 24 h.

Every token of a session stops working when the session is revoked (logout, reuse) or
reaches its absolute end (`session_ttl` after the login), whatever the tokens' own `exp`:
refreshing can no longer keep a session alive forever.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from server.data.store import Store
from server.tokens import ACCESS, REFRESH, TokenError, TokenService


class ReuseDetected(TokenError):
    """A used refresh token came back: its session (`session_id`) is now revoked."""

    def __init__(self, session_id: str) -> None:
        super().__init__("Token is blacklisted")
        self.session_id = session_id


class RefreshLimited(TokenError):
    """Too many rotations of one session: try again in `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__("Too many refreshes")
        self.wait = wait


DEFAULT_SESSION_TTL = 7 * 86400
DEFAULT_REUSE_GRACE = 10.0
DEFAULT_REFRESH_LIMIT = 10  # rotations of one session
DEFAULT_REFRESH_WINDOW = 60.0  # per this many seconds


@dataclass
class Sessions:
    store: Store
    tokens: TokenService
    session_ttl: float = DEFAULT_SESSION_TTL
    reuse_grace: float = DEFAULT_REUSE_GRACE
    refresh_limit: int = DEFAULT_REFRESH_LIMIT
    refresh_window: float = DEFAULT_REFRESH_WINDOW

    async def open(self, user_id: int) -> dict[str, str]:
        """A new session for `user_id`: its first {"access", "refresh"}."""
        now = self.tokens.clock()
        await self.store.forget_expired_sessions(now)
        session_id = secrets.token_urlsafe(16)
        ends_at = now + self.session_ttl
        await self.store.create_session(session_id, user_id, now, ends_at)
        return await self._pair(user_id, session_id, ends_at)

    async def claims(self, token: object, token_type: str) -> dict:
        """Verified claims of a token whose session is still live and whose user is not
        disabled (`serve.py users disable`), else TokenError: REST, refresh, logout and the
        sockets all come through here."""
        claims = self.tokens.claims(token, token_type)
        session = await self.store.session(claims["sid"])
        if (session is None or session["revoked_at"] is not None or session["user_id"] != claims["user_id"]
                or session["expires_at"] <= self.tokens.clock() or session["user_disabled_at"] is not None):
            raise TokenError("Token is blacklisted")
        return claims

    async def rotate(self, refresh: object) -> dict[str, str]:
        """The successor pair of a live refresh token: new for an unused one, the same again
        for one used within the grace; a reuse after it revokes the session."""
        claims = await self.claims(refresh, REFRESH)
        now = self.tokens.clock()
        record = await self.store.refresh_token(claims["jti"])
        if record is None:  # used, then pruned (see the module's docstring)
            await self.store.revoke_session(claims["sid"], now)
            raise ReuseDetected(claims["sid"])
        if record["session_id"] != claims["sid"]:
            raise TokenError("Token is blacklisted")
        used_at = record["used_at"]
        if used_at is None:
            await self._check_rate(claims["sid"], now)
            if await self.store.use_refresh_token(claims["jti"], now):
                used_at = now
                await self.store.forget_used_refresh_tokens(claims["sid"], now - self.keep_used)
            else:  # used meanwhile (another tab, another worker)
                used_at = (await self.store.refresh_token(claims["jti"]))["used_at"]
        if now - used_at > self.reuse_grace:
            await self.store.revoke_session(claims["sid"], now)
            raise ReuseDetected(claims["sid"])
        session = await self.store.session(claims["sid"])
        return await self._pair(claims["user_id"], claims["sid"], session["expires_at"], at=used_at,
                                parent=claims["jti"])

    @property
    def keep_used(self) -> float:
        """Seconds a used refresh row is kept: the grace needs its `used_at` (to answer the
        same pair), the rate counts it; a minute more for other workers' clocks."""
        return max(self.reuse_grace, self.refresh_window) + 60.0

    async def _check_rate(self, session_id: str, now: float) -> None:
        count, first = await self.store.rotations_since(session_id, now - self.refresh_window)
        if count >= self.refresh_limit:
            raise RefreshLimited(max(0.0, first + self.refresh_window - now))

    async def revoke(self, refresh: object) -> str:
        """Logout: the session of this refresh token ends now. Returns the session id."""
        claims = await self.claims(refresh, REFRESH)
        await self.store.revoke_session(claims["sid"], self.tokens.clock())
        return claims["sid"]

    async def _pair(self, user_id: int, session_id: str, ends_at: float, *, at: float | None = None,
                    parent: str | None = None) -> dict[str, str]:
        """A new pair; with `parent` (the rotated token's jti) and `at` (its use), the one
        pair that rotation issues, however often it is asked for."""
        def jti(token_type: str) -> str | None:
            return self.tokens.derived_jti(parent, token_type) if parent is not None else None

        access, _ = self.tokens.issue(user_id, ACCESS, session_id, ends_at, now=at, jti=jti(ACCESS))
        refresh, refresh_claims = self.tokens.issue(user_id, REFRESH, session_id, ends_at, now=at, jti=jti(REFRESH))
        await self.store.add_refresh_token(refresh_claims["jti"], session_id, refresh_claims["exp"])
        return {"access": access, "refresh": refresh}
