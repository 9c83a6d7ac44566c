"""Validators for the CONTRACT.md shapes (User, Message, Conversation).

Everything that comes off the wire (REST bodies, WebSocket frames) passes through here
before any other module sees it. Each parser returns a fresh, cleaned dict holding only the
known fields with the right types, or None when the object is not that shape. They never
raise, whatever they are given.

Type rules:
- an int is an `int` and not a `bool` (`True` is an int in Python; it is not an id);
- a string is a `str`;
- `image` / `profile_image` are kept only when they are a URL the contract allows
  (absolute http(s) or root-relative, CONTRACT.md "An image URL is absolute or root-relative;
  anything else is not an image"); anything else becomes None;
- nullable fields of the wrong type become None; a required field of the wrong type makes
  the whole object invalid.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

__all__ = ["parse_user", "parse_message", "parse_conversation", "is_int", "image_url_or_none"]


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def image_url_or_none(value: Any) -> Optional[str]:
    """The value when it is an absolute http(s) or root-relative URL, else None."""
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    if lowered.startswith(("http://", "https://", "/")) and lowered not in ("http://", "https://", "/"):
        return value.strip()
    return None


def _never_raises(parse: Callable[[Any], Optional[Dict[str, Any]]]) -> Callable[[Any], Optional[Dict[str, Any]]]:
    # A hostile object (a dict subclass whose .get raises, say) must read as "not valid",
    # never as an exception in the middle of a render or a socket handler.
    def guarded(obj: Any) -> Optional[Dict[str, Any]]:
        try:
            return parse(obj)
        except Exception:
            return None

    guarded.__name__ = parse.__name__
    guarded.__doc__ = parse.__doc__
    return guarded


@_never_raises
def parse_user(obj: Any) -> Optional[Dict[str, Any]]:
    """User {id, first_name, last_name, profile_image}; also `email` and `role` (users/me) when str."""
    if not isinstance(obj, dict):
        return None
    user_id, first, last = obj.get("id"), obj.get("first_name"), obj.get("last_name")
    if not is_int(user_id) or not isinstance(first, str) or not isinstance(last, str):
        return None
    user: Dict[str, Any] = {
        "id": user_id,
        "first_name": first,
        "last_name": last,
        "profile_image": image_url_or_none(obj.get("profile_image")),
    }
    for optional in ("email", "role"):
        if isinstance(obj.get(optional), str):
            user[optional] = obj[optional]
    return user


@_never_raises
def parse_message(obj: Any) -> Optional[Dict[str, Any]]:
    """Message {id, conversation_id, sender, content, image, is_read, read_at, created_at}.

    `content` null reads as "" (an image-only message); a missing `is_read` reads as False.
    `client_message_id` (not in the contract's shape, echoed by serve.py) is kept when str.
    `edited_at` is kept when a str and `deleted` when true (CONTRACT "Edit and delete own
    messages"); a deleted message shows no text and no image, whatever else it carries.
    """
    if not isinstance(obj, dict):
        return None
    message_id, conversation_id = obj.get("id"), obj.get("conversation_id")
    sender = parse_user(obj.get("sender"))
    content = obj.get("content")
    content = "" if content is None else content
    is_read = obj.get("is_read", False)
    created_at = obj.get("created_at")
    if not (is_int(message_id) and is_int(conversation_id) and sender is not None
            and isinstance(content, str) and isinstance(is_read, bool) and isinstance(created_at, str)):
        return None
    message: Dict[str, Any] = {
        "id": message_id,
        "conversation_id": conversation_id,
        "sender": sender,
        "content": content,
        "image": image_url_or_none(obj.get("image")),
        "is_read": is_read,
        "read_at": _str_or_none(obj.get("read_at")),
        "created_at": created_at,
    }
    if isinstance(obj.get("client_message_id"), str):
        message["client_message_id"] = obj["client_message_id"]
    if isinstance(obj.get("edited_at"), str):
        message["edited_at"] = obj["edited_at"]
    if obj.get("deleted") is True:
        message.update(deleted=True, content="", image=None)
    return message


@_never_raises
def parse_conversation(obj: Any) -> Optional[Dict[str, Any]]:
    """Conversation {id, trainer, trainee, last_message_at, last_message_preview, unread_count,
    is_archived, created_at}.

    A missing `unread_count` reads as 0 (a negative one is clamped to 0), a missing
    `is_archived` as False, a missing or non-str `created_at` as None.
    """
    if not isinstance(obj, dict):
        return None
    conversation_id = obj.get("id")
    trainer, trainee = parse_user(obj.get("trainer")), parse_user(obj.get("trainee"))
    unread = obj.get("unread_count", 0)
    archived = obj.get("is_archived", False)
    if not (is_int(conversation_id) and trainer is not None and trainee is not None
            and is_int(unread) and isinstance(archived, bool)):
        return None
    return {
        "id": conversation_id,
        "trainer": trainer,
        "trainee": trainee,
        "last_message_at": _str_or_none(obj.get("last_message_at")),
        "last_message_preview": _str_or_none(obj.get("last_message_preview")),
        "unread_count": max(0, unread),
        "is_archived": archived,
        "created_at": _str_or_none(obj.get("created_at")),
    }
