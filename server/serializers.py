"""The JSON shapes of CONTRACT.md ("Shapes"), built from store rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

PHOTO_PREVIEW = "Photo"


def user_json(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "profile_image": row["profile_image"],
    }


def me_json(row: sqlite3.Row) -> dict:
    return {**user_json(row), "email": row["email"], "role": row["role"]}


UserLookup = Callable[[int], sqlite3.Row]


def message_json(row: sqlite3.Row, user: UserLookup) -> dict:
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "sender": user_json(user(row["sender_id"])),
        "content": row["content"],
        "image": row["image"],
        "is_read": bool(row["is_read"]),
        "read_at": row["read_at"],
        "created_at": row["created_at"],
        # Not in the contract's shape; our client uses it when present to match its pending sends.
        "client_message_id": row["client_message_id"],
    }


def conversation_json(row: sqlite3.Row, user: UserLookup) -> dict:
    if row["last_message_at"] is None:
        preview = None
    elif not row["last_content"] and row["last_image"]:
        preview = PHOTO_PREVIEW
    else:
        preview = row["last_content"]
    return {
        "id": row["id"],
        "trainer": user_json(user(row["trainer_id"])),
        "trainee": user_json(user(row["trainee_id"])),
        "last_message_at": row["last_message_at"],
        "last_message_preview": preview,
        "unread_count": row["unread_count"],
        "is_archived": bool(row["is_archived"]),
        "created_at": row["created_at"],
    }
