"""Paths, socket timings and close codes, each with the rule behind it.

Paths are small builder functions so that no module glues URL strings together by hand:
api_client.py builds every REST URL from them, and `ws_messaging_url` is THE one place that
builds the WebSocket URL (AC-2). Other timings live with the one rule that uses them:
polling paces in polling.py, typing in typing_signals.py, the banner's grace in banner.py,
the mark-read interval in read_marker.py.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

# ---------------------------------------------------------------------------
# REST paths (CONTRACT.md "Auth" and "Messaging REST"); all root-relative.
# ---------------------------------------------------------------------------


def auth_create_path() -> str:
    return "/api/auth/jwt/create/"


def auth_refresh_path() -> str:
    return "/api/auth/jwt/refresh/"


def auth_blacklist_path() -> str:
    return "/api/auth/jwt/blacklist/"


def auth_me_path() -> str:
    return "/api/auth/users/me/"


def conversations_path() -> str:
    return "/api/messaging/conversations/"


def _conversation_id(conversation_id: int) -> int:
    # A bool is an int in Python; "/conversations/True/" is never what anyone meant.
    if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
        raise TypeError("conversation_id must be an int")
    if conversation_id < 0:
        raise ValueError("conversation_id must not be negative")
    return conversation_id


def messages_path(conversation_id: int) -> str:
    """`.../messages/`; its `limit`, `before` and `after` query is the API client's."""
    return f"/api/messaging/conversations/{_conversation_id(conversation_id)}/messages/"


def send_path(conversation_id: int) -> str:
    return f"/api/messaging/conversations/{_conversation_id(conversation_id)}/send/"


def read_path(conversation_id: int) -> str:
    return f"/api/messaging/conversations/{_conversation_id(conversation_id)}/read/"


def unread_count_path() -> str:
    return "/api/messaging/unread-count/"


def capabilities_path() -> str:
    """CONTRACT "Optional features": which optional calls this backend offers."""
    return "/api/messaging/capabilities/"


def message_path(message_id: int) -> str:
    """One message, for an edit (PATCH) or a delete (DELETE): CONTRACT "Edit and delete"."""
    return f"/api/messaging/messages/{_conversation_id(message_id)}/"


def saved_replies_path(reply_id: Optional[int] = None) -> str:
    """CONTRACT "Saved replies": the list (GET, POST), or one (PATCH, DELETE)."""
    if reply_id is None:
        return "/api/messaging/saved-replies/"
    return f"/api/messaging/saved-replies/{_conversation_id(reply_id)}/"


def search_path() -> str:
    """CONTRACT "Search"; its query is the API client's."""
    return "/api/messaging/search/"


def ws_messaging_path(conversation_id: int) -> str:
    return f"/ws/messaging/{_conversation_id(conversation_id)}/"


def ws_inbox_path() -> str:
    """CONTRACT "Inbox socket" (optional): every conversation of the user on one socket."""
    return "/ws/inbox/"


# ---------------------------------------------------------------------------
# Where the backend is (CONTRACT.md "config.json": empty means the page's own origin).
# ---------------------------------------------------------------------------


def api_url(api_base: str, path: str) -> str:
    """`api_base` "" keeps `path` root-relative (same origin); otherwise joins without a double slash."""
    base = (api_base or "").strip().rstrip("/")
    return base + path


_WS_SCHEME_FOR = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


def _ws_origin(ws_base: str, page_protocol: str, page_host: str) -> str:
    page_scheme = "wss" if (page_protocol or "").strip().lower().rstrip(":") == "https" else "ws"
    base = (ws_base or "").strip().rstrip("/")
    if not base:
        return f"{page_scheme}://{page_host}"
    if "://" in base:
        scheme, rest = base.split("://", 1)
        ws_scheme = _WS_SCHEME_FOR.get(scheme.lower())
        if ws_scheme is None:
            raise ValueError("ws_base must use ws, wss, http or https")
        return f"{ws_scheme}://{rest}"
    if base.startswith("//"):
        return f"{page_scheme}:{base}"
    return f"{page_scheme}://{base}"


def _with_token(token: str) -> str:
    return f"?token={quote(str(token), safe='')}"


def ws_messaging_url(
    conversation_id: int,
    token: str,
    ws_base: str,
    page_protocol: str,
    page_host: str,
) -> str:
    """The WebSocket URL for one conversation (AC-2, AC-3).

    `ws_base` "" means the page's own origin: ws: under http:, wss: under https:.
    `ws_base` may also be "ws://h:p", "wss://h", "http://h" (-> ws) or "https://h" (-> wss),
    optionally with a path prefix; a bare "h:p" takes its scheme from the page.
    `page_protocol` is `location.protocol` ("https:"; the colon is optional) and `page_host`
    is `location.host` (host plus port). The token is percent-encoded.
    """
    origin = _ws_origin(ws_base, page_protocol, page_host)
    return f"{origin}{ws_messaging_path(conversation_id)}{_with_token(token)}"


def ws_inbox_url(token: Optional[str], ws_base: str, page_protocol: str, page_host: str) -> str:
    """The inbox socket's URL, on the same origin rules as `ws_messaging_url`; token None
    gives the bare URL (core/inbox.py's probe)."""
    query = "" if token is None else _with_token(token)
    return f"{_ws_origin(ws_base, page_protocol, page_host)}{ws_inbox_path()}{query}"


# ---------------------------------------------------------------------------
# WebSocket close codes (CONTRACT.md "WebSocket").
# ---------------------------------------------------------------------------

CLOSE_NORMAL = 1000  # our purposeful close: unmount / conversation switch (SPEC decision 4, AC-10)
CLOSE_AUTH_FAILED = 4001  # server: bad or expired token (edge case 1)
CLOSE_FORBIDDEN = 4003  # server: not a participant / archived / no such conversation
CLOSE_NO_INBOX = 4004  # server: this backend offers no inbox socket (CONTRACT "Inbox socket")
# Ours: the client gave up on a socket (no pong in time, AC-7; or the handshake hung).
# Browsers only let a page close with 1000 or 3000-4999; 4000 is private-use and tells the
# server (and anyone reading its logs) this was not a purposeful goodbye.
CLOSE_CLIENT_TIMEOUT = 4000
# RFC 6455 "service restart": the server stops on purpose (a deploy; serve.py on SIGTERM) and
# another process takes over within seconds, so the page reconnects at once, without backoff
# and without the offline banner, while RESTART_GRACE lasts.
CLOSE_SERVICE_RESTART = 1012

# ---------------------------------------------------------------------------
# Timings, in seconds.
# ---------------------------------------------------------------------------

PING_INTERVAL = 30.0  # AC-7: ping every 30 s
PONG_TIMEOUT = 5.0  # AC-7: no pong within 5 s -> close and reconnect
BACKOFF_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)  # AC-5: 1s, 2s, 4s, 8s, 16s cap
MAX_ATTEMPTS = 5  # AC-5: max 5 attempts before falling back to polling
# Ours: the backoff counter resets only once a link has stayed open this long, so a server
# that accepts and then closes at once cannot drive a tight reconnect loop.
STABLE_AFTER = 5.0
# Ours: after giving up (AC-5) the app polls (AC-9) and quietly retries the socket this often.
FAILED_RETRY_INTERVAL = 60.0
# Ours: a handshake (token + open) that has not finished after this long counts as failed.
CONNECT_TIMEOUT = 10.0
# Ours: after a 1012 the page retries every RESTART_RETRY_DELAY (not 1, 2, 4... s) and shows no
# banner for this long; serve.py stops within 10 s and a new one starts in a few more. Past it,
# the outage is a real one: the usual backoff and the banner (already past its grace).
RESTART_GRACE = 20.0
RESTART_RETRY_DELAY = 0.5
# CONTRACT "Inbox socket": a backend without one is asked again at most this often, quietly.
INBOX_ABSENT_RETRY = 600.0
