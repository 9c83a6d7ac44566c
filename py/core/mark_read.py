"""Marking the open chat read (AC-28, issue 13): when the call may go, and what it covers.

- Read only when seen: with `read_when_seen=True` (the browser, where an IntersectionObserver
  reports `in_view`), a call goes out only once the newest unread message from the other party
  has been on screen while the chat was visible: scrolled up in history, new messages stay
  unread until scrolled into view. Since the server marks everything, a call (or a trailing
  one) that would cover an unseen message is not made. Without it (no observer) the chat being
  visible is taken as seeing its bottom.
- At once for a lone message, coalesced in a stream (read_marker.py); one call in flight at a
  time (ReadCall). A trailing call waiting when the chat is hidden is dropped: it would cover
  messages that arrived unseen. A call's success marks read here only the messages it covered
  (up to the newest message held when it started).

The conversation asks only while it is open and visible, and answers the call:

    reads = MarkRead(cache, key, conversation_id, me_id, other_id)
    effects = reads.want(now)            # -> [PostMarkRead(up_to)] or [] (in flight, too soon, unseen)
    effects = reads.done(ok, now)        # -> ConversationRead, and maybe the trailing call
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from core.chat_effects import ConversationRead, Effect, PostMarkRead
from core.conversation_states import ReadCall, move
from core.message_log import MessageLog, with_read_from
from core.read_marker import ReadMarker


def sent_by_other(message: Optional[Dict[str, Any]], me_id: Any) -> bool:
    return message is not None and message["sender"]["id"] != me_id


class MarkRead:
    """The mark-read call of one open conversation; see the module docstring."""

    def __init__(self, cache: Any, key: Any, conversation_id: Any, me_id: Any, other_id: Any, *,
                 read_when_seen: bool = False) -> None:
        self.cache, self.key = cache, key
        self.cid, self.me_id, self.other_id = conversation_id, me_id, other_id
        self.read_when_seen = read_when_seen
        self.marker = ReadMarker()
        self.call = ReadCall.IDLE
        self._up_to: Optional[int] = None  # what the call in flight covers
        self.in_view: Tuple[int, ...] = ()  # the other party's messages on screen now
        self.seen_up_to: Optional[int] = None  # newest of theirs on screen while visible

    @property
    def log(self) -> MessageLog:
        return self.cache.get_query_data(self.key)

    def next_wakeup(self) -> Optional[float]:
        return self.marker.next_wakeup()

    def unread_from_other(self) -> bool:
        log = self.log
        return log is not None and any(sent_by_other(log.get(i), self.me_id) for i in log.unread_ids())

    def want(self, now: float) -> List[Effect]:
        """Something from the other party is unread in the open, visible chat."""
        if not self._unread_seen():
            return []  # scrolled away from it: in_view asks again when it shows
        if self.marker.request(now):
            return self._start()
        return []  # in flight or too soon: one trailing call follows (next_wakeup / done)

    def note_seen(self, ids: Tuple[int, ...]) -> bool:
        """Ids on screen while visible move `seen_up_to`; True when it moved."""
        top = max(ids, default=None)
        if top is None or (self.seen_up_to is not None and top <= self.seen_up_to):
            return False
        self.seen_up_to = top
        return True

    def drop_trailing(self) -> None:
        """A trailing call waiting now would cover what arrives unseen (hidden, or closed)."""
        self.marker.cancel()

    def done(self, ok: bool, now: float) -> List[Effect]:
        """The call came back; on success what it covered is read here too."""
        effects: List[Effect] = []
        up_to, self._up_to = self._up_to, None
        self.call = move(self.call, "done")
        if ok:
            self.cache.set_query_data(self.key, with_read_from(self.other_id, up_to=up_to))
            effects.append(ConversationRead(self.cid, self._unread_from_other_after(up_to)))
        if not self._unread_seen():
            self.marker.cancel()  # a trailing call would cover what is not seen yet
        if self.marker.finished(now):
            effects += self._start()
        return effects

    def tick(self, now: float) -> List[Effect]:
        if not self._unread_seen():
            self.marker.cancel()  # a trailing call would cover what is not seen yet
        return self._start() if self.marker.tick(now) else []

    def _unread_seen(self) -> bool:
        """Every unread message from the other party has been on screen (or nothing tracks it)."""
        if not self.read_when_seen:
            return True
        newest = self.log.newest_unread(other_than=self.me_id)  # O(1) per arrival, not O(unread)
        return newest is None or (self.seen_up_to is not None and newest <= self.seen_up_to)

    def _start(self) -> List[Effect]:
        self.call = move(self.call, "start")
        self._up_to = self.log.last_id
        return [PostMarkRead(self._up_to)]

    def _unread_from_other_after(self, up_to: Optional[int]) -> int:
        log = self.log
        return sum(1 for mid in log.unread_ids()
                   if (up_to is None or mid > up_to) and sent_by_other(log.get(mid), self.me_id))
