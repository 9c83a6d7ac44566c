"""The open conversation (core/open_conversation.py) at the edges issue 24's mutation run found
untested: what a closed chat still answers, what a failed older page says, read ticks from the
inbox, which arrivals move the complete point or ask a mark-read call, and its defaults."""
from core.api_client import ApiError, NetworkError
from core.open_conversation import (FetchPage, NewMessages, OpenConversation, PostMarkRead, Purpose,
                                    ShowBanner, ShowHistoryStatus, ShowPending, parse_page)
from core.outbox import SendStatus
from core.message_log import MessageLog
from core.tokens import SessionExpired
from core.ws_events import InboxReadReceipt, NewMessage, TypingIndicator
from query_cache import QueryCache, messages_key
from test_open_conversation import ALEX, CID, ME, T0, Chat, conversation, msg, opened, page

READ_AT = "2024-03-01T12:05:00Z"


def older_failing(error):
    chat = opened(msg(1), has_more=True)
    [_, fetch] = chat.run(chat.core.load_older(chat.now))
    return chat, chat.run(chat.core.page_failed(fetch, error, chat.now))


def test_a_failed_older_page_says_why_in_the_history_status():
    assert older_failing(ApiError(500, ""))[1] == [ShowHistoryStatus("Could not load earlier messages.")]
    assert older_failing(ApiError(503, "Busy."))[1] == [ShowHistoryStatus("Busy.")]
    assert older_failing(NetworkError("TypeError"))[1][0].text != "Could not load earlier messages."
    assert older_failing(SessionExpired())[1] == []


def test_after_a_failed_older_page_the_older_page_can_be_asked_again():
    chat, _ = older_failing(ApiError(500, ""))
    assert FetchPage(Purpose.OLDER, 50, before=1) in chat.core.load_older(chat.now)


def test_a_closed_chat_polls_nothing_and_ignores_late_answers():
    chat = opened(msg(1))
    chat.run(chat.core.send("hi", "c-1", chat.now))
    chat.core.close(chat.now)
    assert chat.core.poll(chat.now) == []
    assert chat.core.send_failed("c-1", NetworkError("TypeError"), chat.now) == []
    assert chat.core.mark_read_done(True, chat.now) == []


def test_a_read_tick_from_the_inbox_marks_our_messages_read_at_its_time_not_theirs():
    chat = opened(msg(1, ME), msg(2, ALEX), connected=False)
    chat.run(chat.core.inbox_events([InboxReadReceipt(CID, ALEX["id"], READ_AT)], chat.now))
    assert (chat.log.get(1)["is_read"], chat.log.get(1)["read_at"]) == (True, READ_AT)
    assert chat.log.get(2)["is_read"] is False


def test_a_live_socket_message_moves_the_complete_point_and_a_send_answer_does_not():
    chat = opened(msg(1))
    chat.socket(NewMessage(msg(4)), TypingIndicator(ALEX["id"], True))
    assert chat.core.synced_id == 4
    chat.socket(NewMessage(msg(5)))
    assert chat.core.synced_id == 5
    chat.run(chat.core.send("hi", "c-1", chat.now))
    chat.run(chat.core.send_answered("c-1", msg(9, ME, content="hi", cmid="c-1"), chat.now))
    assert chat.core.synced_id == 5 and 9 in chat.log


def test_a_run_of_messages_before_another_event_keeps_its_effects():
    chat = opened(msg(1))
    effects = chat.socket(NewMessage(msg(5)), TypingIndicator(ALEX["id"], True), NewMessage(msg(6)),
                          TypingIndicator(ALEX["id"], False))
    assert [e.messages for e in effects if isinstance(e, NewMessages)] == [(chat.log.get(5),), (chat.log.get(6),)]


def test_only_an_unread_message_from_them_asks_a_mark_read_call():
    chat = opened(msg(1, ME))
    chat.socket(NewMessage(msg(2, ME)), NewMessage(msg(3, ALEX, is_read=True)))
    assert chat.of(PostMarkRead) == []
    chat.socket(NewMessage(msg(4, ALEX)))
    assert chat.of(PostMarkRead) == [PostMarkRead(4)]


def test_the_conversations_unread_count_asks_a_call_even_when_the_page_shows_all_read():
    chat = Chat(conversation(unread=2))
    chat.load(page(msg(1, is_read=True)))
    assert chat.of(PostMarkRead) == [PostMarkRead(1)]


def test_a_reopened_log_of_exactly_the_pages_size_takes_the_pages_has_more():
    cache = QueryCache()
    cache.set_query_data(messages_key(CID), MessageLog([msg(1, is_read=True), msg(2, is_read=True)],
                                                       conversation_id=CID, has_more_before=False))
    chat = Chat(cache=cache)
    chat.load(page(msg(1, is_read=True), msg(2, is_read=True), has_more=True))
    assert chat.log.has_more_before is True


def test_a_page_that_is_not_a_page_has_no_more():
    assert parse_page("nonsense") == ([], False)
    assert parse_page({"results": "nonsense", "has_more": True}) == ([], False)


def test_by_default_a_chat_is_opened_visible_and_reads_without_an_observer():
    core = OpenConversation(QueryCache(), conversation(), ME)
    [_, fetch] = core.open(T0)
    assert PostMarkRead(1) in core.page_loaded(fetch, page(msg(1)), T0)


def test_showing_a_chat_with_only_our_own_unread_messages_asks_no_call():
    chat = opened(msg(1, ME))
    chat.hide()
    assert chat.show() == []


def test_showing_an_already_visible_chat_again_asks_nothing():
    chat = opened(msg(1))
    chat.read_done(ok=False)
    chat.at(10)
    assert chat.show() == []


def test_a_message_sent_before_the_first_page_is_confirmed_by_it_and_the_page_is_read():
    chat = Chat()
    chat.run(chat.core.send("hi", "c-1", chat.now))
    effects = chat.load(page(msg(1), msg(2, ME, content="hi", cmid="c-1")))
    assert ShowPending(()) in effects and PostMarkRead(2) in effects


def test_a_picture_being_sent_shows_its_file_name():
    chat = opened(msg(1))
    effects = chat.run(chat.core.send("", "c-1", chat.now, image_name="cat.png"))
    [shown] = [e for e in effects if isinstance(e, ShowPending)]
    assert [p.image_name for p in shown.pending] == ["cat.png"]


def test_an_unreadable_answer_to_a_send_fails_that_send():
    chat = opened(msg(1))
    chat.run(chat.core.send("hi", "c-1", chat.now))
    effects = chat.run(chat.core.send_answered("c-1", "garbage", chat.now))
    [shown] = [e for e in effects if isinstance(e, ShowPending)]
    assert [(p.client_message_id, p.status) for p in shown.pending] == [("c-1", SendStatus.FAILED)]


def test_a_socket_that_goes_down_does_not_retry_a_conversation_that_could_not_load():
    chat = Chat()
    chat.run(chat.core.page_failed(chat.last_fetch(), ApiError(500, "x"), chat.now))
    assert not [e for e in chat.core.socket_state("disconnected", None, chat.now) if isinstance(e, FetchPage)]
    assert FetchPage(Purpose.INITIAL, 50) in chat.core.socket_state("connected", None, chat.now)


def test_a_first_page_refused_because_the_session_ended_says_nothing_in_the_pane():
    chat = Chat()
    assert chat.core.page_failed(chat.last_fetch(), SessionExpired(), chat.now) == []


def test_a_link_that_fails_for_a_silent_reason_shows_no_banner():
    chat = opened(msg(1))
    assert ShowBanner(None) in chat.core.socket_state("failed", "auth", chat.now)
    assert ShowBanner("failed") in chat.core.socket_state("failed", "exhausted", chat.now)


def test_a_planned_restart_sets_no_timer_for_the_banner():
    chat = opened(msg(1), connected=True)
    chat.run(chat.core.socket_state("connecting", "restart", chat.now))
    assert chat.core.next_wakeup(chat.now) is None
    chat.run(chat.core.socket_state("disconnected", None, chat.now))
    assert chat.core.next_wakeup(chat.now) is not None


def test_the_first_page_asks_one_mark_read_call_and_no_trailing_one():
    chat = opened(msg(1), msg(2))
    assert chat.of(PostMarkRead) == [PostMarkRead(2)]
    chat.read_done(ok=True)
    chat.at(10)
    assert chat.of(PostMarkRead) == [PostMarkRead(2)]
