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


def interpret(text: str, user_id: int) -> Reply | ToOthers | None:
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
    return None


def too_big(message: dict) -> bool:
    text = message.get("text")
    size = len(text.encode("utf-8", "surrogatepass")) if text is not None else len(message.get("bytes") or b"")
    return size > MAX_FRAME_BYTES
