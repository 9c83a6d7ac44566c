"""Device tokens: proof that this browser logged into this account before (OWASP's
"device cookies"), so the real user can still log in while the account is locked out for
everyone else (`server.login_limits`).

A token is `<user id>.<device id>.<issued at>.<signature>`, the signature an HMAC-SHA256
of the rest under a key derived from the server's secret (every worker derives the same).
It is not a credential: the password is still needed; it only chooses the counters and
the hashing lane of that account's login. The server sets it after a successful login as an
HttpOnly, SameSite=Strict cookie scoped to the login path, one cookie per account (a
shared computer keeps one per person), so the client needs no code for it: a browser
sends it by itself, a client that does not is simply an unknown device.

Pure: the secret and `now` are inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

COOKIE_PREFIX = "coachline_device_"
COOKIE_PATH = "/api/auth/jwt/create/"
_TOKEN = re.compile(r"([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{16,43})\.([0-9]{1,12})\.([0-9a-f]{64})")


@dataclass(frozen=True)
class DeviceTokens:
    secret: str
    ttl: float  # seconds a device stays known after its last successful login

    def issue(self, user_id: int, now: float, device_id: str | None = None) -> str:
        """A token for `user_id`; given the `device_id` of an earlier one, that device renewed."""
        device_id = device_id or secrets.token_urlsafe(16)
        body = f"{int(user_id)}.{device_id}.{int(now)}"
        return f"{body}.{self._sign(body)}"

    def device_of(self, token: str | None, user_id: int, now: float) -> str | None:
        """The device id of a valid, unexpired token of `user_id`, else None."""
        match = _TOKEN.fullmatch(token or "")
        if match is None:
            return None
        uid, device_id, issued, signature = match.groups()
        if not hmac.compare_digest(signature, self._sign(f"{uid}.{device_id}.{issued}")):
            return None
        if int(uid) != user_id or not now - self.ttl < int(issued) <= now + 60:  # a minute of clock skew
            return None
        return device_id

    @staticmethod
    def cookie_name(user_id: int) -> str:
        return f"{COOKIE_PREFIX}{int(user_id)}"

    def _sign(self, body: str) -> str:
        key = hashlib.sha256(b"device-token\x00" + self.secret.encode()).digest()
        return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
