"""Which of one's own messages may still be edited or deleted, and what an edit may say.

    allowed_actions(message, me_id, caps, now)     # ("edit", "delete"), ("delete",) or ()
    last_editable_id(log, me_id, caps, now)        # Up arrow in an empty composer
    edit_refusal(text, has_image)                  # None, or why the edit is not saved
    preview_follows(conversations, message)        # the list's preview after an edit/delete

CONTRACT "Edit and delete own messages": only the sender, in a conversation that is not
archived, within 15 minutes of `created_at` for an edit and 48 hours for a delete. The page
uses the rule only to decide what to offer; the server is the judge, and its 403 (a clock
that disagrees, a window that closed while the menu was open) is said as its detail.
`now` is seconds since the epoch; nothing here reads a clock.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from core.api_client import ApiError, NetworkError
from core.conversation_ops import parse_time, preview_text
from core.send_limits import text_refusal

EDIT_WINDOW = 15 * 60.0
DELETE_WINDOW = 48 * 3600.0
EDIT, DELETE = "edit", "delete"
DELETED_TEXT = "This message was deleted"
EMPTY_EDIT = "A message can't be empty. To remove it, use Delete."


def _sent_at(message: Mapping[str, Any]) -> Optional[float]:
    when = parse_time(message.get("created_at"))
    return when.timestamp() if when is not None else None


def _is_own(message: Mapping[str, Any], me_id: Any) -> bool:
    sender = message.get("sender")
    return isinstance(sender, Mapping) and sender.get("id") == me_id


def allowed_actions(message: Optional[Mapping[str, Any]], me_id: Any, caps: Any, now: float, *,
                    archived: bool = False) -> Tuple[str, ...]:
    """What the message's menu offers now: an own, not deleted message in an open
    conversation, inside each window (the edges count: exactly 15 minutes is still on time)."""
    if message is None or archived or message.get("deleted") or not _is_own(message, me_id):
        return ()
    sent = _sent_at(message)
    if sent is None:
        return ()
    age = now - sent
    actions = []
    if getattr(caps, "edit", False) and age <= EDIT_WINDOW:
        actions.append(EDIT)
    if getattr(caps, "delete", False) and age <= DELETE_WINDOW:
        actions.append(DELETE)
    return tuple(actions)


def may_change_later(message: Mapping[str, Any], now: float) -> bool:
    """Whether a menu on this (own) message can still offer anything: not deleted and inside
    the longest window. Decided when the node is made; the menu asks allowed_actions on open."""
    sent = _sent_at(message)
    return not message.get("deleted") and sent is not None and now - sent <= max(EDIT_WINDOW, DELETE_WINDOW)


def last_editable_id(messages_newest_first: Iterable[Mapping[str, Any]], me_id: Any, caps: Any,
                     now: float, *, archived: bool = False) -> Optional[int]:
    """The newest own message that may still be edited, or None. Stops at the first message
    older than the edit window: everything before it is older still (ids grow with time)."""
    if not getattr(caps, "edit", False) or archived:
        return None
    for message in messages_newest_first:
        sent = _sent_at(message)
        if sent is not None and now - sent > EDIT_WINDOW:
            return None
        if EDIT in allowed_actions(message, me_id, caps, now):
            return message.get("id")
    return None


def edit_refusal(text: str, has_image: bool) -> Optional[str]:
    """Why an edit is not sent (the text stays in the box), or None. An image message may
    lose its words (CONTRACT); a text message may not become empty."""
    if not text.strip() and not has_image:
        return EMPTY_EDIT
    refusal = text_refusal(text)
    return refusal.replace("Not sent", "Not saved").replace("send again", "save again") if refusal else None


def action_failure_text(error: BaseException, doing: str) -> str:
    """A calm sentence for a refused or failed edit/delete: the server's detail when it
    gave one (a 403 names the window), else what went wrong in general."""
    if isinstance(error, ApiError) and isinstance(error.detail, str) and error.detail:
        return f"Could not {doing}: {error.detail}"
    if isinstance(error, NetworkError):
        return f"Could not {doing}: the server cannot be reached. Try again in a moment."
    return f"Could not {doing}. Try again."


def preview_follows(conversations: List[Dict[str, Any]], message: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The list after `message` was edited or deleted: its row's preview follows when it was
    that row's last message (same `created_at`, to the microsecond); else the rows as they were.
    The server's list says "This message was deleted" too, so a refetch shows the same."""
    cid, sent = message.get("conversation_id"), parse_time(message.get("created_at"))
    if sent is None:
        return conversations
    rows, changed = [], False
    for row in conversations:
        if row.get("id") == cid and parse_time(row.get("last_message_at")) == sent:
            preview = DELETED_TEXT if message.get("deleted") else preview_text(dict(message))
            if row.get("last_message_preview") != preview:
                row, changed = dict(row, last_message_preview=preview), True
        rows.append(row)
    return rows if changed else conversations
