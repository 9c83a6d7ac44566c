"""Server-to-client WebSocket frames (CONTRACT.md "WebSocket"), parsed and validated.

    >>> classify_server_frame('{"type": "pong"}')
    (Pong(), '')
    >>> classify_server_frame('{"type": "hello"}')
    (None, "unknown frame type 'hello'")

`parse_server_frame` gives the event or None; `classify_server_frame` also says why a frame
was ignored, so the connection machine can debug-log it (edge case 11, error table
"Malformed WebSocket message"). Neither raises, whatever it is given: not JSON, deep nesting,
huge numbers, NaN, a list, bytes, None.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Union

from core.models import is_int, parse_conversation, parse_message

__all__ = [
    "Pong", "NewMessage", "TypingIndicator", "ReadReceipt", "ServerEvent",
    "InboxReadReceipt", "ConversationUpdated", "InboxEvent", "MessageUpdated", "MessageDeleted",
    "parse_server_frame", "classify_server_frame", "classify_inbox_frame", "CARRIED_ELSEWHERE", "typing_frame", "focus_frame", "PING_FRAME",
]

# Client-to-server frames, built in one place.
PING_FRAME = '{"type": "ping"}'


def typing_frame(is_typing: bool) -> str:
    return json.dumps({"type": "typing", "is_typing": bool(is_typing)})


def focus_frame(conversation_id: Optional[int]) -> str:
    """CONTRACT "Inbox socket": the page holds this conversation's own socket (None: none)."""
    return json.dumps({"type": "focus", "conversation_id": conversation_id})


@dataclass(frozen=True)
class Pong:
    pass


@dataclass(frozen=True)
class NewMessage:
    message: Dict[str, Any]  # a models.parse_message() dict


@dataclass(frozen=True)
class TypingIndicator:
    user_id: int
    is_typing: bool


@dataclass(frozen=True)
class ReadReceipt:
    reader_id: int
    read_at: Optional[str]


@dataclass(frozen=True)
class MessageUpdated:
    """CONTRACT "Edit and delete own messages": a message's new text (with `edited_at`)."""

    message: Dict[str, Any]  # a models.parse_message() dict


@dataclass(frozen=True)
class MessageDeleted:
    conversation_id: int
    message_id: int


ServerEvent = Union[Pong, NewMessage, TypingIndicator, ReadReceipt, MessageUpdated, MessageDeleted]


@dataclass(frozen=True)
class InboxReadReceipt:
    """The inbox socket's read_receipt: it names its conversation (CONTRACT "Inbox socket")."""

    conversation_id: int
    reader_id: int
    read_at: Optional[str]


@dataclass(frozen=True)
class ConversationUpdated:
    conversation: Dict[str, Any]  # a models.parse_conversation() dict


InboxEvent = Union[Pong, NewMessage, InboxReadReceipt, ConversationUpdated, MessageUpdated, MessageDeleted]

_Result = Tuple[Optional[ServerEvent], str]


def _short(value: Any) -> str:
    # Only for the debug reason; keeps a hostile 1 MB "type" out of the console.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _from_json(obj: Dict[str, Any], conversation_id: Optional[int]) -> _Result:
    kind = obj.get("type")
    if kind == "pong":
        return Pong(), ""
    if kind == "new_message":
        message = parse_message(obj.get("message"))
        if message is None:
            return None, "new_message without a valid message"
        if conversation_id is not None and message["conversation_id"] != conversation_id:
            return None, "new_message for another conversation"
        return NewMessage(message), ""
    if kind == "typing_indicator":
        user_id, is_typing = obj.get("user_id"), obj.get("is_typing")
        if not is_int(user_id) or not isinstance(is_typing, bool):
            return None, "typing_indicator with a bad user_id or is_typing"
        return TypingIndicator(user_id, is_typing), ""
    if kind == "read_receipt":
        reader_id, read_at = obj.get("reader_id"), obj.get("read_at")
        if not is_int(reader_id):
            return None, "read_receipt with a bad reader_id"
        return ReadReceipt(reader_id, read_at if isinstance(read_at, str) else None), ""
    if kind in ("message_updated", "message_deleted"):
        return _changed_message(kind, obj, conversation_id)
    if isinstance(kind, str):
        return None, f"unknown frame type {_short(kind)}"
    return None, "frame without a string type"


def _changed_message(kind: str, obj: Dict[str, Any], conversation_id: Optional[int]) -> _Result:
    """message_updated / message_deleted, from the chat socket or the inbox (both carry them)."""
    if kind == "message_updated":
        message = parse_message(obj.get("message"))
        if message is None:
            return None, "message_updated without a valid message"
        event: ServerEvent = MessageUpdated(message)
        cid = message["conversation_id"]
    else:
        cid, message_id = obj.get("conversation_id"), obj.get("message_id")
        if not is_int(cid) or not is_int(message_id):
            return None, "message_deleted with a bad conversation_id or message_id"
        event = MessageDeleted(cid, message_id)
    if conversation_id is not None and cid != conversation_id:
        return None, f"{kind} for another conversation"
    return event, ""


MAX_FRAME_DEPTH = 32  # our frames nest 3 deep (frame > message > sender)


def _nested_deeper_than(text: str, limit: int) -> bool:
    """True when brackets outside JSON strings nest deeper than `limit`.

    Cheap for honest frames: the character scan runs only when the text holds more
    brackets than the limit at all.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _load_object(text: Any) -> Tuple[Optional[Dict[str, Any]], str]:
    """The frame's JSON object, or (None, why not)."""
    if not isinstance(text, str):
        return None, f"non-text frame ({type(text).__name__})"
    if _nested_deeper_than(text, MAX_FRAME_DEPTH):
        # Under Pyodide, json.loads of a deeply nested frame overflows the *JavaScript* stack
        # (RangeError) long before Python's RecursionError: refuse it before parsing (edge 11).
        return None, "frame nested too deeply"
    try:
        # NaN / Infinity are not JSON; refusing them keeps them out of every field.
        obj = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return None, "frame nested too deeply"
    except Exception:
        # ValueError covers malformed JSON and ints longer than Python's digit limit.
        return None, "frame is not JSON"
    if not isinstance(obj, dict):
        return None, f"frame is a JSON {type(obj).__name__}, not an object"
    return obj, ""


def classify_server_frame(text: Any, conversation_id: Optional[int] = None) -> _Result:
    """(event, "") for a valid frame, (None, reason) otherwise.

    `conversation_id`, when given, is the conversation this socket belongs to: a
    `new_message` for any other conversation is ignored.
    """
    obj, why = _load_object(text)
    if obj is None:
        return None, why
    try:
        return _from_json(obj, conversation_id)
    except Exception:  # belt and braces: nothing a server sends may break the socket handler
        return None, "frame could not be read"


def _inbox_from_json(obj: Dict[str, Any]) -> Tuple[Optional[InboxEvent], str]:
    kind = obj.get("type")
    if kind == "read_receipt":
        conversation_id, reader_id, read_at = obj.get("conversation_id"), obj.get("reader_id"), obj.get("read_at")
        if not is_int(conversation_id) or not is_int(reader_id):
            return None, "read_receipt with a bad conversation_id or reader_id"
        return InboxReadReceipt(conversation_id, reader_id, read_at if isinstance(read_at, str) else None), ""
    if kind == "conversation_updated":
        conversation = parse_conversation(obj.get("conversation"))
        if conversation is None:
            return None, "conversation_updated without a valid conversation"
        return ConversationUpdated(conversation), ""
    if kind == "typing_indicator":
        return None, "typing_indicator on the inbox socket"
    event, why = _from_json(obj, None)
    return event, why  # pong, new_message (any conversation) or the reason


CARRIED_ELSEWHERE = "new_message of the conversation whose own socket carries it"


def classify_inbox_frame(text: Any, carried: Optional[int] = None) -> Tuple[Optional[InboxEvent], str]:
    """The inbox socket's frames (CONTRACT "Inbox socket"): (event, "") or (None, reason).

    `carried`, when given, is the conversation whose own live socket already brings its new
    messages (the open chat's): the inbox's copy of one is dropped before it is read
    (`CARRIED_ELSEWHERE`), so a burst in the open chat is not parsed twice.
    """
    obj, why = _load_object(text)
    if obj is None:
        return None, why
    try:
        if carried is not None and obj.get("type") == "new_message":
            message = obj.get("message")
            if isinstance(message, dict) and _same_id(message.get("conversation_id"), carried):
                return None, CARRIED_ELSEWHERE
        return _inbox_from_json(obj)
    except Exception:
        return None, "frame could not be read"


def _same_id(value: Any, wanted: int) -> bool:
    return is_int(value) and value == wanted


def parse_server_frame(text: Any, conversation_id: Optional[int] = None) -> Optional[ServerEvent]:
    """The event a frame carries, or None when it is to be ignored."""
    return classify_server_frame(text, conversation_id)[0]
