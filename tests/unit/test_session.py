"""The session's rules (core/session.py): the list and the unread totals follow new messages
and reads (AC-15, AC-28), and polls follow the open chat's socket (AC-9, AC-13, AC-26, AC-27)."""
from core.session import Fetch, PollMessages, Session, parse_unread_total
from query_cache import CONVERSATIONS_KEY, UNREAD_COUNT_KEY, QueryCache

T0 = 1_700_000_000.0
ME = {"id": 1, "first_name": "Coach", "last_name": "C", "profile_image": None}


def user(uid, name):
    return {"id": uid, "first_name": name, "last_name": "X", "profile_image": None}


def row(cid, unread=0, at="2024-03-01T10:00:00Z", trainee=2):
    return {"id": cid, "trainer": ME, "trainee": user(trainee, "T"), "unread_count": unread,
            "last_message_preview": "old", "last_message_at": at, "is_archived": False}


def msg(mid, cid, sender=2, at="2024-03-01T12:00:00Z"):
    return {"id": mid, "conversation_id": cid, "sender": user(sender, "T"), "content": f"m{mid}",
            "image": None, "is_read": False, "read_at": None, "created_at": at}


def session_with(rows, total=None):
    cache = QueryCache()
    session = Session(cache, ME, T0)
    session.conversations_loaded(rows, T0, chat_visible=False)
    if total is not None:
        session.unread_loaded({"unread_count": total}, T0)
    return session, cache


def unread_of(cache, cid):
    return next(c["unread_count"] for c in cache.get_query_data(CONVERSATIONS_KEY) if c["id"] == cid)


# ----- unread totals ------------------------------------------------------------------------------


def test_a_message_in_a_conversation_nobody_is_looking_at_is_one_more_unread_there_and_in_the_total():
    session, cache = session_with([row(7, unread=1), row(8, unread=0, at="2024-03-01T11:00:00Z")], total=1)
    session.chat_changed(8, True, T0)
    session.messages_added(7, [msg(50, 7)], chat_visible=True)  # the open chat is 8, not 7
    assert unread_of(cache, 7) == 2 and cache.get_query_data(UNREAD_COUNT_KEY) == 2
    assert [c["id"] for c in cache.get_query_data(CONVERSATIONS_KEY)] == [7, 8]  # moved to the top
    assert cache.get_query_data(CONVERSATIONS_KEY)[0]["last_message_preview"] == "m50"


def test_a_message_in_the_open_visible_chat_is_not_unread_and_a_hidden_one_is():
    session, cache = session_with([row(7)], total=0)
    session.chat_changed(7, True, T0)
    session.messages_added(7, [msg(50, 7)], chat_visible=True)
    assert unread_of(cache, 7) == 0 and cache.get_query_data(UNREAD_COUNT_KEY) == 0
    session.messages_added(7, [msg(51, 7), msg(52, 7, sender=1)], chat_visible=False)
    assert unread_of(cache, 7) == 1 and cache.get_query_data(UNREAD_COUNT_KEY) == 1  # mine is not unread


def test_a_read_sets_the_row_to_what_is_still_unread_and_the_total_follows_the_rows():
    session, cache = session_with([row(7, unread=3), row(8, unread=2)], total=5)
    assert session.conversation_read(7, still_unread=1) == []  # the list is known: no count asked
    assert unread_of(cache, 7) == 1 and cache.get_query_data(UNREAD_COUNT_KEY) == 3
    assert session.unread_total() == 3


def test_once_the_list_is_known_the_total_is_the_rows_sum_and_the_servers_count_is_not_a_second_source():
    session, cache = session_with([row(7, unread=2), row(8, unread=3)])
    assert session.unread_total() == 5 and cache.get_query_data(UNREAD_COUNT_KEY) == 5
    session.unread_loaded({"unread_count": 4}, T0)  # e.g. counted before a message the rows show
    assert session.unread_total() == 5 and cache.get_query_data(UNREAD_COUNT_KEY) == 5


def test_before_the_list_is_known_the_total_is_the_servers_and_a_read_asks_for_it():
    session = Session(QueryCache(), ME, T0)
    session.unread_loaded({"unread_count": 4}, T0)
    assert session.unread_total() == 4
    assert session.conversation_read(7) == [Fetch(UNREAD_COUNT_KEY)]
    assert Session(QueryCache(), ME, T0).unread_total() == 0


def test_a_list_answer_never_shows_unread_in_the_open_visible_chat():
    session, cache = session_with([])
    session.chat_changed(7, True, T0)
    session.conversations_loaded([row(7, unread=2), row(8, unread=1)], T0, chat_visible=True)
    assert unread_of(cache, 7) == 0 and unread_of(cache, 8) == 1
    session.conversations_loaded([row(7, unread=2)], T0, chat_visible=False)
    assert unread_of(cache, 7) == 2


def test_answers_that_are_not_what_the_contract_says_change_nothing():
    session, cache = session_with([row(7, unread=1)], total=1)
    for bad in (None, {"unread_count": "3"}, {"unread_count": True}, [], {"x": 1}):
        session.unread_loaded(bad, T0)
    session.conversations_loaded({"results": []}, T0, chat_visible=False)
    assert cache.get_query_data(UNREAD_COUNT_KEY) == 1 and unread_of(cache, 7) == 1
    assert parse_unread_total({"unread_count": -3}) == 0


# ----- polling dispatch ------------------------------------------------------------------------------


def polls(session, seconds):
    """Every effect of the session's wake-ups up to T0 + seconds, with its time; fetches are
    answered at once."""
    out = []
    while True:
        wake = session.next_wakeup()
        if wake is None or wake > T0 + seconds:
            return out
        for effect in session.tick(wake):
            out.append((round(wake - T0, 3), effect))
            if effect == Fetch(CONVERSATIONS_KEY):
                session.conversations_loaded([], wake, chat_visible=False)
            elif effect == Fetch(UNREAD_COUNT_KEY):
                session.unread_loaded({"unread_count": 0}, wake)


def test_without_a_socket_the_open_chat_is_polled_every_5_s_and_the_list_every_15_s():
    session, _ = session_with([row(7)])
    session.chat_changed(7, False, T0)
    effects = polls(session, 15)
    assert [t for t, e in effects if isinstance(e, PollMessages)] == [5, 10, 15]
    assert [t for t, e in effects if e == Fetch(CONVERSATIONS_KEY)] == [15]
    assert all(e.conversation_id == 7 for _, e in effects if isinstance(e, PollMessages))


def test_with_the_socket_connected_messages_are_not_polled_and_the_list_every_60_s():
    session, _ = session_with([row(7)])
    session.chat_changed(7, True, T0)
    effects = polls(session, 120)
    assert [e for _, e in effects if isinstance(e, PollMessages)] == []
    assert [t for t, e in effects if e == Fetch(CONVERSATIONS_KEY)] == [60, 120]
    assert [t for t, e in effects if e == Fetch(UNREAD_COUNT_KEY)] == [60, 120]


def test_a_poll_whose_previous_fetch_is_still_under_way_is_skipped():
    session, _ = session_with([row(7)])
    session.chat_changed(7, True, T0)
    assert session.tick(T0 + 60) == [Fetch(CONVERSATIONS_KEY), Fetch(UNREAD_COUNT_KEY)]
    assert session.tick(T0 + 120) == []  # neither answered yet
    session.fetch_failed(CONVERSATIONS_KEY, T0 + 121)
    assert session.tick(T0 + 180) == [Fetch(CONVERSATIONS_KEY)]


# ----- the inbox socket (CONTRACT "Inbox socket") ------------------------------------------------------

from core.polling import INBOX_LIST_CHECK  # noqa: E402
from core.ws_events import ConversationUpdated, InboxReadReceipt, NewMessage  # noqa: E402


def badges_agree(session, cache):
    rows = cache.get_query_data(CONVERSATIONS_KEY)
    total = sum(c["unread_count"] for c in rows)
    assert session.unread_total() == total == cache.get_query_data(UNREAD_COUNT_KEY)
    return total


def test_an_inbox_message_for_a_conversation_that_is_not_open_updates_its_row_and_the_total():
    session, cache = session_with([row(7, at="2024-03-01T11:00:00Z"), row(8, unread=1)], total=1)
    session.chat_changed(7, True, T0)
    assert session.inbox_events([NewMessage(msg(60, 8, at="2024-03-01T12:30:00Z"))], T0, chat_visible=True) == []
    rows = cache.get_query_data(CONVERSATIONS_KEY)
    assert [c["id"] for c in rows] == [8, 7]
    assert rows[0]["last_message_preview"] == "m60" and rows[0]["last_message_at"] == "2024-03-01T12:30:00Z"
    assert unread_of(cache, 8) == 2 and badges_agree(session, cache) == 2


def test_a_message_on_both_sockets_is_counted_once_whichever_comes_first():
    session, cache = session_with([row(7), row(8)], total=0)
    session.chat_changed(7, True, T0)
    # The open chat's tab is hidden: its messages are unread.
    session.inbox_events([NewMessage(msg(61, 7))], T0, chat_visible=False)
    session.messages_added(7, [msg(61, 7)], chat_visible=False)  # the same message, from the chat's socket
    session.messages_added(7, [msg(62, 7)], chat_visible=False)
    session.inbox_events([NewMessage(msg(62, 7)), NewMessage(msg(61, 7))], T0, chat_visible=False)
    assert unread_of(cache, 7) == 2 and badges_agree(session, cache) == 2


def test_an_inbox_message_in_the_open_and_visible_chat_is_not_unread():
    session, cache = session_with([row(7), row(8)], total=0)
    session.chat_changed(7, True, T0)
    session.inbox_events([NewMessage(msg(63, 7)), NewMessage(msg(64, 8))], T0, chat_visible=True)
    assert unread_of(cache, 7) == 0 and unread_of(cache, 8) == 1 and badges_agree(session, cache) == 1
    session.inbox_events([NewMessage(msg(65, 7, sender=1))], T0, chat_visible=False)  # my own, elsewhere
    assert unread_of(cache, 7) == 0


def test_an_inbox_message_for_a_conversation_the_list_does_not_hold_refetches_the_list_once():
    session, cache = session_with([row(7)], total=0)
    assert session.inbox_events([NewMessage(msg(70, 99)), NewMessage(msg(71, 99))], T0,
                                chat_visible=False) == [Fetch(CONVERSATIONS_KEY)]
    assert session.inbox_events([NewMessage(msg(72, 99))], T0, chat_visible=False) == []  # still under way
    session.conversations_loaded([row(7), row(99, unread=3)], T0, chat_visible=False)
    assert badges_agree(session, cache) == 3


def test_a_read_by_me_elsewhere_clears_the_row_and_a_read_by_the_other_party_changes_no_badge():
    session, cache = session_with([row(7, unread=2), row(8, unread=1)], total=3)
    session.inbox_events([InboxReadReceipt(8, 2, "2024-03-01T12:00:00Z")], T0, chat_visible=False)
    assert badges_agree(session, cache) == 3
    session.inbox_events([InboxReadReceipt(7, ME["id"], "2024-03-01T12:00:00Z")], T0, chat_visible=False)
    assert unread_of(cache, 7) == 0 and unread_of(cache, 8) == 1 and badges_agree(session, cache) == 1


def test_conversation_updated_replaces_the_row_keeps_our_badge_and_adds_a_new_one():
    session, cache = session_with([row(7, unread=2)], total=2)
    changed = dict(row(7, unread=9, at="2024-03-02T10:00:00Z"), last_message_preview="new", is_archived=True)
    session.inbox_events([ConversationUpdated(changed), ConversationUpdated(row(5, unread=1, at="2024-03-01T09:00:00Z"))],
                         T0, chat_visible=False)
    rows = cache.get_query_data(CONVERSATIONS_KEY)
    assert [c["id"] for c in rows] == [7, 5]
    assert rows[0]["is_archived"] is True and rows[0]["last_message_preview"] == "new" and rows[0]["unread_count"] == 2
    assert badges_agree(session, cache) == 3


def test_badges_and_total_agree_after_live_events_polls_and_reads_in_any_order():
    session, cache = session_with([row(7, unread=1), row(8), row(9, unread=2)], total=99)
    session.chat_changed(8, True, T0)
    steps = [
        lambda: session.inbox_events([NewMessage(msg(80, 7))], T0, chat_visible=True),
        lambda: session.messages_added(8, [msg(81, 8)], chat_visible=False),
        lambda: session.unread_loaded({"unread_count": 42}, T0),
        lambda: session.conversation_read(8, still_unread=0),
        lambda: session.inbox_events([InboxReadReceipt(9, ME["id"], None)], T0, chat_visible=True),
        lambda: session.conversations_loaded([row(7, unread=4), row(8), row(9, unread=1)], T0, chat_visible=True),
        lambda: session.inbox_events([NewMessage(msg(82, 9)), NewMessage(msg(80, 7))], T0, chat_visible=True),
    ]
    expected_totals = [4, 5, 5, 4, 2, 5, 6]
    for step, expected in zip(steps, expected_totals):
        step()
        assert badges_agree(session, cache) == expected


def test_while_the_inbox_is_live_the_list_is_a_five_minute_check_and_the_unread_count_is_not_polled():
    session, _ = session_with([row(7)])
    session.chat_changed(7, True, T0)
    assert INBOX_LIST_CHECK == 300
    assert session.inbox_changed(True, T0 + 10) == [Fetch(CONVERSATIONS_KEY)]  # what came before it was up
    session.conversations_loaded([row(7)], T0 + 10, chat_visible=True)
    effects = polls(session, 910)
    assert [t for t, e in effects if e == Fetch(CONVERSATIONS_KEY)] == [310, 610, 910]
    assert [t for t, e in effects if e == Fetch(UNREAD_COUNT_KEY)] == []
    assert [e for _, e in effects if isinstance(e, PollMessages)] == []


def test_when_the_inbox_drops_the_spec_polling_comes_back_at_once():
    session, _ = session_with([row(7)])
    session.chat_changed(None, False, T0)  # no chat open: AC-26/27 fallback paces, 15 s and 30 s
    session.inbox_changed(True, T0)
    session.conversations_loaded([row(7)], T0, chat_visible=False)
    assert session.next_wakeup() == T0 + 300
    assert session.inbox_changed(False, T0 + 100) == []
    effects = polls(session, 160)
    assert [t for t, e in effects if e == Fetch(CONVERSATIONS_KEY)] == [100, 115, 130, 145, 160]
    assert [t for t, e in effects if e == Fetch(UNREAD_COUNT_KEY)] == [100, 130, 160]


def test_the_inbox_going_live_while_a_list_fetch_is_under_way_asks_for_no_second_one():
    session, _ = session_with([row(7)])
    assert session.tick(T0 + 15) == [Fetch(CONVERSATIONS_KEY)]
    assert session.inbox_changed(True, T0 + 16) == []  # the list poll of T0+15 is still under way
    session.conversations_loaded([row(7)], T0 + 17, chat_visible=False)
    assert session.inbox_changed(False, T0 + 20) == []
    assert session.inbox_changed(True, T0 + 21) == [Fetch(CONVERSATIONS_KEY)]


def test_a_list_answer_that_raced_an_inbox_message_does_not_count_it_twice():
    session, cache = session_with([row(7, unread=0), row(8)], total=0)
    # The list answer was made after message 90 was stored: its row already shows and counts it.
    raced = msg(90, 7, at="2024-03-01T12:00:00.000123Z")
    session.conversations_loaded([row(7, unread=1, at=raced["created_at"]), row(8)], T0, chat_visible=False)
    session.inbox_events([NewMessage(raced)], T0, chat_visible=False)  # its event comes after the answer
    assert unread_of(cache, 7) == 1 and badges_agree(session, cache) == 1
    # A message one microsecond newer than the row's is new: it counts, and moves the preview.
    session.inbox_events([NewMessage(msg(91, 7, at="2024-03-01T12:00:00.000124Z"))], T0, chat_visible=False)
    assert unread_of(cache, 7) == 2 and badges_agree(session, cache) == 2
    assert cache.get_query_data(CONVERSATIONS_KEY)[0]["last_message_preview"] == "m91"


def test_a_burst_of_inbox_messages_in_one_conversation_writes_the_rows_once_in_order():
    session, cache = session_with([row(7), row(8, at="2024-03-01T11:00:00Z")], total=0)
    session.chat_changed(7, True, T0)
    writes = []
    cache.subscribe(writes.append, CONVERSATIONS_KEY)
    burst = [NewMessage(msg(100 + i, 8, at=f"2024-03-01T12:{i:02d}:00Z")) for i in range(50)]
    assert session.inbox_events(burst, T0, chat_visible=True) == []
    assert len(writes) == 1  # one cache write (and one list render) for the batch, not 50
    assert unread_of(cache, 8) == 50 and badges_agree(session, cache) == 50
    assert cache.get_query_data(CONVERSATIONS_KEY)[0]["last_message_preview"] == "m149"
    # Runs of different kinds and conversations keep their order and rules.
    mixed = [NewMessage(msg(200, 8, at="2024-03-01T13:00:00Z")), NewMessage(msg(201, 7, at="2024-03-01T13:01:00Z")),
             InboxReadReceipt(8, ME["id"], "2024-03-01T13:02:00Z"), NewMessage(msg(202, 8, at="2024-03-01T13:03:00Z")),
             NewMessage(msg(100, 8))]  # already counted
    session.inbox_events(mixed, T0, chat_visible=True)
    assert unread_of(cache, 8) == 1 and unread_of(cache, 7) == 0 and badges_agree(session, cache) == 1
    assert [c["id"] for c in cache.get_query_data(CONVERSATIONS_KEY)] == [8, 7]
