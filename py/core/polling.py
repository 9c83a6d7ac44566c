"""HTTP polling whose pace follows the socket (AC-9, AC-13, AC-26, AC-27).

Time is an input: the scheduler never reads a clock. The adapter asks
``next_wakeup()``, sets one timer for it, and on firing calls ``due(now)`` and
fetches what it returns.

    polls = PollScheduler(now)                 # right after the initial fetches
    polls.set_open_conversation(7, now)
    polls.set_realtime(True, now)              # socket connected
    for key in polls.due(now):                 # e.g. [("conversations",)]
        fetch(key)
    wake_at = polls.next_wakeup()

Keys are query-cache keys: ("messages", cid), ("conversations",), ("unread_count",).
A poll's next time is its last poll (or fetch, see ``mark_fetched``) plus its
interval. When the interval changes, that rule is applied with the new one; a
poll that is then already overdue becomes due at once.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from core.query_cache import CONVERSATIONS_KEY, UNREAD_COUNT_KEY, QueryKey, messages_key

# seconds; None means "not polled"
_INTERVALS = {
    # AC-13: no message polling while connected; AC-9: 5 s on fallback.
    False: {"messages": 5.0, "conversations": 15.0, "unread_count": 30.0},
    # AC-26 / AC-27: a light refresh of what the socket does not cover.
    True: {"messages": None, "conversations": 60.0, "unread_count": 60.0},
}
# Ours (CONTRACT "Inbox socket"): while the inbox is live, every conversation's messages,
# reads and updates are pushed, and the list is refetched each time the inbox (re)connects;
# the list poll is then only a consistency check against a lost event, every 5 minutes, and
# the unread total is the rows' sum (core/session.py), so the unread-count poll stops.
# The open chat's messages still follow its own socket (AC-13).
INBOX_LIST_CHECK = 300.0
_INBOX_INTERVALS = {"conversations": INBOX_LIST_CHECK, "unread_count": None}


def _kind(key: QueryKey) -> str:
    return str(key[0])


_RANK = {"messages": 0, "conversations": 1, "unread_count": 2}


def _rank(key: QueryKey) -> int:
    return _RANK[_kind(key)]


class PollScheduler:
    """When to poll what, given the connection state and the open conversation."""

    def __init__(self, now: float, *, realtime: bool = False, open_conversation_id: Any = None) -> None:
        self._realtime = bool(realtime)
        self._inbox = False
        self._open: Any = None
        # key -> time of its last poll or fetch; every tracked key has one
        self._last: Dict[QueryKey, float] = {CONVERSATIONS_KEY: now, UNREAD_COUNT_KEY: now}
        self._next: Dict[QueryKey, Optional[float]] = {}
        if open_conversation_id is not None:
            self._open = open_conversation_id
            self._last[self._messages_key()] = now
        self._reschedule(now)

    @property
    def realtime(self) -> bool:
        return self._realtime

    @property
    def open_conversation_id(self) -> Any:
        return self._open

    def _messages_key(self) -> QueryKey:
        return messages_key(self._open)

    def _interval(self, key: QueryKey) -> Optional[float]:
        kind = _kind(key)
        if self._inbox and kind in _INBOX_INTERVALS:
            return _INBOX_INTERVALS[kind]
        return _INTERVALS[self._realtime][kind]

    def _reschedule(self, now: float) -> None:
        for key, last in self._last.items():
            interval = self._interval(key)
            self._next[key] = None if interval is None else max(last + interval, now)

    def set_realtime(self, realtime: bool, now: float) -> None:
        """The socket connected (True) or fell back / dropped (False)."""
        if bool(realtime) == self._realtime:
            return
        self._realtime = bool(realtime)
        self._reschedule(now)

    def set_inbox(self, live: bool, now: float) -> None:
        """The inbox socket went live (True) or stopped being live: the list's pace follows."""
        if bool(live) == self._inbox:
            return
        self._inbox = bool(live)
        self._reschedule(now)

    def set_open_conversation(self, conversation_id: Any, now: float) -> None:
        """A conversation was opened (its messages were just fetched) or closed (None)."""
        if conversation_id == self._open:
            return
        if self._open is not None:
            old = self._messages_key()
            self._last.pop(old, None)
            self._next.pop(old, None)
        self._open = conversation_id
        if conversation_id is not None:
            key = self._messages_key()
            self._last[key] = now
            interval = self._interval(key)
            self._next[key] = None if interval is None else now + interval

    def mark_fetched(self, key: QueryKey, now: float) -> None:
        """A fetch of ``key`` happened for another reason: its poll can wait a full interval."""
        key = tuple(key)
        if key not in self._last:
            return
        self._last[key] = now
        interval = self._interval(key)
        self._next[key] = None if interval is None else now + interval

    def due(self, now: float) -> List[QueryKey]:
        """Keys to poll now (messages, conversations, unread count order); marks them polled."""
        keys = [key for key, at in self._next.items() if at is not None and at <= now]
        for key in keys:
            self.mark_fetched(key, now)
        return sorted(keys, key=_rank)

    def next_wakeup(self) -> Optional[float]:
        """The earliest time a poll is due, or None when nothing is polled."""
        times = [at for at in self._next.values() if at is not None]
        return min(times) if times else None
