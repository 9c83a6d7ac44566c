"""The open chat's sends: shown pending at once, posted one at a time, each confirmed once.

A send becomes the real message exactly once, whichever of its answer and the socket's copy
comes first (outbox.py). Sends go out one at a time in the order written. A send that gets
no answer from the server is HELD, not failed: it goes again, same client_message_id, on a
backoff or as soon as the server is heard again; only a refusal (4xx) makes it FAILED, with
the server's detail and a Retry (core/send_rules.py). Every change of the outbox is stored
(StoreOutbox) and shown (ShowPending); a file attached to a send stays in memory only, here,
until its send is confirmed or discarded.

    sends = SendPipeline(cid, key, stored=text_or_None, handed=None, is_closed=lambda: False)
    shown, posts = sends.add("See you at 6", cmid, now)   # StoreOutbox + ShowPending, PostMessage
    sends.failed(cmid, error, now)                         # held or refused, then the next goes
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from core.chat_effects import Effect, PostMessage, ShowPending, StoreOutbox
from core.outbox import Outbox
from core.send_rules import UNREADABLE_ANSWER, settle_failed_send


class SendPipeline:
    """One open conversation's outbox at work; see the module docstring."""

    def __init__(self, conversation_id: Any, storage_key: str, *, stored: Optional[str] = None,
                 handed: Optional[Tuple[Outbox, Dict[str, Any]]] = None,
                 is_closed: Callable[[], bool] = lambda: False) -> None:
        self.storage_key = storage_key
        self._is_closed = is_closed
        self.outbox = Outbox(conversation_id)
        self._attachments: Dict[str, Any] = {}  # client_message_id -> the adapter's file, in memory only
        if handed is not None:
            # From core/held_sends.py: this conversation's sends, maybe one in flight (its answer
            # comes here), with the files kept in memory. Nothing is read back from storage.
            self.outbox, attachments = handed
            self._attachments = dict(attachments)
        elif stored:
            try:
                self.outbox = Outbox.from_json(stored)
            except ValueError:
                pass  # not an outbox: start empty

    def hand_over(self) -> Tuple[Outbox, Dict[str, Any]]:
        """Closing: the outbox (and its in-memory files) goes back to core/held_sends.py."""
        return self.outbox, dict(self._attachments)

    def shown(self) -> ShowPending:
        return ShowPending(tuple(self.outbox.pending()))

    def next_wakeup(self) -> Optional[float]:
        return self.outbox.next_wakeup()

    def add(self, text: str, client_message_id: str, now: float, *, image_name: Optional[str],
            attachment: Any, after_id: Optional[int]) -> Tuple[List[Effect], List[Effect]]:
        """A new send: (what to store and show, what to post), so the caller can go between."""
        self.outbox.add(text, client_message_id, now, image_name=image_name, after_id=after_id)
        if attachment is not None:
            self._attachments[client_message_id] = attachment
        posts = self._take_next(now)
        return self._changed(), posts

    def retry(self, client_message_id: str, now: float) -> List[Effect]:
        if self.outbox.retry(client_message_id) is None:
            return []  # confirmed, unknown, or still on its way: a double tap sends once
        # Same client_message_id: the server stores it at most once (CONTRACT).
        return self.step(now)

    def unreadable_answer(self, client_message_id: str, now: float) -> List[Effect]:
        """A 2xx we cannot read: not held (the server answered), said as it is."""
        if self.outbox.mark_failed(client_message_id, UNREADABLE_ANSWER) is None:
            return []
        return self.step(now)

    def failed(self, client_message_id: str, error: BaseException, now: float) -> List[Effect]:
        if settle_failed_send(self.outbox, client_message_id, error, now) is None:
            return []  # confirmed meanwhile
        return self.step(now)

    def confirm(self, messages: List[Dict[str, Any]], me_id: Any, now: float,
                client_message_id: Optional[str] = None) -> List[Effect]:
        """Messages from any source: the sends they confirm leave, and the next in line goes."""
        if client_message_id is not None:
            resolved = [self.outbox.resolve(m, me_id, client_message_id=client_message_id) for m in messages]
        else:
            resolved = self.outbox.reconcile(messages, me_id)
        return self.step(now) if any(r is not None for r in resolved) else []

    def server_heard(self, now: float) -> List[Effect]:
        """The server answered (a page, the socket connected): held sends go at once."""
        return self.step(now) if self.outbox.link_up(now) else []

    def tick(self, now: float) -> List[Effect]:
        due = self.outbox.next_wakeup()
        if due is not None and now >= due:
            return self.step(now)  # a held send's next try
        return []

    def step(self, now: float) -> List[Effect]:
        """The outbox changed: post what is due, then store and show it."""
        posts = self._take_next(now)
        return self._changed() + posts

    def _take_next(self, now: float) -> List[Effect]:
        """The next send to post (one at a time, oldest first), if it is its turn."""
        entry = self.outbox.take_next(now)
        if entry is None or self._is_closed():
            return []
        return [PostMessage(entry.client_message_id, entry.content,
                            self._attachments.get(entry.client_message_id))]

    def _changed(self) -> List[Effect]:
        pending = self.outbox.pending()
        for cmid in [c for c in self._attachments if self.outbox.get(c) is None]:
            del self._attachments[cmid]  # confirmed or discarded: the file is let go
        return [StoreOutbox(self.storage_key, self.outbox.to_json() if pending else None),
                ShowPending(tuple(pending))]
