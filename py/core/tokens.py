"""The session's JWT pair: where it is kept, when it is stale, how it is refreshed.

Theory of operation
-------------------
The access and refresh tokens live in a ``TokenStore`` (``localStorage`` in the
browser, a dict in tests) under the keys ``"access_token"`` and
``"refresh_token"``. ``TokenManager.get_access_token()`` hands out the stored
access token while it is fresh; otherwise it refreshes first (AC-3, AC-4).

Fresh means more than a margin of its life is left. The margin follows the token's
lifetime (``exp - iat``): a tenth of it, at most ``margin`` (30 s), so a 6 s token is
refreshed in its last 0.6 s and a one-hour token in its last 30 s (a fixed 30 s made
every token shorter than that stale on arrival: one refresh per API call). A token this
manager received itself (login, refresh) is judged by this clock since it arrived, not
against ``exp``: a client clock that runs ahead of the server's cannot make a brand-new
token look stale. A token found in storage (after a reload) is judged by ``exp`` against
the clock, with the same lifetime-based margin.

All callers that need a refresh at the same moment share ONE refresh call: the
first starts it as a task, the others await that same task. A refresh that the
server rejects (``AuthFailed``) ends the session: both tokens are removed,
``on_session_end`` is called once and ``SessionExpired`` is raised. Any other
failure of the refresh call (network down, server error) propagates unchanged
and leaves the tokens in place, so that a network flap does not log anyone out.

Tokens are secrets: nothing here logs or formats them into messages.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
from typing import Any, Awaitable, Callable, Optional, Protocol

ACCESS_KEY = "access_token"
REFRESH_KEY = "refresh_token"


class AuthFailed(Exception):
    """The server refused a token (401) or answered a refresh with nonsense."""


class SessionExpired(Exception):
    """The session is over: the user must log in again."""


class TokenStore(Protocol):
    def get(self, name: str) -> Optional[str]: ...

    def set(self, name: str, value: str) -> None: ...

    def remove(self, name: str) -> None: ...


class MemoryTokenStore:
    """A dict-backed ``TokenStore`` (tests, or a browser without storage)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> Optional[str]:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def remove(self, name: str) -> None:
        self.values.pop(name, None)


MARGIN_SHARE = 0.1  # a token is refreshed in the last tenth of its life...
DEFAULT_MARGIN = 30.0  # ...or its last 30 s, whichever is shorter


def jwt_exp(token: Any) -> Optional[float]:
    """The ``exp`` claim of a JWT as seconds since the epoch, or None.

    Reads the payload only (no signature check: the server does that). Never
    raises, whatever ``token`` is.
    """
    return _time_claim(token, "exp")


def jwt_lifetime(token: Any) -> Optional[float]:
    """``exp - iat`` in seconds, or None when either is missing or it is not positive."""
    exp, iat = _time_claim(token, "exp"), _time_claim(token, "iat")
    if exp is None or iat is None or exp <= iat:
        return None
    return exp - iat


def _time_claim(token: Any, name: str) -> Optional[float]:
    if not isinstance(token, str) or len(token) > 16384:
        return None
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return None
    payload_b64 = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4))
        payload = json.loads(raw.decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


RefreshCall = Callable[[str], Awaitable[dict]]


class TokenManager:
    """Hands out a fresh access token, refreshing it at most once at a time.

        tokens = TokenManager(store, refresh_call, clock=time.time,
                              on_session_end=show_login)
        tokens.set_tokens(answer["access"], answer["refresh"])
        access = await tokens.get_access_token()   # refreshes when stale

    ``refresh_call(refresh_token)`` is an async function returning the refresh
    answer ``{"access": ..., "refresh"?: ...}``; it raises ``AuthFailed`` when
    the server rejects the refresh token. ``on_session_end()`` is a plain
    callable, called once each time a session ends against the user's will
    (failed refresh, rejected retry); ``clear()`` (a deliberate logout) does
    not call it.
    """

    def __init__(
        self,
        store: TokenStore,
        refresh_call: RefreshCall,
        clock: Callable[[], float],
        on_session_end: Optional[Callable[[], Any]] = None,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        self._store = store
        self._refresh_call = refresh_call
        self._clock = clock
        self._on_session_end = on_session_end
        self._margin = margin
        self._inflight: Optional[asyncio.Future] = None
        # Bumped by set_tokens/clear so a refresh that was in flight across a
        # logout or a new login cannot write stale tokens back.
        self._generation = 0
        self._session_ended = False
        # The access token this manager last received, and this clock's time then.
        self._received: Optional[tuple] = None

    # --- the stored pair -------------------------------------------------

    def set_tokens(self, access: str, refresh: Optional[str] = None) -> None:
        """Store a new pair (after login). ``refresh=None`` keeps the old one."""
        self._generation += 1
        self._session_ended = False
        self._store.set(ACCESS_KEY, access)
        self._note_received(access)
        if refresh is not None:
            self._store.set(REFRESH_KEY, refresh)

    def clear(self) -> Optional[str]:
        """Forget both tokens (logout). Does not call ``on_session_end``.

        Returns the refresh token it forgot (None if there was none), for the caller to ask
        the server to revoke it.
        """
        self._generation += 1
        self._received = None
        refresh = self._store.get(REFRESH_KEY)
        self._store.remove(ACCESS_KEY)
        self._store.remove(REFRESH_KEY)
        return refresh if isinstance(refresh, str) and refresh else None

    def has_session(self) -> bool:
        """True while any token is stored (a refresh may still revive it)."""
        return bool(self._store.get(ACCESS_KEY)) or bool(self._store.get(REFRESH_KEY))

    def margin_for(self, access: Optional[str]) -> float:
        """How long before its end a token counts as stale: a tenth of its life, at most ``margin``."""
        lifetime = jwt_lifetime(access)
        if lifetime is None:
            return self._margin
        return min(self._margin, lifetime * MARGIN_SHARE)

    def is_fresh(self, access: Optional[str]) -> bool:
        """True when more than its margin of ``access``'s life is left (see the module docstring)."""
        exp = jwt_exp(access)
        if exp is None:
            return False
        now = self._clock()
        margin = self.margin_for(access)
        if self._received is not None and self._received[0] == access:
            lifetime = jwt_lifetime(access)
            if lifetime is not None:
                # Judged by this clock since it arrived: immune to a skewed clock.
                return now - self._received[1] < lifetime - margin
        return exp - now > margin

    def _note_received(self, access: str) -> None:
        self._received = (access, self._clock())

    def end_session(self) -> None:
        """The server will not have us: drop the tokens, tell the app once."""
        self.clear()
        if not self._session_ended:
            self._session_ended = True
            if self._on_session_end is not None:
                self._on_session_end()

    # --- handing out access tokens ---------------------------------------

    async def get_access_token(self, force_refresh: bool = False) -> str:
        """The stored access token if fresh, else a refreshed one (AC-4).

        Raises ``SessionExpired`` when there is no session or the refresh is
        rejected; other refresh failures (e.g. the network) propagate as is.
        """
        if not force_refresh:
            access = self._store.get(ACCESS_KEY)
            if access and self.is_fresh(access):
                return access
        return await self._shared_refresh()

    async def token_after_rejection(self, rejected: str) -> str:
        """A new access token after the server answered 401 to ``rejected``.

        Refreshes unless another caller already replaced the rejected token,
        so N requests failing together with the same token cause one refresh.
        """
        access = self._store.get(ACCESS_KEY)
        if access and access != rejected:
            return access
        return await self._shared_refresh()

    async def _shared_refresh(self) -> str:
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._run_refresh(self._generation))
        # shield: one caller being cancelled must not cancel everyone's refresh.
        return await asyncio.shield(self._inflight)

    async def _run_refresh(self, generation: int) -> str:
        try:
            return await self._refresh_once(generation)
        finally:
            self._inflight = None

    async def _refresh_once(self, generation: int) -> str:
        # ``generation`` is the one current when the refresh was asked for.
        if generation != self._generation:
            return self._current_or_expired()
        refresh = self._store.get(REFRESH_KEY)
        if not refresh:
            self.end_session()
            raise SessionExpired("no refresh token")
        try:
            answer = await self._refresh_call(refresh)
        except AuthFailed:
            if generation == self._generation:
                self.end_session()
            raise SessionExpired("refresh rejected") from None
        if generation != self._generation:
            return self._current_or_expired()
        access = answer.get("access") if isinstance(answer, dict) else None
        if not isinstance(access, str) or not access:
            self.end_session()
            raise SessionExpired("refresh answer carried no access token")
        rotated = answer.get("refresh")
        self._store.set(ACCESS_KEY, access)
        self._note_received(access)
        if isinstance(rotated, str) and rotated:
            self._store.set(REFRESH_KEY, rotated)
        return access

    def _current_or_expired(self) -> str:
        # A logout or a new login happened while the refresh was pending;
        # theirs wins and the refresh answer (if any) is dropped.
        current = self._store.get(ACCESS_KEY)
        if current:
            return current
        raise SessionExpired("logged out during refresh")
