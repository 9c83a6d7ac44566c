"""Pure functions over the conversation list (the value under ("conversations",)).

Every function takes the list and returns a new one; inputs are never mutated.
When nothing changes, the input list itself is returned, so the query cache
sees no change and notifies nobody.

    cache.set_query_data(CONVERSATIONS_KEY, lambda old: apply_new_message(
        old or [], message, my_user_id=me, open_conversation_id=7, chat_visible=True))

``apply_new_message`` is meant for messages that are new to the client (the ones
``MessageLog.merge`` reported as added); feeding it the same message twice would
count it twice as unread.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

Conversation = Dict[str, Any]
Message = Dict[str, Any]

PHOTO_PREVIEW = "Photo"


def preview_text(message: Message) -> str:
    """The list's preview of a message: its text, or "Photo" for an image alone (AC-15)."""
    content = message.get("content") or ""
    if content.strip():
        return content
    if message.get("image"):
        return PHOTO_PREVIEW
    return content


def parse_time(value: Any) -> Optional[datetime]:
    """An ISO time from the server as an aware datetime (naive is UTC), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)  # 3.11 accepts a trailing "Z"
    except ValueError:
        return None
    if parsed.tzinfo is None:  # a naive server time is UTC (Django's default)
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


_NO_TIME = datetime.min.replace(tzinfo=timezone.utc)


def _order_key(conversation: Conversation) -> tuple:
    at = parse_time(conversation.get("last_message_at"))
    return (at is not None, at or _NO_TIME, conversation.get("id") or 0)


def sort_conversations(conversations: List[Conversation]) -> List[Conversation]:
    """Newest last_message_at first, conversations without messages last, ties by id desc."""
    return sorted(conversations, key=_order_key, reverse=True)


def _index_of(conversations: List[Conversation], conversation_id: Any) -> int:
    for index, conversation in enumerate(conversations):
        if conversation.get("id") == conversation_id:
            return index
    return -1


def apply_new_message(
    conversations: List[Conversation],
    message: Message,
    *,
    my_user_id: Any,
    open_conversation_id: Any,
    chat_visible: bool,
) -> List[Conversation]:
    """AC-15: a new message updates its row's preview, time and place without a refetch.

    - last_message_preview / last_message_at take the message's, unless the row
      already shows a newer message (a late gap-fill must not roll it back);
    - the row moves to its place in newest-first order (the top for a new message);
    - unread_count grows by one only for the other party's message in a
      conversation that is not both open and visible (AC-28 marks that one read).
    An unknown conversation leaves the list as it is (the adapter should refetch it).
    `conversations` is in sort_conversations order (as the cache always holds it).
    """
    index = _index_of(conversations, message.get("conversation_id"))
    if index < 0:
        return conversations
    row = dict(conversations[index])

    message_at = parse_time(message.get("created_at"))
    shown_at = parse_time(row.get("last_message_at"))
    if shown_at is None or (message_at is not None and message_at >= shown_at):
        row["last_message_preview"] = preview_text(message)
        row["last_message_at"] = message.get("created_at")

    sender = message.get("sender")
    from_other_party = not (isinstance(sender, dict) and sender.get("id") == my_user_id)
    being_read = chat_visible and open_conversation_id == row.get("id")
    if from_other_party and not being_read:
        row["unread_count"] = (row.get("unread_count") or 0) + 1

    others = conversations[:index] + conversations[index + 1 :]
    # The list is kept in sort_conversations order, so the usual case (the row of a
    # new message is the newest) needs no sort: it goes on top.
    if not others or _order_key(row) >= _order_key(others[0]):
        return [row] + others
    return sort_conversations(others + [row])


def keep_newer_rows(answer: List[Conversation], shown: Optional[List[Conversation]]) -> List[Conversation]:
    """A list answer never moves a row's last message back in time. An answer asked for before
    a live message (a send's answer, a socket's frame) can arrive after it: for such a row the
    shown preview and time stay, which are newer than the answer's; every other field, the
    unread count included, is the answer's (the server's count; a read since then is
    announced and applied again). Rows the answer lacks are gone (the server's list is the list)."""
    shown_by_id = {row.get("id"): row for row in shown or [] if isinstance(row, dict)}
    result = []
    for row in answer:
        current = shown_by_id.get(row.get("id"))
        current_at = parse_time(current.get("last_message_at")) if current is not None else None
        answer_at = parse_time(row.get("last_message_at"))
        if current_at is not None and (answer_at is None or current_at > answer_at):
            row = dict(row, last_message_preview=current.get("last_message_preview"),
                      last_message_at=current.get("last_message_at"))
        result.append(row)
    return result


def set_unread(conversations: List[Conversation], conversation_id: Any, count: int) -> List[Conversation]:
    """The list with one row's unread_count set (e.g. 0 after marking it read)."""
    index = _index_of(conversations, conversation_id)
    if index < 0 or conversations[index].get("unread_count") == count:
        return conversations
    row = dict(conversations[index])
    row["unread_count"] = count
    return conversations[:index] + [row] + conversations[index + 1 :]


def other_party(conversation: Conversation, my_user_id: Any) -> Dict[str, Any]:
    """The participant of a conversation who is not me."""
    trainer = conversation.get("trainer") or {}
    trainee = conversation.get("trainee") or {}
    return trainee if trainer.get("id") == my_user_id else trainer


def total_unread(conversations: List[Conversation]) -> int:
    """Sum of the rows' unread counts (what the unread-count endpoint reports)."""
    return sum(max(0, conversation.get("unread_count") or 0) for conversation in conversations)
