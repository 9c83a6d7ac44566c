"""Held sends of the conversations that are not open: they go when the server answers again.

Theory of operation
-------------------
A message written during an outage waits in its conversation's outbox (core/outbox.py), kept
in localStorage per user and conversation. While that conversation is open, its outbox is
the open chat's (core/open_conversation.py). When it is not (the trainer opened another one,
went back to the list, or reloaded onto the list), `HeldSends` owns it: the same Outbox
object with the same rules, so held entries go out once the server answers again, oldest
first and one at a time per conversation, with the same client_message_id (the server stores
a repeated one once and answers with the stored message, CONTRACT), on the same backoff.

Each outbox has exactly one owner at a time, which is how an entry is never posted twice at
once: opening a conversation `take`s its outbox (an entry in flight included: its answer then
goes to the open chat), closing it `give_back`s it (an entry in flight then answers here).
The adapter routes each send's answer to whoever owns that conversation's outbox when the
answer comes.

    held = HeldSends(me_id)
    run(held.restore({7: stored_text}, now))        # after login: what storage kept
    run(held.server_heard(now))                     # the socket connected, a fetch answered
    run(held.send_answered(7, cmid, answer, now))   # -> StoreOutbox, MessageSent
    run(held.send_failed(7, cmid, error, now))      # held again (backoff) or refused
    handed = held.take(7)                           # the chat opens 7: OpenConversation(handed=...)
    run(held.give_back(outbox, files, now))         # the chat closed
    run(held.tick(now))                             # at next_wakeup()

    effect        the adapter ...                                 and answers with
    PostHeld      POST .../send/ (a form when a file is kept)      send_answered / send_failed
                  (routed to the open chat if it has taken the conversation meanwhile)
    StoreOutbox   localStorage (chat_effects.StoreOutbox: None removes the key)
    MessageSent   the list row (session.messages_added): preview, time, order

A 2xx removes the entry; a 4xx marks it FAILED with the server's reason (in storage, so
opening the conversation shows "Not sent: <reason>" and Retry); no answer or a 5xx holds it
(send_rules.settle_failed_send, the open chat's rule too). Files attached to held sends
live in memory only and travel with their outbox between the chat and here; after a reload
an entry with an image comes back FAILED with the reason, as in the open chat (outbox.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

from core import models
from core.chat_effects import StoreOutbox
from core.send_rules import UNREADABLE_ANSWER, outbox_storage_key, settle_failed_send
from core.outbox import Outbox


@dataclass(frozen=True)
class PostHeld:
    conversation_id: Any
    client_message_id: str
    content: str
    attachment: Any = None  # the adapter's file object, kept in memory only


@dataclass(frozen=True)
class MessageSent:
    """A held send was stored: the list row shows it like any sent message."""

    conversation_id: Any
    message: Dict[str, Any]


Effect = Union[PostHeld, StoreOutbox, MessageSent]


def stored_conversation_id(key: Any, my_user_id: Any) -> Optional[int]:
    """The conversation a localStorage key holds my outbox for (outbox_storage_key), else None."""
    prefix = outbox_storage_key(my_user_id, "")
    if not isinstance(key, str) or not key.startswith(prefix):
        return None
    rest = key[len(prefix):]
    return int(rest) if rest.isdigit() and rest.isascii() else None


class HeldSends:
    """The outboxes of the conversations that are not open; see the module docstring."""

    def __init__(self, my_user_id: Any) -> None:
        self.me_id = my_user_id
        self._boxes: Dict[Any, Outbox] = {}
        self._files: Dict[Any, Dict[str, Any]] = {}  # conversation -> client_message_id -> file

    def conversations(self) -> List[Any]:
        """The conversations whose outbox is held here."""
        return list(self._boxes)

    def outbox(self, conversation_id: Any) -> Optional[Outbox]:
        return self._boxes.get(conversation_id)

    def next_wakeup(self) -> Optional[float]:
        wakes = [w for w in (box.next_wakeup() for box in self._boxes.values()) if w is not None]
        return min(wakes) if wakes else None

    # ------------------------------------------------------------------ inputs

    def restore(self, stored: Dict[Any, str], now: float) -> List[Effect]:
        """Outboxes read from storage after a login or reload (conversation id -> text).

        Text entries come back held and wait for the server to answer (server_heard);
        one that is not an outbox, or names another conversation than its key, is ignored.
        """
        for cid, text in stored.items():
            if cid in self._boxes:
                continue
            try:
                box = Outbox.from_json(text)
            except ValueError:
                continue
            if box.conversation_id == cid and len(box):
                self._boxes[cid] = box
        return []

    def take(self, conversation_id: Any) -> Optional[Tuple[Outbox, Dict[str, Any]]]:
        """The conversation opens: its outbox and files go to the open chat (None: none here)."""
        box = self._boxes.pop(conversation_id, None)
        files = self._files.pop(conversation_id, {})
        return (box, files) if box is not None else None

    def give_back(self, outbox: Outbox, files: Dict[str, Any], now: float) -> List[Effect]:
        """The open chat closed: its outbox comes back here, an entry in flight included."""
        if not len(outbox):
            return []
        self._boxes[outbox.conversation_id] = outbox
        self._files[outbox.conversation_id] = dict(files)
        # Not holding: the link works, the next in line goes now (one in flight is awaited).
        return self._step(outbox.conversation_id, now, store=False)

    def server_heard(self, now: float) -> List[Effect]:
        """The server answered something: every held outbox sends its oldest entry now."""
        effects: List[Effect] = []
        for cid, box in list(self._boxes.items()):
            if box.link_up(now):
                effects += self._step(cid, now, store=False)
        return effects

    def tick(self, now: float) -> List[Effect]:
        """A held outbox's next probe is due (the backoff of outbox.HOLD_DELAYS)."""
        effects: List[Effect] = []
        for cid, box in list(self._boxes.items()):
            due = box.next_wakeup()
            if due is not None and now >= due:
                effects += self._step(cid, now, store=False)
        return effects

    def send_answered(self, conversation_id: Any, client_message_id: str, data: Any,
                      now: float) -> List[Effect]:
        box = self._boxes.get(conversation_id)
        if box is None:
            return []
        message = models.parse_message(data)
        if message is None:
            # A 2xx we cannot read: the server answered, so it is said, not held.
            if box.mark_failed(client_message_id, UNREADABLE_ANSWER) is None:
                return []
            return self._step(conversation_id, now)
        if box.resolve(message, self.me_id, client_message_id=client_message_id) is None:
            return self._step(conversation_id, now, store=False)
        return [MessageSent(conversation_id, message)] + self._step(conversation_id, now)

    def send_failed(self, conversation_id: Any, client_message_id: str, error: BaseException,
                    now: float) -> List[Effect]:
        box = self._boxes.get(conversation_id)
        if box is None or settle_failed_send(box, client_message_id, error, now) is None:
            return []
        return self._step(conversation_id, now)

    # ------------------------------------------------------------------ internals

    def _step(self, cid: Any, now: float, *, store: bool = True) -> List[Effect]:
        """Store the outbox if it changed, then post the next entry if it is its turn."""
        box = self._boxes[cid]
        effects: List[Effect] = []
        if store:
            effects.append(StoreOutbox(outbox_storage_key(self.me_id, cid), box.to_json() if len(box) else None))
        files = self._files.get(cid, {})
        for cmid in [c for c in files if box.get(c) is None]:
            del files[cmid]  # sent or gone: the file is let go
        if not len(box):
            del self._boxes[cid]
            self._files.pop(cid, None)
            return effects
        entry = box.take_next(now)
        if entry is not None:
            effects.append(PostHeld(cid, entry.client_message_id, entry.content,
                                    files.get(entry.client_message_id)))
        return effects
