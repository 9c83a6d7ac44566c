"""The open conversation's rules, as a Sans-I/O core.

Theory of operation
-------------------
`OpenConversation` decides everything about the conversation on screen except the socket's
lifecycle (that is ws_hook.py's) and performs no I/O. Its adapter (web/chat_controller.py)
feeds it inputs with the wall-clock time and carries out the effects each input returns, in
order; after every input it re-arms one timer for `next_wakeup(now)` and calls `tick(now)`
when that comes, as the socket adapter does for the connection machine:

    chat = OpenConversation(cache, conversation, me, stored_outbox=text_or_None)
    run(chat.open(now, visible=True))               # -> FetchPage(INITIAL), ShowPending
    run(chat.page_loaded(fetch, answer, now))       # messages into the cache, PostMarkRead
    run(chat.socket_events([NewMessage(...)], now)) # a run of socket events, in order
    run(chat.send("See you at 6", cmid, now))       # -> StoreOutbox, ShowPending, PostMessage
    run(chat.send_answered(cmid, answer, now))      # the pending send becomes the real one
    run(chat.tick(now))                             # at next_wakeup(now)

Confirmed messages live in the query cache under messages_key(cid) (STYLE 5: one owner),
written through message_log's updaters; the chat view subscribes to that key. Everything
else the world must do is an effect:

    effect              the adapter ...                            and answers with
    FetchPage           GET .../messages/ (limit, before, after)   page_loaded / page_failed
    PostMessage         POST .../send/ (a form when a file)        send_answered / send_failed
    PostMarkRead        POST .../read/                             mark_read_done(ok)
    SendTyping          a typing frame on the socket               -
    StoreOutbox         localStorage[outbox_storage_key] (None: remove it)
    ShowPending, ShowTyping, ShowBanner, ShowConnection, ShowHistoryStatus,
    ShowLoadFailed (a first page that failed: its reason and a Retry)       the view
    NewMessages, ConversationRead, RealtimeChanged                 the session (session.py)

Inputs: open, page_loaded / page_failed, socket_state (the machine's StateChanged),
socket_events (its Dispatch), inbox_events (the inbox socket's, used only while this chat's
own socket is down), gap_fill (its GapFill), poll (the session's poll is due),
send / retry / send_answered / send_failed, local_input (a keystroke), load_older,
mark_read_done, visibility_changed (the chat on screen or not), tick, close.

The rules, each where the spec asks for it:
- Gap fill (edge 7): `synced_id` is the newest id up to which EVERY message is held. A
  send's own answer or a poll can bring a newer id while the other party's messages in
  between were missed, so a fill asks `after=synced_id`, never after the log's last id.
  Exactly one fill runs at a time; one asked for meanwhile makes it go round once more.
  Live socket messages move `synced_id` only while the link has been up since the last
  completed fill. A poll whose newest page does not reach back to `synced_id` starts a fill.
- Read only when seen (issue 13): with `read_when_seen=True` (the browser, where an
  IntersectionObserver reports `messages_in_view`), a call goes out only once the newest
  unread message from the other party has been on screen while the chat was visible:
  scrolled up in history, new messages stay unread until scrolled into view. Since the server
  marks everything, a call (or a trailing one) that would cover an unseen message is not made.
  Without it (no observer) the chat being visible is taken as seeing its bottom, as before.
- Mark read (AC-28): at once for a lone message, coalesced in a stream (read_marker.py).
  The server marks ALL of the other party's messages read, so a call is only ever started
  while the chat is visible, and a trailing call waiting when the chat is hidden is
  dropped: it would cover messages that arrived unseen. When the chat is visible again,
  what is unread from the other party is marked then. A call's success marks read here only
  the messages it covered (up to the newest one from the other party when it started).
- Outbox: a send is shown pending at once and becomes the real message exactly once,
  whichever of its answer and the socket's copy comes first (outbox.py). Sends go out one at
  a time in the order written. A send that gets no answer from the server (no network, 5xx,
  408/425, a timeout, an ended session) is HELD, not failed: it waits with a clock mark and
  goes again, same client_message_id, on a backoff or as soon as the server is heard again
  (the socket connected, any page loaded). Only a refusal (4xx) makes it FAILED, with the
  server's detail and a Retry. Held sends survive a reload and go out by themselves once the
  first page has reconciled the ones the server had stored after all. While the conversation is
  not open its outbox belongs to core/held_sends.py, which sends by the same rules: opening
  takes it from there (`handed=`, with a send in flight whose answer then comes here), closing
  gives it back (`hand_over`), so no entry is ever posted by both at once.
- Typing (AC-16..AC-21): keystrokes become debounced frames, a send stops typing; the other
  party's indicator hides after 4 s of silence or when their message arrives.
- Banner (AC-29..AC-31): a pure function of the state and the outage's age (banner.py).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

from core.api_client import ApiError, NetworkError, error_text
from core.tokens import SessionExpired
from core.banner import OutageTracker, banner_for, banner_next_wakeup
from core.conversation_ops import other_party
from core.message_log import MessageLog, with_messages, with_read_from, with_read_receipt
from core import models
from core.outbox import Outbox, PendingMessage, SendStatus
from core.read_marker import ReadMarker
from core.typing_signals import TypingDisplay, TypingSender
from core.ws_events import InboxReadReceipt, NewMessage, ReadReceipt, ServerEvent, TypingIndicator
from core.query_cache import messages_key

PAGE_SIZE = 50  # CONTRACT: the default page
GAP_PAGE_SIZE = 200  # CONTRACT: the largest page, for catching up
MAX_GAP_PAGES = 50  # a fill stops after this many pages (10,000 messages)
NOT_SENT = "Not sent"
UNREADABLE_ANSWER = "The server's answer could not be read."
# Answers that say "not now" rather than "no": the send waits and goes again.
# Not 429: serve.py answers it for a per-user upload quota (24 h), where waiting is no answer;
# its detail says why, and the outbox sends one at a time, far under the send rate.
RETRYABLE_STATUSES = frozenset({408, 425})


def load_failure_text(error: BaseException) -> Optional[str]:
    """What the pane says when the conversation cannot load (None: the session ended)."""
    if isinstance(error, SessionExpired):
        return None
    if isinstance(error, ApiError) and error.detail:
        return f"Could not load this conversation: {error.detail}"
    if isinstance(error, NetworkError):
        return "Could not load this conversation: the server cannot be reached."
    return "Could not load this conversation."


def send_is_held(error: BaseException) -> bool:
    """True when a failed send should wait for the link, False when the server refused it.

    A refusal is a 4xx answer about the message (its `detail` says why). Everything that is
    not an answer about the message holds: no network, a timeout, a 5xx, 408/425, and an
    ended session (SessionExpired: the user logs in again and the outbox is still there).
    """
    if isinstance(error, ApiError):
        status = error.status
        return not (400 <= status < 500) or status in RETRYABLE_STATUSES
    return not isinstance(error, (ValueError, TypeError))


def outbox_storage_key(my_user_id: Any, conversation_id: Any) -> str:
    """Where the adapter keeps this conversation's unconfirmed sends (per user)."""
    return f"outbox:{my_user_id}:{conversation_id}"


def settle_failed_send(outbox: Outbox, client_message_id: str, error: BaseException,
                       now: float) -> Optional[PendingMessage]:
    """A send raised `error`: hold it for the link or mark it refused with the server's reason.

    The one rule for both owners of an outbox (the open chat and core/held_sends.py).
    None when the entry was confirmed meanwhile.
    """
    if send_is_held(error):
        return outbox.hold(client_message_id, now)
    return outbox.mark_failed(client_message_id, error_text(error, None) or NOT_SENT)


def parse_page(data: Any) -> Tuple[List[Dict[str, Any]], bool]:
    """(messages, has_more) from a messages answer; bad rows are dropped, never rendered."""
    if not isinstance(data, dict):
        return [], False
    rows = data.get("results")
    if not isinstance(rows, list):
        return [], False
    messages = [m for m in (models.parse_message(r) for r in rows) if m is not None]
    return messages, data.get("has_more") is True


# ----------------------------------------------------------------------------- effects


class Purpose(enum.Enum):
    INITIAL = "initial"  # the newest page, on open
    OLDER = "older"  # the page before the oldest held
    GAP = "gap"  # catching up after a reconnect (edge 7)
    POLL = "poll"  # the newest page, while the socket is down (AC-9)


@dataclass(frozen=True)
class FetchPage:
    purpose: Purpose
    limit: int
    before: Optional[int] = None
    after: Optional[int] = None


@dataclass(frozen=True)
class PostMessage:
    client_message_id: str
    content: str
    attachment: Any = None  # opaque to the core: the adapter's file object, or None


@dataclass(frozen=True)
class PostMarkRead:
    up_to_id: Optional[int]  # the newest message held when it started: what it covers


@dataclass(frozen=True)
class SendTyping:
    is_typing: bool


@dataclass(frozen=True)
class StoreOutbox:
    key: str
    text: Optional[str]  # None: remove the key (nothing is pending)


@dataclass(frozen=True)
class ShowPending:
    pending: Tuple[PendingMessage, ...]


@dataclass(frozen=True)
class ShowTyping:
    names: Tuple[str, ...]


@dataclass(frozen=True)
class ShowBanner:
    kind: Optional[str]  # banner.py: "reconnecting", "failed" or None


@dataclass(frozen=True)
class ShowConnection:
    state: str  # data-ws-state


@dataclass(frozen=True)
class ShowHistoryStatus:
    text: str  # "Loading earlier messages…" or a calm error


@dataclass(frozen=True)
class ShowLoadFailed:
    """The conversation could not load: say so in its pane with a Retry (None: hide it)."""

    text: Optional[str]


@dataclass(frozen=True)
class NewMessages:
    """For the list (AC-15): messages new to this client, and whether the chat was seen."""

    conversation_id: Any
    messages: Tuple[Dict[str, Any], ...]
    chat_visible: bool


@dataclass(frozen=True)
class ConversationRead:
    """Our mark-read call succeeded; `still_unread` arrived after it started."""

    conversation_id: Any
    still_unread: int


@dataclass(frozen=True)
class RealtimeChanged:
    realtime: bool


Effect = Union[FetchPage, PostMessage, PostMarkRead, SendTyping, StoreOutbox, ShowPending, ShowTyping,
               ShowBanner, ShowConnection, ShowHistoryStatus, NewMessages, ConversationRead, RealtimeChanged]


# ----------------------------------------------------------------------------- the core


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
        self.closed = False
        self.visible = True
        self.state = "connecting"
        self.reason: Optional[str] = None
        self.outage = OutageTracker()
        self.read_marker = ReadMarker()
        self._read_up_to: Optional[int] = None  # what the call in flight covers
        self.read_when_seen = read_when_seen
        self._in_view: Tuple[int, ...] = ()  # the other party's messages on screen now
        self.seen_up_to: Optional[int] = None  # newest of theirs on screen while visible
        self.typing_sender = TypingSender()
        self.typing_display = TypingDisplay()
        # Edge 7, see the module docstring.
        self.synced_id: Optional[int] = None
        self.gap_open = False  # a reconnect happened and no fill has completed since
        self.gap_filling = False
        self._gap_again = False
        self._gap_after: Optional[int] = None
        self._gap_pages = 0
        self._gap_for_poll = False  # the fill was started by a poll (which stays busy)
        self.polling = False  # a messages poll (and the fill it started) is under way
        self.loading_older = False
        self.initial = "loading"  # the first page: "loading", "failed" or "loaded"
        if cache.get_query_data(self.key) is None:
            cache.set_query_data(self.key, MessageLog())
        self.outbox = Outbox(self.cid)
        self._attachments: Dict[str, Any] = {}  # client_message_id -> the adapter's file, in memory only
        if handed is not None:
            # From core/held_sends.py: this conversation's sends, maybe one in flight (its answer
            # comes here), with the files kept in memory. Nothing is read back from storage.
            self.outbox, attachments = handed
            self._attachments = dict(attachments)
        elif stored_outbox:
            try:
                self.outbox = Outbox.from_json(stored_outbox)
            except ValueError:
                pass  # not an outbox: start empty

    def hand_over(self) -> Tuple[Outbox, Dict[str, Any]]:
        """Closing: the outbox (and its in-memory files) goes back to core/held_sends.py."""
        return self.outbox, dict(self._attachments)

    # ------------------------------------------------------------------ what it shows

    @property
    def log(self) -> MessageLog:
        return self.cache.get_query_data(self.key)

    @property
    def realtime(self) -> bool:
        return self.state == "connected"

    @property
    def outbox_key(self) -> str:
        return outbox_storage_key(self.me_id, self.cid)

    def next_wakeup(self, now: float) -> Optional[float]:
        if self.closed:
            return None
        wakes = [w for w in (self.typing_sender.next_wakeup(), self.typing_display.next_wakeup(),
                             banner_next_wakeup(self.state, self.reason, self.outage.since, now),
                             self.read_marker.next_wakeup(), self.outbox.next_wakeup()) if w is not None]
        return min(wakes) if wakes else None

    # ------------------------------------------------------------------ inputs

    def open(self, now: float, visible: bool = True) -> List[Effect]:
        self.visible = bool(visible)
        return [ShowPending(tuple(self.outbox.pending())), FetchPage(Purpose.INITIAL, PAGE_SIZE)]

    def close(self, now: float) -> List[Effect]:
        """The conversation left the screen: nothing more goes out."""
        self.closed = True
        self.read_marker.cancel()
        return []

    def visibility_changed(self, visible: bool, now: float) -> List[Effect]:
        was, self.visible = self.visible, bool(visible)
        if self.closed or was == self.visible:
            return []
        if not self.visible:
            # A trailing call waiting now would cover what arrives unseen (AC-28): drop it.
            self.read_marker.cancel()
            return []
        self._note_seen(self._in_view)  # what is on screen now is seen now
        # AC-28 also covers messages that arrived while the chat was hidden.
        log = self.log
        if log is not None and any(self._from_other(log.get(i)) for i in log.unread_ids()):
            return self._mark_read(now)
        return []

    def messages_in_view(self, ids: Tuple[int, ...], now: float) -> List[Effect]:
        """The other party's messages now on screen (the adapter's IntersectionObserver)."""
        self._in_view = tuple(i for i in ids if isinstance(i, int))
        if self.closed or not self.visible or not self._note_seen(self._in_view):
            return []
        log = self.log
        if any(self._from_other(log.get(i)) for i in log.unread_ids()):
            return self._mark_read(now)
        return []

    def socket_state(self, state: str, reason: Optional[str], now: float) -> List[Effect]:
        self.state, self.reason = state, reason
        self.outage.on_state(state, now)
        effects: List[Effect] = [ShowConnection(state), self._banner(now), RealtimeChanged(self.realtime)]
        if self.realtime and not self.closed:
            effects += self._server_heard(now)  # the server is back: held sends go out
            if self.initial == "failed":
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

    def gap_fill(self, now: float) -> List[Effect]:
        """The machine's GapFill (edge 7): the link is back after an outage."""
        self.gap_open = True
        return self._start_gap_fill()

    def poll(self, now: float) -> List[Effect]:
        """AC-9/AC-13: the newest page (new messages and read ticks)."""
        if self.closed or self.polling:
            return []
        self.polling = True
        return [FetchPage(Purpose.POLL, PAGE_SIZE)]

    def load_older(self, now: float) -> List[Effect]:
        log = self.log
        if self.loading_older or self.closed or not log.has_more_before or log.first_id is None:
            return []
        self.loading_older = True
        return [ShowHistoryStatus("Loading earlier messages…"),
                FetchPage(Purpose.OLDER, PAGE_SIZE, before=log.first_id)]

    def page_loaded(self, fetch: FetchPage, data: Any, now: float) -> List[Effect]:
        if self.closed:
            return []
        messages, has_more = parse_page(data)
        if fetch.purpose is Purpose.INITIAL:
            self.initial = "loaded"
            effects = self._initial_page(messages, has_more, now)
        elif fetch.purpose is Purpose.OLDER:
            self.loading_older = False
            effects = self._receive(messages, now, has_more_before=has_more, news=False)
        elif fetch.purpose is Purpose.GAP:
            effects = self._gap_page(messages, has_more, now)
        else:
            effects = self._poll_page(messages, now)
        # The server answered (and the page has reconciled what it had stored): held sends go.
        return effects + self._server_heard(now)

    def page_failed(self, fetch: FetchPage, error: BaseException, now: float) -> List[Effect]:
        """The fetch raised `error` (api_client's ApiError, NetworkError, SessionExpired...)."""
        if fetch.purpose is Purpose.OLDER:
            self.loading_older = False
        elif fetch.purpose is Purpose.GAP:
            self.gap_filling = False  # gap_open stays: the next link or poll fills
            if self._gap_for_poll:
                self._gap_for_poll = self.polling = False
        elif fetch.purpose is Purpose.POLL:
            self.polling = False
        if self.closed:
            return []
        if fetch.purpose is Purpose.INITIAL:
            self.initial = "failed"
            reason = load_failure_text(error)
            return [ShowLoadFailed(reason)] if reason else []
        fallback = {Purpose.INITIAL: "Could not load messages.",
                    Purpose.OLDER: "Could not load earlier messages."}.get(fetch.purpose)
        text = error_text(error, fallback) if fallback else None
        return [ShowHistoryStatus(text)] if text else []

    def retry_load(self, now: float) -> List[Effect]:
        """Retry in the pane of a conversation that could not load (or the link came back)."""
        if self.closed or self.initial != "failed":
            return []  # loading or loaded: a double tap asks once
        self.initial = "loading"
        return [ShowLoadFailed(None), FetchPage(Purpose.INITIAL, PAGE_SIZE)]

    def send(self, text: str, client_message_id: str, now: float, *,
             image_name: Optional[str] = None, attachment: Any = None) -> List[Effect]:
        log = self.log
        self.outbox.add(text, client_message_id, now, image_name=image_name,
                        after_id=log.last_id if log is not None else None)
        if attachment is not None:
            self._attachments[client_message_id] = attachment
        posts = self._take_next(now)
        effects = self._outbox_changed()
        # AC-19: typing stops the moment a message is sent.
        effects += [SendTyping(value) for value in self.typing_sender.on_message_sent(now)]
        return effects + posts

    def retry(self, client_message_id: str, now: float) -> List[Effect]:
        item = self.outbox.retry(client_message_id)
        if item is None:
            return []  # confirmed, unknown, or still on its way: a double tap sends once
        # Same client_message_id: the server stores it at most once (CONTRACT).
        return self._outbox_step(now)

    def send_answered(self, client_message_id: str, data: Any, now: float) -> List[Effect]:
        if self.closed:
            return []
        parsed = models.parse_message(data)
        if parsed is None:
            # A 2xx we cannot read: not held (the server answered), said as it is.
            if self.outbox.mark_failed(client_message_id, UNREADABLE_ANSWER) is None:
                return []
            return self._outbox_step(now)
        return self._receive([parsed], now, cmid_hint=client_message_id)

    def send_failed(self, client_message_id: str, error: BaseException, now: float) -> List[Effect]:
        if self.closed:
            return []
        if settle_failed_send(self.outbox, client_message_id, error, now) is None:
            return []
        return self._outbox_step(now)

    def local_input(self, now: float) -> List[Effect]:
        """A keystroke in the composer (AC-16, AC-17)."""
        return [SendTyping(value) for value in self.typing_sender.on_input(now)]

    def mark_read_done(self, ok: bool, now: float) -> List[Effect]:
        if self.closed:
            return []
        effects: List[Effect] = []
        if ok:
            up_to = self._read_up_to
            self.cache.set_query_data(self.key, with_read_from(self.other.get("id"), up_to=up_to))
            effects.append(ConversationRead(self.cid, self._unread_from_other_after(up_to)))
        self._read_up_to = None
        if not self._unread_seen():
            self.read_marker.cancel()  # a trailing call would cover what is not seen yet
        if self.read_marker.finished(now):
            effects += self._start_mark_read()
        return effects

    def tick(self, now: float) -> List[Effect]:
        if self.closed:
            return []
        effects: List[Effect] = [SendTyping(value) for value in self.typing_sender.tick(now)]
        if self.typing_display.tick(now):
            effects.append(self._typing())
        if not self._unread_seen():
            self.read_marker.cancel()  # a trailing call would cover what is not seen yet
        if self.read_marker.tick(now):
            effects += self._start_mark_read()
        due = self.outbox.next_wakeup()
        if due is not None and now >= due:
            effects += self._outbox_step(now)  # a held send's next try
        effects.append(self._banner(now))
        return effects

    # ------------------------------------------------------------------ internals

    def _from_other(self, message: Optional[Dict[str, Any]]) -> bool:
        return message is not None and message["sender"]["id"] != self.me_id

    def _banner(self, now: float) -> ShowBanner:
        return ShowBanner(banner_for(self.state, self.reason, self.outage.since, now))

    def _typing(self) -> ShowTyping:
        other_id = self.other.get("id")
        names = tuple((self.other.get("first_name") or "Someone") if uid == other_id else "Someone"
                      for uid in self.typing_display.typing_user_ids())
        return ShowTyping(names)

    def _outbox_changed(self) -> List[Effect]:
        pending = self.outbox.pending()
        for cmid in [c for c in self._attachments if self.outbox.get(c) is None]:
            del self._attachments[cmid]  # confirmed or discarded: the file is let go
        return [StoreOutbox(self.outbox_key, self.outbox.to_json() if pending else None),
                ShowPending(tuple(pending))]

    def _take_next(self, now: float) -> List[Effect]:
        """The next send to post (one at a time, oldest first), if it is its turn."""
        entry = self.outbox.take_next(now)
        if entry is None or self.closed:
            return []
        return [PostMessage(entry.client_message_id, entry.content,
                            self._attachments.get(entry.client_message_id))]

    def _outbox_step(self, now: float) -> List[Effect]:
        """The outbox changed: post what is due, then store and show it."""
        posts = self._take_next(now)
        return self._outbox_changed() + posts

    def _server_heard(self, now: float) -> List[Effect]:
        if self.outbox.link_up(now):
            return self._outbox_step(now)
        return []

    def _on_event(self, event: ServerEvent, now: float) -> List[Effect]:
        if isinstance(event, TypingIndicator):
            # AC-20: only the other party's typing is shown.
            if event.user_id != self.me_id and self.typing_display.on_indicator(event.user_id, event.is_typing, now):
                return [self._typing()]
        elif isinstance(event, ReadReceipt):
            # AC-24/AC-25: ticks update in place, no refetch.
            if event.reader_id != self.me_id:
                self.cache.set_query_data(self.key, with_read_receipt(event.reader_id, event.read_at))
        return []

    def _note_synced(self, ids: List[int]) -> None:
        if ids:
            top = max(ids)
            if self.synced_id is None or top > self.synced_id:
                self.synced_id = top

    def _receive(self, messages: List[Dict[str, Any]], now: float, *, live: bool = False,
                 has_more_before: Optional[bool] = None, cmid_hint: Optional[str] = None,
                 news: bool = True, mark_read: bool = True) -> List[Effect]:
        """Merge messages from any source (socket, send answer, poll, fill) once by id."""
        if live and self.realtime and not self.gap_open and not self.gap_filling:
            # The socket has been up since the last completed fill: nothing before this is missing.
            self._note_synced([m["id"] for m in messages])
        log = self.log
        before = log.revision
        self.cache.set_query_data(self.key, with_messages(messages, has_more_before=has_more_before))
        added = [log.get(mid) for mid in log.changes_since(before).added_ids]
        effects: List[Effect] = []
        if cmid_hint is not None:
            resolved = [self.outbox.resolve(m, self.me_id, client_message_id=cmid_hint) for m in messages]
        else:
            resolved = self.outbox.reconcile(messages, self.me_id)
        if any(r is not None for r in resolved):
            effects += self._outbox_step(now)  # confirmed: the next in line goes
        # The first page and older history are not news for the list (AC-15): the
        # server's unread_count already counts them.
        if news and added:
            effects.append(NewMessages(self.cid, tuple(added), self.visible))
        from_other = [m for m in added if self._from_other(m)]
        if any([self.typing_display.on_message_from(m["sender"]["id"]) for m in from_other]):
            effects.append(self._typing())
        # AC-28: a message from the other party in the open, visible chat is read now.
        if mark_read and from_other and any(not m.get("is_read") for m in from_other):
            effects += self._mark_read(now)
        return effects

    def _initial_page(self, messages: List[Dict[str, Any]], has_more: bool, now: float) -> List[Effect]:
        held = len(self.log)
        self._note_synced([m["id"] for m in messages])  # the newest page is complete
        # A log already holding more than this page (reopened from the cache) keeps its own has_more.
        effects = self._receive(messages, now, has_more_before=has_more if held <= len(messages) else None,
                                news=False, mark_read=False)
        # One call covers the whole page: the server marks everything of the other party.
        unread = self.conversation.get("unread_count") or any(
            not m.get("is_read") and self._from_other(m) for m in messages)
        if unread:
            effects += self._mark_read(now)
        return effects

    def _start_gap_fill(self) -> List[Effect]:
        if self.closed:
            return []
        if self.gap_filling:
            self._gap_again = True  # a second outage during a fill is covered too
            return []
        self.gap_filling = True
        self._gap_again = False
        self._gap_pages = 0
        self._gap_after = self.synced_id
        return [self._gap_fetch()]

    def _gap_fetch(self) -> FetchPage:
        self._gap_pages += 1
        if self._gap_after is None:
            return FetchPage(Purpose.GAP, PAGE_SIZE)
        return FetchPage(Purpose.GAP, GAP_PAGE_SIZE, after=self._gap_after)

    def _gap_page(self, messages: List[Dict[str, Any]], has_more: bool, now: float) -> List[Effect]:
        effects = self._receive(messages, now)
        if messages:
            self._gap_after = max(m["id"] for m in messages)
        if has_more and messages and self.synced_id is not None and self._gap_pages < MAX_GAP_PAGES:
            return effects + [self._gap_fetch()]
        if self._gap_after is not None:
            self._note_synced([self._gap_after])
        self.gap_filling = False
        if self._gap_again:
            return effects + self._start_gap_fill()
        self.gap_open = False
        if self._gap_for_poll:
            self._gap_for_poll = self.polling = False
        return effects

    def _poll_page(self, messages: List[Dict[str, Any]], now: float) -> List[Effect]:
        effects = self._receive(messages, now)
        if messages and self.synced_id is not None and messages[0]["id"] > self.synced_id:
            # More than a page was missed: fill from the last complete point.
            if self.gap_filling:
                self._gap_again = True
                self.polling = False
                return effects
            self._gap_for_poll = True
            return effects + self._start_gap_fill()
        if messages:
            self._note_synced([m["id"] for m in messages])  # the page reaches back to what we had
        self.polling = False
        return effects

    # -- mark read (AC-28) --

    def _mark_read(self, now: float) -> List[Effect]:
        """Something from the other party is unread in the chat."""
        if self.closed or not self.visible:
            return []  # never while hidden: visibility_changed(True) asks again
        if not self._unread_seen():
            return []  # scrolled away from it: messages_in_view asks again when it shows
        if self.read_marker.request(now):
            return self._start_mark_read()
        return []  # in flight or too soon: one trailing call follows (next_wakeup / finished)

    def _note_seen(self, ids: Tuple[int, ...]) -> bool:
        """Ids on screen while visible move `seen_up_to`; True when it moved."""
        top = max(ids, default=None)
        if top is None or (self.seen_up_to is not None and top <= self.seen_up_to):
            return False
        self.seen_up_to = top
        return True

    def _unread_seen(self) -> bool:
        """Every unread message from the other party has been on screen (or nothing tracks it)."""
        if not self.read_when_seen:
            return True
        newest = self.log.newest_unread(other_than=self.me_id)  # O(1) per arrival, not O(unread)
        return newest is None or (self.seen_up_to is not None and newest <= self.seen_up_to)

    def _start_mark_read(self) -> List[Effect]:
        self._read_up_to = self.log.last_id
        return [PostMarkRead(self._read_up_to)]

    def _unread_from_other_after(self, up_to: Optional[int]) -> int:
        log = self.log
        return sum(1 for mid in log.unread_ids()
                   if (up_to is None or mid > up_to) and self._from_other(log.get(mid)))
