"""The signed-in session's rules, as a Sans-I/O core: the list, unread totals, polling.

Theory of operation
-------------------
`Session` owns what the messages page shows beside the open chat: the conversation list and
the total unread badge (both in the query cache, STYLE 5), and when to poll what (AC-9,
AC-13, AC-26, AC-27). It performs no I/O. Its adapter (web/app.py) feeds it inputs with the
wall-clock time and carries out the effects; after every input it re-arms one timer for
`next_wakeup()` and calls `tick(now)` then:

    session = Session(cache, me, now)
    run(session.tick(now))                           # -> Fetch(CONVERSATIONS_KEY) when due
    session.conversations_loaded(answer, now, chat_visible=True)
    run(session.chat_changed(7, realtime=True, now)) # the open chat, and its socket
    session.messages_added(7, messages, chat_visible=False)   # OpenConversation's NewMessages
    run(session.conversation_read(7, still_unread=0))         # its ConversationRead

    effect          the adapter ...                      and answers with
    Fetch(key)      GET the list or the unread count      conversations_loaded / unread_loaded
                                                          or fetch_failed(key)
    PollMessages    asks the open chat to poll (OpenConversation.poll)

The rules:
- AC-15: a new message moves its row to the top with its preview and time, no refetch;
  the other party's message counts as unread unless its chat is open and visible (AC-28
  marks that one read), and the total badge follows the rows.
- A read (our mark-read call) sets the row to what is still unread (what arrived after the
  call started) and lowers the total by what it read; the server's total is asked again
  only when the read changed something, or when no total is known.
- A list answer never shows unread in the chat that is open and visible.
- Polling paces follow the socket of the open chat (polling.py); a poll of a key whose
  previous poll is still under way is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set, Union

from core import conversation_ops, models
from core.polling import PollScheduler
from query_cache import CONVERSATIONS_KEY, UNREAD_COUNT_KEY, QueryKey, messages_key


@dataclass(frozen=True)
class Fetch:
    key: QueryKey  # CONVERSATIONS_KEY or UNREAD_COUNT_KEY


@dataclass(frozen=True)
class PollMessages:
    conversation_id: Any


Effect = Union[Fetch, PollMessages]


def parse_unread_total(data: Any) -> Optional[int]:
    """The unread-count answer's number, or None when the answer is not one."""
    if not isinstance(data, dict):
        return None
    value = data.get("unread_count")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return max(0, value)


class Session:
    """One signed-in session's list, totals and polls; see the module docstring."""

    def __init__(self, cache: Any, me: Dict[str, Any], now: float) -> None:
        self.cache = cache
        self.me_id = me["id"]
        self.poller = PollScheduler(now)
        self.open_id: Any = None
        self._polls_running: Set[QueryKey] = set()

    def next_wakeup(self) -> Optional[float]:
        return self.poller.next_wakeup()

    # ------------------------------------------------------------------ inputs

    def chat_changed(self, open_id: Any, realtime: bool, now: float) -> List[Effect]:
        """The open chat (None: none) and whether its socket is connected."""
        self.open_id = open_id
        self.poller.set_open_conversation(open_id, now)
        self.poller.set_realtime(open_id is not None and bool(realtime), now)
        return []

    def tick(self, now: float) -> List[Effect]:
        effects: List[Effect] = []
        for key in self.poller.due(now):
            if self.open_id is not None and key == messages_key(self.open_id):
                effects.append(PollMessages(self.open_id))
            elif key not in self._polls_running:
                self._polls_running.add(key)
                effects.append(Fetch(key))
        return effects

    def conversations_loaded(self, data: Any, now: float, *, chat_visible: bool) -> None:
        self._polls_running.discard(CONVERSATIONS_KEY)
        if not isinstance(data, list):
            return
        conversations = [c for c in (models.parse_conversation(x) for x in data) if c is not None]
        if self.open_id is not None and chat_visible:
            conversations = conversation_ops.set_unread(conversations, self.open_id, 0)
        self.cache.set_query_data(CONVERSATIONS_KEY, conversation_ops.sort_conversations(conversations))

    def unread_loaded(self, data: Any, now: float) -> None:
        self._polls_running.discard(UNREAD_COUNT_KEY)
        total = parse_unread_total(data)
        if total is not None:
            self.cache.set_query_data(UNREAD_COUNT_KEY, total)

    def fetch_failed(self, key: QueryKey, now: float) -> None:
        self._polls_running.discard(key)

    def messages_added(self, conversation_id: Any, messages: List[Dict[str, Any]], *,
                       chat_visible: bool) -> None:
        """AC-15: preview, time and order follow new messages without a refetch."""
        seen = conversation_id == self.open_id and bool(chat_visible)

        def update(conversations):
            result = conversations or []
            for message in messages:
                result = conversation_ops.apply_new_message(
                    result, message, my_user_id=self.me_id,
                    open_conversation_id=conversation_id if seen else None, chat_visible=seen)
            return result
        # The total badge follows the rows: a message nobody is looking at is one more unread.
        unseen = 0 if seen else sum(1 for m in messages if m["sender"]["id"] != self.me_id)
        with self.cache.batch():
            self.cache.set_query_data(CONVERSATIONS_KEY, update)
            total = self.cache.get_query_data(UNREAD_COUNT_KEY)
            if unseen and isinstance(total, int):
                self.cache.set_query_data(UNREAD_COUNT_KEY, total + unseen)

    def conversation_read(self, conversation_id: Any, still_unread: int = 0) -> List[Effect]:
        conversations = self.cache.get_query_data(CONVERSATIONS_KEY) or []
        before = next((c.get("unread_count", 0) for c in conversations if c["id"] == conversation_id), 0)
        read = max(0, before - still_unread)
        with self.cache.batch():
            self.cache.set_query_data(
                CONVERSATIONS_KEY, lambda cs: conversation_ops.set_unread(cs or [], conversation_id, still_unread))
            total = self.cache.get_query_data(UNREAD_COUNT_KEY)
            if isinstance(total, int) and read:
                self.cache.set_query_data(UNREAD_COUNT_KEY, max(0, total - read))
        # Asked again only when this read changed the total: reading a chat that shows every
        # message as it arrives (unread 0) leaves it as it was, and asking after every live
        # message doubled the requests of a conversation.
        if read or not isinstance(total, int):
            return [Fetch(UNREAD_COUNT_KEY)]
        return []

    def conversation(self, conversation_id: Any) -> Optional[Dict[str, Any]]:
        for c in self.cache.get_query_data(CONVERSATIONS_KEY) or []:
            if c["id"] == conversation_id:
                return c
        return None

    def unread_total(self) -> int:
        """The badge: the server's total when known, else the rows' sum."""
        total = self.cache.get_query_data(UNREAD_COUNT_KEY)
        if isinstance(total, int):
            return total
        return conversation_ops.total_unread(self.cache.get_query_data(CONVERSATIONS_KEY) or [])
