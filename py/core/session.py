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
    run(session.inbox_changed(True, now))                     # the inbox socket went live
    run(session.inbox_events(events, now, chat_visible=True)) # and brought events

    effect          the adapter ...                      and answers with
    Fetch(key)      GET the list or the unread count      conversations_loaded / unread_loaded
                                                          or fetch_failed(key)
    PollMessages    asks the open chat to poll (OpenConversation.poll)

The rules:
- One source for the unread badges: once the list is loaded, the total IS the sum of the
  rows' badges; every write of the rows writes that sum to UNREAD_COUNT_KEY in the same
  cache batch, so the header and the rows can never disagree. The unread-count endpoint is
  used only while the list is not known (its answer is ignored once it is).
- AC-15: a new message moves its row to the top with its preview and time, no refetch;
  the other party's message counts as unread unless its chat is open and visible (AC-28
  marks that one read). A message is applied to the list once, by id, whichever socket
  (the open chat's or the inbox) or fetch brought it first. A message no newer than its row's
  last message in the latest list answer is already in that answer (preview, time, badge):
  it is not applied again (a list answer that raced an inbox event would count it twice).
- A read (our mark-read call) sets the row to what is still unread (what arrived after the
  call started); the server's total is asked only when the list is not known.
- A list answer never shows unread in the chat that is open and visible.
- The inbox socket (core/inbox.py), while live, brings every conversation's events: a
  new message as above (an unknown conversation refetches the list), a read by me (another
  tab or device) clears that row's badge, a conversation_updated replaces its row but keeps
  our badge (a new conversation is added with its own). Each time the inbox goes live the
  list is fetched once (what the gap missed). Consecutive new messages of one conversation
  in a batch of inbox events are applied in one write (one list render per burst frame).
- An edit or a delete (`message_updated` / `message_deleted`, CONTRACT "Edit and delete own
  messages") changes the message wherever a log holds it, and its row's preview when it was
  the row's last message (core/message_actions.preview_follows).
- Polling paces follow the socket of the open chat and the inbox (polling.py); a poll of a
  key whose previous poll is still under way is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Set, Union

from core import conversation_ops, models
from core.polling import PollScheduler
from core.message_actions import preview_follows
from core.message_log import with_changed, with_deleted
from core.ws_events import ConversationUpdated, InboxReadReceipt, MessageDeleted, MessageUpdated, NewMessage
from core.query_cache import CONVERSATIONS_KEY, UNREAD_COUNT_KEY, QueryKey, messages_key


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
        self._counted: Dict[Any, Set[int]] = {}  # conversation id -> ids already applied to its row
        self._listed_up_to: Dict[Any, datetime] = {}  # conversation id -> its last message in the list answer
        self.inbox_live = False

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
        self._listed_up_to = {c["id"]: at for c in conversations
                              if (at := conversation_ops.parse_time(c.get("last_message_at"))) is not None}
        shown = self.cache.get_query_data(CONVERSATIONS_KEY)
        self._write_rows(conversation_ops.sort_conversations(conversation_ops.keep_newer_rows(conversations, shown)))

    def unread_loaded(self, data: Any, now: float) -> None:
        self._polls_running.discard(UNREAD_COUNT_KEY)
        total = parse_unread_total(data)
        if total is not None and not self._list_known():
            self.cache.set_query_data(UNREAD_COUNT_KEY, total)

    def fetch_failed(self, key: QueryKey, now: float) -> None:
        self._polls_running.discard(key)

    def messages_added(self, conversation_id: Any, messages: List[Dict[str, Any]], *,
                       chat_visible: bool) -> None:
        """AC-15: preview, time and order follow new messages without a refetch; once per id."""
        fresh = [m for m in self._first_sight(conversation_id, messages)
                 if not self._in_list_answer(conversation_id, m)]
        if not fresh:
            return
        seen = conversation_id == self.open_id and bool(chat_visible)

        def update(conversations):
            result = conversations or []
            for message in fresh:
                result = conversation_ops.apply_new_message(
                    result, message, my_user_id=self.me_id,
                    open_conversation_id=conversation_id if seen else None, chat_visible=seen)
            return result
        self._write_rows(update)

    def conversation_read(self, conversation_id: Any, still_unread: int = 0) -> List[Effect]:
        self._write_rows(lambda cs: conversation_ops.set_unread(cs or [], conversation_id, still_unread))
        # The total is the rows' sum once the list is known; only without a list is it asked.
        return [] if self._list_known() else [Fetch(UNREAD_COUNT_KEY)]

    # ------------------------------------------------------------------ the inbox socket

    def inbox_changed(self, live: bool, now: float) -> List[Effect]:
        """The inbox socket went live (True) or stopped being live (polls back to the spec's)."""
        was, self.inbox_live = self.inbox_live, bool(live)
        self.poller.set_inbox(self.inbox_live, now)
        if self.inbox_live and not was and CONVERSATIONS_KEY not in self._polls_running:
            # What happened before the inbox was up (or while it was down) is fetched once.
            self._polls_running.add(CONVERSATIONS_KEY)
            self.poller.mark_fetched(CONVERSATIONS_KEY, now)
            return [Fetch(CONVERSATIONS_KEY)]
        return []

    def inbox_events(self, events: List[Any], now: float, *, chat_visible: bool) -> List[Effect]:
        """The inbox's events in order; see the module docstring for each kind."""
        refetch = False
        run_cid: Any = None
        run: List[Dict[str, Any]] = []  # consecutive new messages of one conversation: one write
        for event in events:
            if isinstance(event, NewMessage) and event.message["conversation_id"] == run_cid and run:
                run.append(event.message)
                continue
            if run:
                self.messages_added(run_cid, run, chat_visible=chat_visible)
                run = []
            if isinstance(event, NewMessage):
                cid = event.message["conversation_id"]
                if self.conversation(cid) is None:
                    refetch = refetch or self._list_known()
                    continue
                run_cid, run = cid, [event.message]
            elif isinstance(event, InboxReadReceipt):
                if event.reader_id == self.me_id:  # read in another tab or on another device
                    self._write_rows(lambda cs, c=event.conversation_id: conversation_ops.set_unread(cs or [], c, 0))
            elif isinstance(event, ConversationUpdated):
                self._write_rows(lambda cs, c=event.conversation: _replace_row(cs or [], c))
            elif isinstance(event, (MessageUpdated, MessageDeleted)):
                refetch = self._message_changed(event) or refetch
        if run:
            self.messages_added(run_cid, run, chat_visible=chat_visible)
        if refetch and CONVERSATIONS_KEY not in self._polls_running:
            self._polls_running.add(CONVERSATIONS_KEY)
            self.poller.mark_fetched(CONVERSATIONS_KEY, now)
            return [Fetch(CONVERSATIONS_KEY)]
        return []

    # ------------------------------------------------------------------ internals

    def _message_changed(self, event: Union[MessageUpdated, MessageDeleted]) -> bool:
        """An edit or a delete: a held copy changes (the open chat's or a cached one) and the
        row's preview follows when it was the last message. True: the list must be asked
        (a delete of a message no log holds: its time, and so its row's, is unknown here)."""
        if isinstance(event, MessageUpdated):
            message: Optional[Dict[str, Any]] = event.message
            self.cache.set_query_data(messages_key(message["conversation_id"]), with_changed(message))
        else:
            key = messages_key(event.conversation_id)
            log = self.cache.set_query_data(key, with_deleted(event.message_id))
            message = log.get(event.message_id) if log is not None else None
            if message is None:
                return self.conversation(event.conversation_id) is not None
        self._write_rows(lambda cs: preview_follows(cs or [], message))
        return False

    def _list_known(self) -> bool:
        return isinstance(self.cache.get_query_data(CONVERSATIONS_KEY), list)

    def _write_rows(self, rows_or_updater: Any) -> None:
        """The rows, and the total as their sum, in one batch: the one source of the badges.
        An updater needs rows to update: without a list it changes nothing."""
        if callable(rows_or_updater) and not self._list_known():
            return
        with self.cache.batch():
            rows = self.cache.set_query_data(CONVERSATIONS_KEY, rows_or_updater)
            if isinstance(rows, list):
                self.cache.set_query_data(UNREAD_COUNT_KEY, conversation_ops.total_unread(rows))

    def _in_list_answer(self, conversation_id: Any, message: Dict[str, Any]) -> bool:
        """The latest list answer already counted this message: it is no newer than the row's
        last message then (the server's times are to the microsecond, ids grow with time)."""
        listed = self._listed_up_to.get(conversation_id)
        at = conversation_ops.parse_time(message.get("created_at"))
        return listed is not None and at is not None and at <= listed

    def _first_sight(self, conversation_id: Any, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The messages not yet applied to the list (both sockets may bring the same one)."""
        counted = self._counted.setdefault(conversation_id, set())
        fresh = []
        for message in messages:
            mid = message.get("id")
            if mid in counted:
                continue
            counted.add(mid)
            fresh.append(message)
        if len(counted) > _COUNTED_KEPT * 2:
            # Ids only grow: the oldest ones will not come again live.
            self._counted[conversation_id] = set(sorted(counted)[-_COUNTED_KEPT:])
        return fresh

    def conversation(self, conversation_id: Any) -> Optional[Dict[str, Any]]:
        for c in self.cache.get_query_data(CONVERSATIONS_KEY) or []:
            if c["id"] == conversation_id:
                return c
        return None

    def unread_total(self) -> int:
        """The header's badge: the rows' sum once the list is known, else the server's total."""
        if self._list_known():
            return conversation_ops.total_unread(self.cache.get_query_data(CONVERSATIONS_KEY))
        total = self.cache.get_query_data(UNREAD_COUNT_KEY)
        return total if isinstance(total, int) else 0


_COUNTED_KEPT = 256  # message ids remembered per conversation for the dedup


def _replace_row(conversations: List[Dict[str, Any]], updated: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A conversation_updated: its row takes the new fields but keeps our badge (the event is
    the same for both participants, so its unread_count is not ours); a new one is added."""
    rows = [dict(updated, unread_count=c.get("unread_count", 0)) if c["id"] == updated["id"] else c
            for c in conversations]
    if not any(c["id"] == updated["id"] for c in conversations):
        rows.append(updated)
    return conversation_ops.sort_conversations(rows)
