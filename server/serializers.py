"""The JSON shapes of CONTRACT.md ("Shapes"), built from store rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PHOTO_PREVIEW = "Photo"
# The list keeps the conversation where it was (last_message_at stays the deleted message's)
# but never its text: CONTRACT is silent on what to show, and this says what happened.
DELETED_PREVIEW = "This message was deleted"
Row = Mapping[str, Any]


def user_json(row: Row, prefix: str = "") -> dict:
    """A user from a users row, or from the `<prefix>_...` columns joined into another row
    (`Store` joins the sender's, trainer's and trainee's names)."""
    if prefix:
        return {
            "id": row[f"{prefix}_id"],
            "first_name": row[f"{prefix}_first_name"],
            "last_name": row[f"{prefix}_last_name"],
            "profile_image": row[f"{prefix}_profile_image"],
        }
    return {
        "id": row["id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "profile_image": row["profile_image"],
    }


def me_json(row: Row) -> dict:
    return {**user_json(row), "email": row["email"], "role": row["role"]}


def message_json(row: Row) -> dict:
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "sender": user_json(row, "sender"),
        "content": row["content"],
        "image": row["image"],
        "is_read": bool(row["is_read"]),
        "read_at": row["read_at"],
        "created_at": row["created_at"],
        # CONTRACT "Edit and delete own messages": on every Message, wherever it is sent.
        "edited_at": row["edited_at"],
        "deleted": bool(row["deleted"]),
        # Not in the contract's shape; our client uses it when present to match its pending sends.
        "client_message_id": row["client_message_id"],
    }


def conversation_json(row: Row) -> dict:
    if row["last_message_at"] is None:
        preview = None
    elif row["last_deleted"]:
        preview = DELETED_PREVIEW
    elif not row["last_content"] and row["last_image"]:
        preview = PHOTO_PREVIEW
    else:
        preview = row["last_content"]
    return {
        "id": row["id"],
        "trainer": user_json(row, "trainer"),
        "trainee": user_json(row, "trainee"),
        "last_message_at": row["last_message_at"],
        "last_message_preview": preview,
        "unread_count": row["unread_count"],
        "is_archived": bool(row["is_archived"]),
        "created_at": row["created_at"],
    }
