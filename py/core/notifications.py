"""When a desktop notification is shown, and what it says (issue 22, point 1).

Theory of operation
-------------------
Every message the page hears, from whichever source, ends in one place: the conversation
list in the query cache. The inbox socket's events, the open chat's socket (a hidden tab)
and the list polls of a backend without an inbox all write the rows there (core/session.py).
So the rules look at the rows, not at the sockets: each time the list changes, the adapter
(web/notifier.py) hands the rows in with the time and what the screen shows, and gets back
the notifications to show.

    rules = NotificationRules(me_id)
    rules.rows_changed(rows, now, open_id=7, page_visible=True, enabled=True, muted={3})
    # -> [Notify(tag="conversation-5", title="Tina Trainee", body="See you at 6",
    #            conversation_id=5, alert=True)]

A row says that the other party wrote a new message when its last message is newer than
any this row has shown before AND its unread count grew. The session counts a message as
unread only when it is the other party's and its chat is not open and on screen (AC-15,
AC-28), so "unread grew" already means "not mine" and "not being read". The rules:

- The first rows seen are the baseline: what was there before the page started is not news.
- Never for one's own message (the unread count does not grow for it).
- Never while the page is visible and the conversation is the open one.
- Never for a muted conversation, and never while notifications are off; the rows are still
  followed then, so turning them on does not bring back old messages.
- Once per message: a row time already seen (a list answer after the inbox brought the same
  message, a late gap fill) is not news again.
- One per conversation: the tag is the conversation's, so a newer one replaces the shown one.
  No flood: within QUIET_S of the last alert for a conversation the newer one replaces the
  shown one silently (alert=False: no sound, no renotify), so a burst alerts once.
- A burst caught by one list answer (a poll, the list fetched when the inbox comes back)
  is one notification with the newest preview.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Collection, Dict, List, Optional, Tuple

from core import formatting
from core.conversation_ops import parse_time
from core.models import is_int

QUIET_S = 10.0  # at most one alert per conversation in this many seconds
BODY_MAX_CHARS = 120  # a notification shows two or three lines; the rest is the chat's
NO_PREVIEW = "New message"


@dataclass(frozen=True)
class Notify:
    tag: str  # one per conversation: a newer one replaces the shown one
    title: str  # the sender's name (the other party of a one-to-one conversation)
    body: str  # the preview: the text, cut; "Photo" for a photo alone
    conversation_id: int
    alert: bool  # True: sound and renotify; False: replace the shown one quietly


def notification_tag(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


def preview_body(preview: Any) -> str:
    """The row's preview on one line, cut at BODY_MAX_CHARS with an ellipsis."""
    text = " ".join(preview.split()) if isinstance(preview, str) else ""
    if not text:
        return NO_PREVIEW
    if len(text) > BODY_MAX_CHARS:
        return text[:BODY_MAX_CHARS - 1].rstrip() + "…"
    return text


def other_party(row: Dict[str, Any], me_id: Any) -> Any:
    trainer, trainee = row.get("trainer"), row.get("trainee")
    if isinstance(trainer, dict) and trainer.get("id") == me_id:
        return trainee
    return trainer


class NotificationRules:
    """One signed-in user's notification decisions; see the module docstring."""

    def __init__(self, me_id: Any) -> None:
        self._me_id = me_id
        self._seen: Optional[Dict[int, Tuple[Optional[datetime], int]]] = None  # None: no baseline yet
        self._alerted_at: Dict[int, float] = {}

    def rows_changed(self, rows: Any, now: float, *, open_id: Any, page_visible: bool, enabled: bool,
                     muted: Collection[int] = ()) -> List[Notify]:
        if not isinstance(rows, list):
            return []
        baseline = self._seen is None
        seen = {} if self._seen is None else self._seen
        out: List[Notify] = []
        for row in rows:
            if not isinstance(row, dict) or not is_int(row.get("id")):
                continue
            cid = row["id"]
            at = parse_time(row.get("last_message_at"))
            unread = row.get("unread_count") if is_int(row.get("unread_count")) else 0
            before_at, before_unread = seen.get(cid, (None, 0))
            newer = at is not None and (before_at is None or at > before_at)
            seen[cid] = (at if newer else before_at, unread)
            if baseline or not newer or unread <= before_unread:
                continue
            if not enabled or cid in muted or (page_visible and cid == open_id):
                continue
            out.append(self._notify(row, cid, now))
        self._seen = seen
        return out

    def _notify(self, row: Dict[str, Any], cid: int, now: float) -> Notify:
        last = self._alerted_at.get(cid)
        alert = last is None or now - last >= QUIET_S or now < last
        if alert:
            self._alerted_at[cid] = now
        return Notify(tag=notification_tag(cid), title=formatting.display_name(other_party(row, self._me_id)),
                      body=preview_body(row.get("last_message_preview")), conversation_id=cid, alert=alert)
