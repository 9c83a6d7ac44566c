"""The open conversation's rules (core/open_conversation.py): gap fill (edge 7), mark read
(AC-28), the outbox, typing wiring (AC-16..AC-21) and the banner, under a fake clock.

No browser: a `Chat` drives `OpenConversation` with a real QueryCache, records every effect
with the time it came out, and answers fetches and calls the way the server would.
"""
import json

import pytest

from core.api_client import ApiError, NetworkError
from core.message_log import MessageLog
from core.open_conversation import (
    ConversationRead, FetchPage, NewMessages, OpenConversation, PostMarkRead, PostMessage, Purpose,
    RealtimeChanged, SendTyping, ShowBanner, ShowConnection, ShowHistoryStatus, ShowPending, ShowTyping,
    StoreOutbox, outbox_storage_key,
)
from core.outbox import NOT_SENT_AFTER_RELOAD, SendStatus
from core.ws_events import NewMessage, ReadReceipt, TypingIndicator
from query_cache import QueryCache, messages_key

T0 = 1_700_000_000.0
CID = 7
ME = {"id": 1, "first_name": "Coach", "last_name": "C", "profile_image": None}
ALEX = {"id": 2, "first_name": "Alex", "last_name": "Runner", "profile_image": None}


def conversation(unread=0, archived=False):
    return {"id": CID, "trainer": ME, "trainee": ALEX, "unread_count": unread, "is_archived": archived,
            "last_message_preview": None, "last_message_at": None}


def msg(mid, sender=ALEX, content=None, is_read=False, cmid=None):
    message = {"id": mid, "conversation_id": CID, "sender": sender, "content": content or f"m{mid}",
               "image": None, "is_read": is_read, "read_at": None, "created_at": "2024-03-01T12:00:00Z"}
    if cmid is not None:
        message["client_message_id"] = cmid
    return message


def page(*messages, has_more=False):
    return {"results": list(messages), "has_more": has_more}


class Chat:
    """OpenConversation on a fake clock; `effects` holds (seconds after T0, effect)."""

    def __init__(self, conv=None, stored_outbox=None, visible=True, cache=None):
        self.cache = cache or QueryCache(clock=lambda: self.now)
        self.now = T0
        self.core = OpenConversation(self.cache, conv or conversation(), ME, stored_outbox=stored_outbox)
        self.effects = []
        self.run(self.core.open(self.now, visible=visible))

    @property
    def t(self):
        return self.now - T0

    def run(self, effects):
        self.effects += [(round(self.t, 3), e) for e in effects]
        return effects

    def at(self, seconds):
        """Advance the clock to T0 + seconds, ticking at every wake-up on the way."""
        target = T0 + seconds
        while True:
            wake = self.core.next_wakeup(self.now)
            if wake is None or wake > target:
                break
            self.now = max(self.now, wake)
            self.run(self.core.tick(self.now))
        self.now = target

    def of(self, kind):
        return [e for _, e in self.effects if isinstance(e, kind)]

    def timed(self, kind):
        return [(t, e) for t, e in self.effects if isinstance(e, kind)]

    def fetches(self):
        return self.of(FetchPage)

    def last_fetch(self):
        return self.fetches()[-1]

    def load(self, answer, fetch=None):
        return self.run(self.core.page_loaded(fetch or self.last_fetch(), answer, self.now))

    def connect(self):
        return self.run(self.core.socket_state("connected", None, self.now))

    def socket(self, *events):
        return self.run(self.core.socket_events(list(events), self.now))

    def hide(self):
        return self.run(self.core.visibility_changed(False, self.now))

    def show(self):
        return self.run(self.core.visibility_changed(True, self.now))

    def read_done(self, ok=True):
        return self.run(self.core.mark_read_done(ok, self.now))

    @property
    def log(self):
        return self.cache.get_query_data(messages_key(CID))


def opened(*messages, conv=None, has_more=False, connected=True, visible=True):
    chat = Chat(conv, visible=visible)
    chat.load(page(*messages, has_more=has_more))
    if connected:
        chat.connect()
    return chat


# ----- opening ------------------------------------------------------------------------------------


def test_opening_fetches_the_newest_page_once_and_shows_the_outbox():
    chat = Chat()
    assert [e for _, e in chat.effects] == [ShowPending(()), FetchPage(Purpose.INITIAL, 50)]
    chat.load(page(msg(1, ME), msg(2, ME, is_read=True), has_more=True))
    assert chat.log.ids() == (1, 2) and chat.log.has_more_before is True
    assert chat.of(NewMessages) == []  # the first page is not news for the list (AC-15)
    assert chat.of(PostMarkRead) == []  # nothing unread from Alex


def test_a_first_page_that_fails_says_so_calmly():
    chat = Chat()
    effects = chat.run(chat.core.page_failed(chat.last_fetch(), ApiError(500, "The server had a problem."), chat.now))
    assert effects == [ShowHistoryStatus("The server had a problem.")]
    chat2 = Chat()
    assert chat2.core.page_failed(chat2.last_fetch(), RuntimeError("x"), chat2.now) == \
        [ShowHistoryStatus("Could not load messages.")]


def test_older_history_is_asked_before_the_oldest_id_once_at_a_time():
    chat = opened(*[msg(i, ME, is_read=True) for i in range(51, 101)], has_more=True)
    effects = chat.run(chat.core.load_older(chat.now))
    assert effects == [ShowHistoryStatus("Loading earlier messages…"), FetchPage(Purpose.OLDER, 50, before=51)]
    assert chat.core.load_older(chat.now) == []  # already loading
    chat.load(page(*[msg(i, ME, is_read=True) for i in range(1, 51)], has_more=False))
    assert chat.log.first_id == 1 and chat.log.has_more_before is False
    assert chat.core.load_older(chat.now) == []  # nothing older


# ----- gap fill (edge 7) -------------------------------------------------------------------------


def test_a_reconnect_refetches_exactly_once_from_the_last_id_known_complete():
    chat = opened(msg(1), msg(2), msg(3))
    chat.run(chat.core.socket_state("disconnected", None, chat.now))
    # Our own send's answer brings id 10 while Alex's 4..9 were missed during the outage.
    chat.run(chat.core.send("back", "c-1", chat.now))
    chat.run(chat.core.send_answered("c-1", msg(10, ME, content="back"), chat.now))
    chat.connect()
    before = len(chat.fetches())
    chat.run(chat.core.gap_fill(chat.now))
    assert chat.fetches()[before:] == [FetchPage(Purpose.GAP, 200, after=3)]
    chat.load(page(*[msg(i) for i in range(4, 11)]))
    assert chat.fetches()[before:] == [FetchPage(Purpose.GAP, 200, after=3)]  # one refetch, no more
    assert chat.log.ids() == tuple(range(1, 11))
    assert chat.core.synced_id == 10 and chat.core.gap_filling is False and chat.core.gap_open is False


def test_a_fill_asked_for_during_a_fill_goes_round_once_more_from_where_the_first_ended():
    chat = opened(msg(1), msg(2))
    before = len(chat.fetches())
    chat.run(chat.core.gap_fill(chat.now))
    chat.run(chat.core.gap_fill(chat.now))  # a second outage while the first fill runs
    assert chat.fetches()[before:] == [FetchPage(Purpose.GAP, 200, after=2)]
    chat.load(page(msg(3), msg(4)))
    assert chat.fetches()[before:] == [FetchPage(Purpose.GAP, 200, after=2), FetchPage(Purpose.GAP, 200, after=4)]
    chat.load(page())
    assert len(chat.fetches()) == before + 2 and chat.core.gap_filling is False


def test_a_long_gap_is_fetched_page_by_page_after_the_newest_of_each():
    chat = opened(msg(1))
    before = len(chat.fetches())
    chat.run(chat.core.gap_fill(chat.now))
    chat.load(page(*[msg(i) for i in range(2, 202)], has_more=True))
    chat.load(page(msg(202), msg(203)))
    assert chat.fetches()[before:] == [FetchPage(Purpose.GAP, 200, after=1), FetchPage(Purpose.GAP, 200, after=201)]
    assert chat.core.synced_id == 203


def test_live_messages_move_the_complete_point_only_while_no_gap_is_open():
    chat = opened(msg(1))
    chat.socket(NewMessage(msg(2)))
    assert chat.core.synced_id == 2
    chat.run(chat.core.gap_fill(chat.now))
    chat.socket(NewMessage(msg(9)))  # arrives before the fill answered: 3..8 may be missing
    assert chat.core.synced_id == 2
    assert chat.last_fetch() == FetchPage(Purpose.GAP, 200, after=2)


def test_a_failed_fill_leaves_the_gap_open_and_the_next_fill_starts_from_the_same_point():
    chat = opened(msg(1), msg(2))
    chat.run(chat.core.gap_fill(chat.now))
    fill = chat.last_fetch()
    assert chat.core.page_failed(fill, NetworkError("TypeError"), chat.now) == []
    assert chat.core.gap_filling is False and chat.core.gap_open is True
    chat.run(chat.core.gap_fill(chat.now))
    assert chat.last_fetch() == FetchPage(Purpose.GAP, 200, after=2)


def test_a_poll_that_reaches_back_moves_the_complete_point_and_one_that_does_not_starts_a_fill():
    chat = opened(msg(1), msg(2), connected=False)
    chat.run(chat.core.poll(chat.now))
    assert chat.last_fetch() == FetchPage(Purpose.POLL, 50)
    assert chat.core.poll(chat.now) == []  # one poll at a time
    chat.load(page(msg(2), msg(3)))
    assert chat.core.synced_id == 3 and chat.core.polling is False
    chat.run(chat.core.poll(chat.now))
    chat.load(page(*[msg(i) for i in range(60, 110)]))  # more than a page was missed
    assert chat.last_fetch() == FetchPage(Purpose.GAP, 200, after=3)
    assert chat.core.poll(chat.now) == []  # the poll is busy until its fill ends
    chat.load(page(*[msg(i) for i in range(4, 60)]))
    assert chat.core.polling is False and chat.log.ids() == tuple(range(1, 110))


# ----- mark read (AC-28) --------------------------------------------------------------------------


def test_a_lone_message_in_the_visible_chat_is_marked_read_at_once():
    chat = opened(msg(1, ME, is_read=True))
    chat.at(10)
    chat.socket(NewMessage(msg(2)))
    assert chat.timed(PostMarkRead) == [(10, PostMarkRead(2))]
    chat.read_done()
    assert chat.log.get(2)["is_read"] is True
    assert chat.of(ConversationRead) == [ConversationRead(CID, 0)]


def test_a_stream_is_coalesced_into_one_call_now_and_one_trailing_call():
    chat = opened(msg(1, ME, is_read=True))
    chat.at(10)
    chat.socket(NewMessage(msg(2)))
    chat.at(10.2)
    chat.socket(NewMessage(msg(3)))
    chat.at(10.3)
    chat.read_done()
    chat.socket(NewMessage(msg(4)))
    chat.at(10.9)
    assert chat.timed(PostMarkRead) == [(10, PostMarkRead(2))]
    chat.at(11.5)
    assert chat.timed(PostMarkRead) == [(10, PostMarkRead(2)), (11.0, PostMarkRead(4))]
    chat.read_done()
    assert chat.log.unread_ids() == ()


def test_opening_a_conversation_with_unread_messages_marks_them_read_with_one_call():
    chat = opened(msg(1), msg(2), conv=conversation(unread=2))
    chat.at(5)
    assert chat.timed(PostMarkRead) == [(0, PostMarkRead(2))]


def test_nothing_is_marked_read_while_the_chat_is_hidden_and_all_of_it_when_it_is_seen():
    chat = opened(msg(1, ME, is_read=True))
    chat.hide()
    chat.socket(NewMessage(msg(2)))
    chat.at(30)
    assert chat.of(PostMarkRead) == []
    assert chat.of(NewMessages) == [NewMessages(CID, (msg(2),), False)]
    chat.show()
    assert chat.timed(PostMarkRead) == [(30, PostMarkRead(2))]


def test_a_hidden_background_tab_opening_the_app_does_not_mark_read():
    chat = opened(msg(1), msg(2), conv=conversation(unread=2), visible=False)
    chat.at(5)
    assert chat.of(PostMarkRead) == []
    chat.show()
    assert chat.timed(PostMarkRead) == [(5, PostMarkRead(2))]


def test_bug1_a_message_that_arrived_while_hidden_is_never_covered_by_a_mark_read():
    # Open with unread: the call goes out; the tab is hidden within the second that a
    # trailing call would wait, and Alex's next message arrives while hidden.
    chat = opened(msg(1), msg(2), conv=conversation(unread=2))
    chat.socket(NewMessage(msg(3)))  # arrives while the first call is in flight: trailing
    chat.at(0.2)
    chat.hide()
    chat.socket(NewMessage(msg(4)))  # never seen
    chat.at(0.4)
    chat.read_done()
    chat.at(5)
    assert chat.timed(PostMarkRead) == [(0, PostMarkRead(2))]  # no call while hidden
    assert chat.log.get(4)["is_read"] is False  # our call did not cover it
    assert chat.of(ConversationRead)[-1] == ConversationRead(CID, 2)  # 3 and 4 are still unread
    chat.show()
    assert chat.timed(PostMarkRead)[-1] == (5, PostMarkRead(4))



def test_a_failed_mark_read_changes_nothing_and_the_trailing_call_still_follows():
    chat = opened(msg(1))
    chat.socket(NewMessage(msg(2)))
    chat.read_done(ok=False)
    assert chat.log.unread_ids() == (1, 2) and chat.of(ConversationRead) == []
    chat.at(2)
    assert [e for _, e in chat.timed(PostMarkRead)] == [PostMarkRead(1), PostMarkRead(2)]


def test_closing_drops_a_waiting_mark_read():
    chat = opened(msg(1))
    chat.socket(NewMessage(msg(2)))
    chat.run(chat.core.close(chat.now))
    chat.read_done()
    chat.at(5)
    assert chat.of(PostMarkRead) == [PostMarkRead(1)]


def test_a_read_receipt_from_alex_ticks_my_messages_in_place():
    chat = opened(msg(1, ME), msg(2, ME), msg(3))
    chat.socket(ReadReceipt(reader_id=2, read_at="2024-03-01T12:01:00Z"))
    assert chat.log.get(1)["is_read"] is True and chat.log.get(2)["read_at"] == "2024-03-01T12:01:00Z"
    assert chat.log.get(3)["is_read"] is False  # Alex's own message is not read by his receipt
    chat.socket(ReadReceipt(reader_id=1, read_at="2024-03-01T12:02:00Z"))  # mine: ignored
    assert chat.log.get(3)["is_read"] is False


# ----- new messages for the list (AC-15) ----------------------------------------------------------


def test_every_message_new_to_the_client_reaches_the_list_exactly_once():
    chat = opened(msg(1, is_read=True))
    chat.socket(NewMessage(msg(2)), NewMessage(msg(3)), TypingIndicator(user_id=2, is_typing=True), NewMessage(msg(4)))
    chat.socket(NewMessage(msg(3)))  # a duplicate (edge 6)
    assert chat.of(NewMessages) == [NewMessages(CID, (msg(2), msg(3)), True), NewMessages(CID, (msg(4),), True)]


# ----- outbox ---------------------------------------------------------------------------------------


def sent(chat, text="See you at 6", cmid="c-1"):
    return chat.run(chat.core.send(text, cmid, chat.now))


def test_a_send_is_pending_at_once_and_stored():
    chat = opened(msg(1, ME, is_read=True))
    effects = sent(chat)
    entry = chat.core.outbox.get("c-1")
    assert effects == [StoreOutbox(outbox_storage_key(1, CID), chat.core.outbox.to_json()),
                       ShowPending((entry,)), PostMessage("c-1", "See you at 6", None)]
    assert entry.status is SendStatus.PENDING and entry.after_id == 1


@pytest.mark.parametrize("socket_first", [True, False])
def test_a_pending_send_becomes_the_real_message_exactly_once(socket_first):
    chat = opened(msg(1, ME, is_read=True))
    sent(chat)
    real = msg(5, ME, content="See you at 6", cmid="c-1")
    answer = lambda: chat.run(chat.core.send_answered("c-1", real, chat.now))  # noqa: E731
    socket = lambda: chat.socket(NewMessage(real))  # noqa: E731
    first, second = (socket, answer) if socket_first else (answer, socket)
    assert first()[:2] == [StoreOutbox(outbox_storage_key(1, CID), None), ShowPending(())]
    assert second() == []
    assert chat.log.ids() == (1, 5) and len(chat.of(NewMessages)) == 1


def test_an_answer_without_an_echo_resolves_by_the_send_it_answers():
    chat = opened()
    sent(chat, "ok", "c-1")
    sent(chat, "ok", "c-2")
    chat.run(chat.core.send_answered("c-2", msg(9, ME, content="ok"), chat.now))
    assert [e.client_message_id for e in chat.core.outbox.pending()] == ["c-1"]


def test_a_failed_send_is_kept_and_a_retry_reuses_its_client_message_id_once():
    chat = opened()
    sent(chat)
    effects = chat.run(chat.core.send_failed("c-1", NetworkError("TypeError"), chat.now))
    failed = chat.core.outbox.get("c-1")
    assert failed.status is SendStatus.FAILED and failed.error == "Offline: will retry."
    assert effects[-1] == ShowPending((failed,))
    assert chat.run(chat.core.retry("c-1", chat.now))[-1] == PostMessage("c-1", "See you at 6", None)
    assert chat.core.retry("c-1", chat.now) == []  # a double tap sends once
    chat.run(chat.core.send_failed("c-1", ApiError(400, "This field may not be blank."), chat.now))
    assert chat.core.outbox.get("c-1").error == "This field may not be blank."


def test_pending_sends_survive_a_reload_as_not_sent_and_the_first_page_reconciles_them():
    chat = opened(msg(1, ME, content="ok", is_read=True))
    sent(chat, "ok", "c-1")  # same words as message 1, which is older: not its copy
    sent(chat, "lost", "c-2")
    stored = chat.of(StoreOutbox)[-1].text
    again = Chat(stored_outbox=stored, cache=QueryCache())
    shown = again.of(ShowPending)[0].pending
    assert [(e.client_message_id, e.status, e.error) for e in shown] == [
        ("c-1", SendStatus.FAILED, NOT_SENT_AFTER_RELOAD), ("c-2", SendStatus.FAILED, NOT_SENT_AFTER_RELOAD)]
    assert again.core.outbox.get("c-1").after_id == 1
    # The server had stored "ok" (id 6) after all; message 1 says the same but is older.
    again.load(page(msg(1, ME, content="ok", is_read=True), msg(6, ME, content="ok")))
    assert [e.client_message_id for e in again.core.outbox.pending()] == ["c-2"]
    assert json.loads(again.of(StoreOutbox)[-1].text)["entries"][0]["client_message_id"] == "c-2"


def test_a_stored_outbox_that_is_not_one_is_ignored():
    chat = Chat(stored_outbox="{not json")
    assert chat.of(ShowPending) == [ShowPending(())]


# ----- typing wiring (AC-16..AC-21) --------------------------------------------------------------


def test_keystrokes_become_debounced_typing_frames_and_three_quiet_seconds_stop_them():
    chat = opened()
    for t in (0, 1, 2.5, 3.2):
        chat.at(t)
        chat.run(chat.core.local_input(chat.now))
    chat.at(10)
    assert chat.timed(SendTyping) == [(0, SendTyping(True)), (3.2, SendTyping(True)), (6.2, SendTyping(False))]


def test_sending_stops_typing_before_the_message_goes_out():
    chat = opened()
    chat.run(chat.core.local_input(chat.now))
    effects = sent(chat)
    assert [e for e in effects if isinstance(e, (SendTyping, PostMessage))] == [
        SendTyping(False), PostMessage("c-1", "See you at 6", None)]


def test_alex_typing_shows_by_name_hides_after_four_quiet_seconds_or_with_his_message():
    chat = opened()
    chat.socket(TypingIndicator(user_id=1, is_typing=True))  # my own other tab: not shown
    assert chat.of(ShowTyping) == []
    chat.socket(TypingIndicator(user_id=2, is_typing=True))
    chat.at(4.5)
    assert chat.timed(ShowTyping) == [(0, ShowTyping(("Alex",))), (4.0, ShowTyping(()))]
    chat.socket(TypingIndicator(user_id=2, is_typing=True))
    chat.socket(NewMessage(msg(1)))
    assert chat.timed(ShowTyping)[-2:] == [(4.5, ShowTyping(("Alex",))), (4.5, ShowTyping(()))]


# ----- connection state, banner, polling pace ---------------------------------------------------------


def test_socket_states_reach_the_view_the_banner_and_the_session():
    chat = opened(connected=False)
    assert chat.connect() == [ShowConnection("connected"), ShowBanner(None), RealtimeChanged(True)]
    chat.run(chat.core.socket_state("disconnected", None, chat.now))
    chat.at(0.5)
    assert chat.of(ShowBanner)[-1] == ShowBanner(None)  # a quick reconnect must not flash it
    chat.at(1.5)
    assert chat.timed(ShowBanner)[-1] == (1.0, ShowBanner("reconnecting"))
    assert chat.of(RealtimeChanged)[-1] == RealtimeChanged(False)


def test_the_log_lives_in_the_cache_and_a_cached_log_is_reused():
    cache = QueryCache()
    cache.set_query_data(messages_key(CID), MessageLog([msg(i, ME, is_read=True) for i in range(1, 80)]))
    chat = Chat(cache=cache)
    chat.load(page(*[msg(i, ME, is_read=True) for i in range(30, 80)], has_more=True))
    assert chat.log is cache.get_query_data(messages_key(CID)) and len(chat.log) == 79
    assert chat.log.has_more_before is False  # the reused log knows better than the page
