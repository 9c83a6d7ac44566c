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


def test_a_read_sets_the_row_to_what_is_still_unread_and_lowers_the_total_by_what_it_read():
    session, cache = session_with([row(7, unread=3), row(8, unread=2)], total=5)
    assert session.conversation_read(7, still_unread=1) == [Fetch(UNREAD_COUNT_KEY)]
    assert unread_of(cache, 7) == 1 and cache.get_query_data(UNREAD_COUNT_KEY) == 3


def test_a_read_that_changed_nothing_does_not_ask_the_server_for_the_total_again():
    session, cache = session_with([row(7, unread=0)], total=4)
    assert session.conversation_read(7, still_unread=0) == []
    assert cache.get_query_data(UNREAD_COUNT_KEY) == 4


def test_a_read_with_no_known_total_asks_for_it():
    session, cache = session_with([row(7, unread=0)])
    assert session.conversation_read(7) == [Fetch(UNREAD_COUNT_KEY)]
    assert session.unread_total() == 0


def test_the_badge_is_the_servers_total_when_known_else_the_rows_sum():
    session, cache = session_with([row(7, unread=2), row(8, unread=3)])
    assert session.unread_total() == 5
    session.unread_loaded({"unread_count": 4}, T0)
    assert session.unread_total() == 4


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
