"""The open conversation's rules, as a Sans-I/O core.

Theory of operation
-------------------
`OpenConversation` decides everything about the conversation on screen except the socket's
lifecycle (that is core/connection_machine.py's) and performs no I/O. Its adapter
(web/chat_controller.py) feeds it inputs with the wall-clock time and carries out the effects
each input returns, in order; after every input it re-arms one timer for `next_wakeup(now)`
and calls `tick(now)` when that comes, as the socket adapter does for the connection machine:

    chat = OpenConversation(cache, conversation, me, stored_outbox=text_or_None)
    run(chat.open(now, visible=True))               # -> ShowPending, FetchPage(INITIAL)
    run(chat.page_loaded(fetch, answer, now))       # messages into the cache, PostMarkRead
    run(chat.socket_events([NewMessage(...)], now)) # a run of socket events, in order
    run(chat.send("See you at 6", cmid, now))       # -> StoreOutbox, ShowPending, PostMessage
    run(chat.send_answered(cmid, answer, now))      # the pending send becomes the real one
    run(chat.tick(now))                             # at next_wakeup(now)

Confirmed messages live in the query cache under messages_key(cid) (STYLE 5: one owner),
written through message_log's updaters; the chat view subscribes to that key. Everything
else the world must do is an effect (core/chat_effects.py, which lists what the adapter does
with each and what it answers with).

Inputs: open, page_loaded / page_failed, socket_state (the machine's StateChanged),
socket_events (its Dispatch), inbox_events (the inbox socket's, used only while this chat's
own socket is down), gap_fill (its GapFill), poll (the session's poll is due),
send / retry / send_answered / send_failed, local_input (a keystroke), load_older,
retry_load, messages_in_view, mark_read_done, visibility_changed (the chat on screen or not),
tick, close.

States. The conversation's own lifecycle is `Load` (OPENING -> LOADING -> READY, or FAILED
with a Retry back to LOADING; any -> CLOSED, after which nothing more goes out); the parts keep
theirs: `Gap` and `Poll` (catch_up.py), `History` (older pages, here) and `ReadCall`
(mark_read.py). Every move of every one of them is a row of the one table in
core/conversation_states.py; anything else raises IllegalTransition.

The parts, each one idea, each owned by this class and fed by it:

    core/catch_up.py       gap fill (edge 7) and poll (AC-9): `synced_id`, the newest id up to
                           which EVERY message is held; a fill asks after it, one at a time
    core/mark_read.py      mark read (AC-28) only when seen (issue 13), coalesced in a stream
    core/send_pipeline.py  the outbox: pending at once, one post at a time, held or refused,
                           confirmed once by its answer or the socket's copy
    core/chat_typing.py    typing frames out and the other party's indicator in (AC-16..AC-21)
    core/banner.py         the banner: a pure function of the state and the outage's age

Rules that join the parts, here:
- Messages from any source (socket, send answer, poll, fill, older page) are merged once by
  id (`_receive`); live socket messages move `synced_id` only while nothing is known missing.
- The first page and older history are not news for the list (AC-15).
- Held sends go the moment the server is heard again: the socket connected, or any page
  loaded (a first page first reconciles the sends the server had stored after all). While the
  conversation is not open its outbox belongs to core/held_sends.py, which sends by the same
  rules: opening takes it from there (`handed=`), closing gives it back (`hand_over`).
- The link coming back also retries a first page that could not load.
- Mark read is only ever asked for while the chat is open and visible; hiding it drops a
  trailing call (it would cover messages that arrive unseen), and showing it marks what came
  meanwhile.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from core import models
from core.api_client import ApiError, NetworkError, error_text
from core.banner import OutageTracker, banner_for, banner_next_wakeup
from core.catch_up import GAP_PAGE_SIZE, MAX_GAP_PAGES, PAGE_SIZE, CatchUp  # noqa: F401 - re-exported
from core.chat_effects import (  # noqa: F401 - re-exported: the adapters name them oc.<Effect>
    ConversationRead, Effect, FetchPage, NewMessages, PostMarkRead, PostMessage, Purpose, RealtimeChanged,
    SendTyping, ShowBanner, ShowConnection, ShowHistoryStatus, ShowLoadFailed, ShowPending, ShowTyping,
    StoreOutbox,
)
from core.chat_typing import ChatTyping
from core.connection_machine import ConnectionState
from core.conversation_ops import other_party
from core.conversation_states import Gap, History, IllegalTransition, Load, Poll, move  # noqa: F401
from core.mark_read import MarkRead, sent_by_other
from core.message_log import MessageLog, with_changed, with_deleted, with_messages, with_read_receipt
from core.outbox import Outbox
from core.query_cache import messages_key
from core.send_pipeline import SendPipeline
from core.send_rules import (  # noqa: F401 - re-exported
    NOT_SENT, RETRYABLE_STATUSES, UNREADABLE_ANSWER, outbox_storage_key, send_is_held, settle_failed_send,
)
from core.tokens import SessionExpired
from core.ws_events import (
    InboxReadReceipt, MessageDeleted, MessageUpdated, NewMessage, ReadReceipt, ServerEvent, TypingIndicator,
)


def load_failure_text(error: BaseException) -> Optional[str]:
    """What the pane says when the conversation cannot load (None: the session ended)."""
    if isinstance(error, SessionExpired):
        return None
    if isinstance(error, ApiError) and error.detail:
        return f"Could not load this conversation: {error.detail}"
    if isinstance(error, NetworkError):
        return "Could not load this conversation: the server cannot be reached."
    return "Could not load this conversation."


def parse_page(data: Any) -> Tuple[List[Dict[str, Any]], bool]:
    """(messages, has_more) from a messages answer; bad rows are dropped, never rendered."""
    if not isinstance(data, dict):
        return [], False
    rows = data.get("results")
    if not isinstance(rows, list):
        return [], False
    messages = [m for m in (models.parse_message(r) for r in rows) if m is not None]
    return messages, data.get("has_more") is True


class OpenConversation:
    """One open conversation's rules; see the module docstring."""

    def __init__(self, cache: Any, conversation: Dict[str, Any], me: Dict[str, Any], *,
                 stored_outbox: Optional[str] = None, read_when_seen: bool = False,
                 handed: Optional[Tuple[Outbox, Dict[str, Any]]] = None) -> None:
        self.cache = cache
        self.conversation = conversation
        self.cid = conversation["id"]
        self.me_id = me["id"]
        self.other = other_party(conversation, self.me_id)
        self.key = messages_key(self.cid)
        self.load = Load.OPENING
        self.history = History.IDLE
        self.visible = True
        # The socket's state and reason as its machine last said them, in the words the view and
        # banner.py use (the values of ConnectionState and FailReason); the machine owns them.
        self.state: str = ConnectionState.CONNECTING.value
        self.reason: Optional[str] = None
        self.outage = OutageTracker()
        if cache.get_query_data(self.key) is None:
            cache.set_query_data(self.key, MessageLog())
        self.sync = CatchUp()
        self.reads = MarkRead(cache, self.key, self.cid, self.me_id, self.other.get("id"),
                              read_when_seen=read_when_seen)
        self.typing = ChatTyping(self.me_id, self.other)
        self.sends = SendPipeline(self.cid, outbox_storage_key(self.me_id, self.cid), stored=stored_outbox,
                                  handed=handed, is_closed=lambda: self.closed)

    def hand_over(self) -> Tuple[Outbox, Dict[str, Any]]:
        """Closing: the outbox (and its in-memory files) goes back to core/held_sends.py."""
        return self.sends.hand_over()

    # ------------------------------------------------------------------ what it shows

    @property
    def log(self) -> MessageLog:
        return self.cache.get_query_data(self.key)

    @property
    def closed(self) -> bool:
        return self.load is Load.CLOSED

    @property
    def realtime(self) -> bool:
        return self.state == ConnectionState.CONNECTED.value

    @property
    def loading_older(self) -> bool:
        return self.history is History.LOADING

    @property
    def outbox(self) -> Outbox:
        return self.sends.outbox

    @property
    def outbox_key(self) -> str:
        return self.sends.storage_key

    @property
    def read_when_seen(self) -> bool:
        return self.reads.read_when_seen

    @read_when_seen.setter
    def read_when_seen(self, value: bool) -> None:
        self.reads.read_when_seen = bool(value)  # the adapter knows once its view is built

    @property
    def synced_id(self) -> Optional[int]:
        return self.sync.synced_id

    @property
    def gap_open(self) -> bool:
        """A gap is known (a reconnect or a failed fill) that no completed fill has closed."""
        return self.sync.gap is not Gap.SYNCED

    @property
    def gap_filling(self) -> bool:
        return self.sync.filling

    @property
    def polling(self) -> bool:
        """A poll (and the fill it started) is under way."""
        return self.sync.poll_state is not Poll.IDLE

    @property
    def seen_up_to(self) -> Optional[int]:
        return self.reads.seen_up_to

    def next_wakeup(self, now: float) -> Optional[float]:
        if self.closed:
            return None
        wakes = [w for w in (*self.typing.next_wakeups(),
                             banner_next_wakeup(self.state, self.reason, self.outage.since, now),
                             self.reads.next_wakeup(), self.sends.next_wakeup()) if w is not None]
        return min(wakes) if wakes else None

    # ------------------------------------------------------------------ inputs

    def open(self, now: float, visible: bool = True) -> List[Effect]:
        self.load = move(self.load, "open")
        self.visible = bool(visible)
        return [self.sends.shown(), FetchPage(Purpose.INITIAL, PAGE_SIZE)]

    def close(self, now: float) -> List[Effect]:
        """The conversation left the screen: nothing more goes out."""
        if not self.closed:
            self.load = move(self.load, "close")
            self.reads.drop_trailing()
        return []

    def visibility_changed(self, visible: bool, now: float) -> List[Effect]:
        was, self.visible = self.visible, bool(visible)
        if self.closed or was == self.visible:
            return []
        if not self.visible:
            # A trailing call waiting now would cover what arrives unseen (AC-28): drop it.
            self.reads.drop_trailing()
            return []
        self.reads.note_seen(self.reads.in_view)  # what is on screen now is seen now
        # AC-28 also covers messages that arrived while the chat was hidden.
        return self._mark_read(now) if self.reads.unread_from_other() else []

    def messages_in_view(self, ids: Tuple[int, ...], now: float) -> List[Effect]:
        """The other party's messages now on screen (the adapter's IntersectionObserver)."""
        self.reads.in_view = tuple(i for i in ids if isinstance(i, int))
        if self.closed or not self.visible or not self.reads.note_seen(self.reads.in_view):
            return []
        return self._mark_read(now) if self.reads.unread_from_other() else []

    def socket_state(self, state: str, reason: Optional[str], now: float) -> List[Effect]:
        self.state, self.reason = state, reason
        self.outage.on_state(state, now)
        effects: List[Effect] = [ShowConnection(state), self._banner(now), RealtimeChanged(self.realtime)]
        if self.realtime and not self.closed:
            effects += self.sends.server_heard(now)  # the server is back: held sends go out
            effects += self.retry_load(now)  # and a conversation that could not load loads
        return effects

    def socket_events(self, events: List[ServerEvent], now: float) -> List[Effect]:
        """Socket events in order; a run of new messages is merged as one."""
        return self._events(events, now, live=True)

    def inbox_events(self, events: List[Any], now: float) -> List[Effect]:
        """The inbox socket's events (core/inbox.py), taken only while this chat's own socket
        is down: its new messages and read ticks then show at once instead of at the next poll.
        While the socket is up it carries them itself. They never move the complete point
        (`synced_id`): the poll and the gap fill still decide what is known to be complete."""
        if self.closed or self.realtime:
            return []
        mine: List[ServerEvent] = []
        for event in events:
            if isinstance(event, NewMessage) and event.message.get("conversation_id") == self.cid:
                mine.append(event)
            elif isinstance(event, InboxReadReceipt) and event.conversation_id == self.cid:
                mine.append(ReadReceipt(event.reader_id, event.read_at))
        return self._events(mine, now, live=False)

    def gap_fill(self, now: float) -> List[Effect]:
        """The machine's GapFill (edge 7): the link is back after an outage."""
        return [] if self.closed else self.sync.ask_fill()

    def poll(self, now: float) -> List[Effect]:
        """AC-9/AC-13: the newest page (new messages and read ticks)."""
        return [] if self.closed else self.sync.poll()

    def load_older(self, now: float) -> List[Effect]:
        log = self.log
        if self.loading_older or self.closed or not log.has_more_before or log.first_id is None:
            return []
        self.history = move(self.history, "load_older")
        return [ShowHistoryStatus("Loading earlier messages…"),
                FetchPage(Purpose.OLDER, PAGE_SIZE, before=log.first_id)]

    def page_loaded(self, fetch: FetchPage, data: Any, now: float) -> List[Effect]:
        if self.closed:
            return []
        messages, has_more = parse_page(data)
        effects: List[Effect]
        if fetch.purpose is Purpose.INITIAL:
            self.load = move(self.load, "page_loaded")
            effects = self._initial_page(messages, has_more, now)
        elif fetch.purpose is Purpose.OLDER:
            self.history = move(self.history, "loaded")
            effects = self._receive(messages, now, has_more_before=has_more, news=False)
        elif fetch.purpose is Purpose.GAP:
            effects = self._receive(messages, now) + self.sync.gap_page(messages, has_more)
        else:
            effects = self._receive(messages, now) + self.sync.poll_page(messages)
        # The server answered (and the page has reconciled what it had stored): held sends go.
        return effects + self.sends.server_heard(now)

    def page_failed(self, fetch: FetchPage, error: BaseException, now: float) -> List[Effect]:
        """The fetch raised `error` (api_client's ApiError, NetworkError, SessionExpired...)."""
        if fetch.purpose is Purpose.OLDER:
            self.history = move(self.history, "failed")
        elif fetch.purpose in (Purpose.GAP, Purpose.POLL):
            self.sync.fetch_failed(fetch.purpose)  # a gap stays known: the next link or poll fills
        if self.closed:
            return []
        if fetch.purpose is Purpose.INITIAL:
            self.load = move(self.load, "page_failed")
            reason = load_failure_text(error)
            return [ShowLoadFailed(reason)] if reason else []
        text = error_text(error, "Could not load earlier messages.") if fetch.purpose is Purpose.OLDER else None
        return [ShowHistoryStatus(text)] if text else []

    def retry_load(self, now: float) -> List[Effect]:
        """Retry in the pane of a conversation that could not load (or the link came back)."""
        if self.load is not Load.FAILED:
            return []  # loading, loaded or closed: a double tap asks once
        self.load = move(self.load, "retry")
        return [ShowLoadFailed(None), FetchPage(Purpose.INITIAL, PAGE_SIZE)]

    def send(self, text: str, client_message_id: str, now: float, *,
             image_name: Optional[str] = None, attachment: Any = None) -> List[Effect]:
        log = self.log
        shown, posts = self.sends.add(text, client_message_id, now, image_name=image_name,
                                      attachment=attachment, after_id=log.last_id if log is not None else None)
        return shown + self.typing.message_sent(now) + posts  # AC-19: typing stops at once

    def retry(self, client_message_id: str, now: float) -> List[Effect]:
        return self.sends.retry(client_message_id, now)

    def send_answered(self, client_message_id: str, data: Any, now: float) -> List[Effect]:
        if self.closed:
            return []
        parsed = models.parse_message(data)
        if parsed is None:
            return self.sends.unreadable_answer(client_message_id, now)
        return self._receive([parsed], now, cmid_hint=client_message_id)

    def send_failed(self, client_message_id: str, error: BaseException, now: float) -> List[Effect]:
        return [] if self.closed else self.sends.failed(client_message_id, error, now)

    def local_input(self, now: float) -> List[Effect]:
        """A keystroke in the composer (AC-16, AC-17)."""
        return self.typing.keystroke(now)

    def mark_read_done(self, ok: bool, now: float) -> List[Effect]:
        return [] if self.closed else self.reads.done(ok, now)

    def tick(self, now: float) -> List[Effect]:
        if self.closed:
            return []
        effects = self.typing.tick(now) + self.reads.tick(now) + self.sends.tick(now)
        return effects + [self._banner(now)]

    # ------------------------------------------------------------------ internals

    def _banner(self, now: float) -> ShowBanner:
        return ShowBanner(banner_for(self.state, self.reason, self.outage.since, now))

    def _mark_read(self, now: float) -> List[Effect]:
        """Something from the other party is unread: asked only while open and visible (AC-28);
        visibility_changed(True) and messages_in_view ask again."""
        if self.closed or not self.visible:
            return []
        return self.reads.want(now)

    def _events(self, events: List[ServerEvent], now: float, *, live: bool) -> List[Effect]:
        if self.closed:
            return []
        effects: List[Effect] = []
        run: List[Dict[str, Any]] = []
        for event in events:
            if isinstance(event, NewMessage):
                run.append(event.message)
                continue
            if run:
                effects += self._receive(run, now, live=live)
                run = []
            effects += self._on_event(event, now)
        if run:
            effects += self._receive(run, now, live=live)
        return effects

    def _on_event(self, event: ServerEvent, now: float) -> List[Effect]:
        if isinstance(event, TypingIndicator):
            return self.typing.indicator(event, now)
        if isinstance(event, ReadReceipt) and event.reader_id != self.me_id:
            # AC-24/AC-25: ticks update in place, no refetch.
            self.cache.set_query_data(self.key, with_read_receipt(event.reader_id, event.read_at))
        elif isinstance(event, MessageUpdated):  # an edit or a delete: the node changes in place
            self.cache.set_query_data(self.key, with_changed(event.message))
        elif isinstance(event, MessageDeleted):
            self.cache.set_query_data(self.key, with_deleted(event.message_id))
        return []

    def _receive(self, messages: List[Dict[str, Any]], now: float, *, live: bool = False,
                 has_more_before: Optional[bool] = None, cmid_hint: Optional[str] = None,
                 news: bool = True, mark_read: bool = True) -> List[Effect]:
        """Merge messages from any source (socket, send answer, poll, fill) once by id."""
        if live and self.realtime and self.sync.live_complete:
            # The socket has been up since the last completed fill: nothing before this is missing.
            self.sync.note_synced([m["id"] for m in messages])
        log = self.log
        before = log.revision
        self.cache.set_query_data(self.key, with_messages(messages, has_more_before=has_more_before))
        added = [log.get(mid) for mid in log.changes_since(before).added_ids]
        effects = self.sends.confirm(messages, self.me_id, now, client_message_id=cmid_hint)
        # The first page and older history are not news for the list (AC-15): the
        # server's unread_count already counts them.
        if news and added:
            effects.append(NewMessages(self.cid, tuple(added), self.visible))
        from_other = [m for m in added if sent_by_other(m, self.me_id)]
        effects += self.typing.messages_from([m["sender"]["id"] for m in from_other])
        # AC-28: a message from the other party in the open, visible chat is read now.
        if mark_read and from_other and any(not m.get("is_read") for m in from_other):
            effects += self._mark_read(now)
        return effects

    def _initial_page(self, messages: List[Dict[str, Any]], has_more: bool, now: float) -> List[Effect]:
        held = len(self.log)
        self.sync.note_synced([m["id"] for m in messages])  # the newest page is complete
        # A log already holding more than this page (reopened from the cache) keeps its own has_more.
        effects = self._receive(messages, now, has_more_before=has_more if held <= len(messages) else None,
                                news=False, mark_read=False)
        # One call covers the whole page: the server marks everything of the other party.
        unread = self.conversation.get("unread_count") or any(
            not m.get("is_read") and sent_by_other(m, self.me_id) for m in messages)
        if unread:
            effects += self._mark_read(now)
        return effects
