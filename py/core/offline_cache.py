"""What the browser keeps of one trainer's messages for opening offline (issue 22 item 2).

Theory of operation. While signed in, the page keeps a copy of what its first screen needs:
the trainer's own user record, the conversation list, the unread total, and the last page of
the conversations opened most recently (at most MAX_CONVERSATIONS x MAX_MESSAGES). The copy
is written (throttled: `WriteThrottle`) when the query cache changes, stored as text under
the trainer's user id, and read back when the page opens without a network. It is one user's:

- `copy_text` writes the user id into the copy; `read_copy` gives a copy back only for the
  user id it is asked for, so a copy stored under the wrong key (or a foreign one) shows
  nothing;
- logging out deletes every copy; signing in online keeps only that user's (web/offline_store.py).

Bad stored text (cut short, another format, odd values) reads as no copy, never as a crash.
Time is an input: nothing here reads a clock.

    copy = updated(previous, me=me, conversations=rows, unread_count=3, touched={7: messages})
    text = copy_text(copy)
    again = read_copy(text, user_id=me["id"])        # None for any other user id
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

FORMAT = 1
MAX_CONVERSATIONS = 10
MAX_MESSAGES = 50
# At most one write per this many seconds; a change waits for the next allowed write.
WRITE_INTERVAL_S = 2.0

Message = Dict[str, Any]


@dataclass(frozen=True)
class OfflineCopy:
    user_id: int
    me: Dict[str, Any]
    conversations: Tuple[Dict[str, Any], ...] = ()
    unread_count: Optional[int] = None
    # conversation id -> its last messages, oldest first; `recent` orders the ids, newest use first.
    messages: Mapping[int, Tuple[Message, ...]] = field(default_factory=dict)
    recent: Tuple[int, ...] = ()


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_id(value: Any) -> bool:
    return _is_count(value) and value > 0


def last_page(messages: Iterable[Any], limit: int = MAX_MESSAGES) -> Tuple[Message, ...]:
    """The newest `limit` messages with an id, oldest first (one copy of each id)."""
    by_id = {m["id"]: m for m in messages if isinstance(m, dict) and _is_id(m.get("id"))}
    return tuple(by_id[i] for i in sorted(by_id)[-limit:])


def updated(previous: Optional[OfflineCopy], *, me: Dict[str, Any], conversations: Any,
            unread_count: Any, touched: Mapping[int, Iterable[Any]]) -> OfflineCopy:
    """The next copy: this user's list and total (a value that is not one keeps the previous),
    the pages of `touched` (changed since the last copy, in the order they changed: the last
    is the newest) in front, the previous copy's other pages behind them, all trimmed, and
    only of conversations in the list. A previous copy of another user is not carried over."""
    user_id = me.get("id") if isinstance(me, dict) else None
    if not _is_id(user_id):
        raise ValueError("a copy needs the signed-in user's id")
    carried = previous if previous is not None and previous.user_id == user_id else None
    rows = tuple(c for c in conversations if isinstance(c, dict)) if isinstance(conversations, list) else (
        carried.conversations if carried else ())
    total = unread_count if _is_count(unread_count) else (carried.unread_count if carried else None)
    known = {c.get("id") for c in rows}
    pages: Dict[int, Tuple[Message, ...]] = {}
    for cid, messages in touched.items():
        page = last_page(messages)
        if _is_id(cid) and page:
            pages[cid] = page
    order = [cid for cid in reversed(list(pages))]
    if carried is not None:
        for cid in carried.recent:
            if cid not in pages and cid in carried.messages:
                pages[cid] = carried.messages[cid]
                order.append(cid)
    recent = tuple(cid for cid in order if not rows or cid in known)[:MAX_CONVERSATIONS]
    return OfflineCopy(user_id, dict(me), rows, total, {cid: pages[cid] for cid in recent}, recent)


def copy_text(copy: OfflineCopy) -> str:
    return json.dumps({
        "format": FORMAT, "user_id": copy.user_id, "me": copy.me, "conversations": list(copy.conversations),
        "unread_count": copy.unread_count, "recent": list(copy.recent),
        "messages": {str(cid): list(copy.messages[cid]) for cid in copy.recent},
    }, separators=(",", ":"))


def read_copy(text: Any, *, user_id: Any) -> Optional[OfflineCopy]:
    """The copy in `text` if it is this user's and well formed; None otherwise."""
    if not isinstance(text, str) or not text or not _is_id(user_id):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("user_id") != user_id:
        return None
    me = data.get("me")
    if not isinstance(me, dict) or me.get("id") != user_id:
        return None
    rows = data.get("conversations")
    stored = data.get("messages")
    recent = data.get("recent")
    if not isinstance(rows, list) or not isinstance(stored, dict) or not isinstance(recent, list):
        return None
    pages = {}
    for cid in recent:
        page = stored.get(str(cid)) if _is_id(cid) else None
        if isinstance(page, list) and cid not in pages:
            pages[cid] = last_page(m for m in page if isinstance(m, dict) and m.get("conversation_id") in (None, cid))
    order = tuple(cid for cid in pages if pages[cid])[:MAX_CONVERSATIONS]
    total = data.get("unread_count")
    return OfflineCopy(user_id, me, tuple(c for c in rows if isinstance(c, dict) and _is_id(c.get("id"))),
                       total if _is_count(total) else None,
                       {cid: pages[cid] for cid in order}, order)


def parse_user_id(text: Any) -> Optional[int]:
    """The user id a stored pointer names (web/offline_store.py keeps it as text), or None."""
    if not isinstance(text, str) or not text.isdigit() or len(text) > 18:
        return None
    value = int(text)
    return value if value > 0 else None


class WriteThrottle:
    """When to write the copy: at once after a quiet spell, else WRITE_INTERVAL_S after the
    last write. `changed(now)` returns the time to write at (None: a write is already due
    then); `written(now)` records a write.

        throttle = WriteThrottle()
        at = throttle.changed(now)       # schedule a wake-up at `at` when not None
        ...at `at`: write; throttle.written(at)
    """

    def __init__(self, interval: float = WRITE_INTERVAL_S) -> None:
        self.interval = interval
        self.last_write: Optional[float] = None
        self.due: Optional[float] = None

    def changed(self, now: float) -> Optional[float]:
        if self.due is not None:
            return None
        earliest = now if self.last_write is None else max(now, self.last_write + self.interval)
        self.due = earliest
        return earliest

    def written(self, now: float) -> None:
        self.last_write = now
        self.due = None
