"""What a client frame asks for, decided without any socket (CONTRACT "WebSocket").

`interpret(text, user_id)` turns one text frame into at most one action; anything unknown
or malformed yields None and the connection simply carries on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_FRAME_BYTES = 64 * 1024
MESSAGE_TOO_BIG = 1009


@dataclass(frozen=True)
class Reply:
    """Send `event` back on the same connection."""
    event: dict


@dataclass(frozen=True)
class ToOthers:
    """Send `event` to the conversation's connections that do not belong to the sender."""
    event: dict


@dataclass(frozen=True)
class Focus:
    """An inbox socket's page holds this conversation's own socket (None: none), CONTRACT
    "Inbox socket": its new_message and read_receipt may be left out of this inbox."""
    conversation_id: int | None


MAX_ID = 2**63 - 1  # the largest id either database stores


def interpret(text: str, user_id: int) -> Reply | ToOthers | Focus | None:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError, not only JSONDecodeError: an integer over Python's 4,300-digit limit
        # raises a plain ValueError, which used to end the socket's reader (a deaf socket).
        return None
    if not isinstance(frame, dict):
        return None
    kind = frame.get("type")
    if kind == "ping":
        return Reply({"type": "pong"})
    if kind == "typing" and isinstance(frame.get("is_typing"), bool):
        return ToOthers({"type": "typing_indicator", "user_id": user_id, "is_typing": frame["is_typing"]})
    if kind == "focus" and "conversation_id" in frame:
        focus = frame["conversation_id"]
        if focus is None or (type(focus) is int and 0 < focus <= MAX_ID):
            return Focus(focus)
    return None


def too_big(message: dict) -> bool:
    text = message.get("text")
    size = len(text.encode("utf-8", "surrogatepass")) if text is not None else len(message.get("bytes") or b"")
    return size > MAX_FRAME_BYTES


class TypingThrottle:
    """At most one typing relay per `interval` for one socket; what comes in between is
    coalesced into the latest state, relayed when the interval is over (so the last word,
    usually `is_typing: false`, is never lost). Time is an input."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = float("-inf")
        self._pending: dict | None = None

    def offer(self, event: dict, now: float) -> tuple[dict | None, float | None]:
        """(the event to relay now or None, seconds until `flush` is due or None)."""
        if self._pending is None and now - self._last >= self.interval:
            self._last = now
            return event, None
        first = self._pending is None
        self._pending = event
        return None, (max(0.0, self._last + self.interval - now) if first else None)

    def flush(self, now: float) -> dict | None:
        event, self._pending = self._pending, None
        if event is not None:
            self._last = now
        return event
