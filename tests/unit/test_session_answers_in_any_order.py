"""The session when answers overlap or repeat: the list fetch the inbox asked for is still under
way when more events come; copies of messages already counted, up to the 512 ids remembered per
conversation; batches that mix conversations; a read that says nothing of what is still unread."""
from core.session import Fetch, Session
from core.ws_events import NewMessage
from core.query_cache import CONVERSATIONS_KEY, QueryCache

T0 = 1_700_000_000.0
ME = {"id": 1, "first_name": "Coach", "last_name": "C", "profile_image": None}
ALEX = {"id": 2, "first_name": "Alex", "last_name": "X", "profile_image": None}


def row(cid, unread=0):
    return {"id": cid, "trainer": ME, "trainee": ALEX, "unread_count": unread, "last_message_preview": "old",
            "last_message_at": "2024-03-01T10:00:00Z", "is_archived": False}


def msg(mid, cid):
    return {"id": mid, "conversation_id": cid, "sender": ALEX, "content": f"m{mid}", "image": None,
            "is_read": False, "read_at": None, "created_at": "2024-03-01T12:00:00Z"}


def loaded(rows):
    cache = QueryCache()
    session = Session(cache, ME, T0)
    session.conversations_loaded(rows, T0, chat_visible=False)
    return session, cache


def test_while_the_list_fetch_of_the_inbox_going_live_is_under_way_no_second_one_is_asked():
    session, _ = loaded([row(7)])
    assert session.inbox_changed(True, T0) == [Fetch(CONVERSATIONS_KEY)]
    # a message for a conversation the list does not hold yet: that fetch will bring it
    assert session.inbox_events([NewMessage(msg(80, 99))], T0 + 1, chat_visible=False) == []
    session.conversations_loaded([row(7), row(99, unread=1)], T0 + 2, chat_visible=False)
    assert session.inbox_events([NewMessage(msg(81, 98))], T0 + 3, chat_visible=False) == [Fetch(CONVERSATIONS_KEY)]


def test_a_read_with_nothing_said_still_unread_clears_the_row():
    session, cache = loaded([row(7, unread=3)])
    assert session.conversation_read(7) == []
    assert cache.get_query_data(CONVERSATIONS_KEY)[0]["unread_count"] == 0
    assert session.unread_total() == 0


def live(mid, cid, at="2024-03-01T12:00:00Z"):
    return dict(msg(mid, cid), created_at=at)


def test_a_batch_counts_its_new_messages_after_one_already_counted():
    session, cache = loaded([row(7)])
    session.messages_added(7, [live(1, 7)], chat_visible=False)
    session.messages_added(7, [live(1, 7), live(2, 7)], chat_visible=False)
    assert session.unread_total() == 2


def test_an_inbox_batch_goes_on_past_a_conversation_the_list_does_not_hold():
    session, cache = loaded([row(7)])
    session.inbox_events([NewMessage(live(1, 99)), NewMessage(live(2, 7))], T0, chat_visible=False)
    assert session.unread_total() == 1


def test_an_inbox_batch_ending_in_the_open_visible_chat_leaves_it_read():
    session, cache = loaded([row(7), row(8)])
    session.chat_changed(7, True, T0)
    session.inbox_events([NewMessage(live(1, 8)), NewMessage(live(2, 7))], T0, chat_visible=True)
    assert {c["id"]: c["unread_count"] for c in cache.get_query_data(CONVERSATIONS_KEY)} == {7: 0, 8: 1}


def test_messages_before_the_list_is_loaded_change_nothing_and_raise_nothing():
    cache = QueryCache()
    session = Session(cache, ME, T0)
    session.messages_added(7, [live(1, 7)], chat_visible=False)
    assert cache.get_query_data(CONVERSATIONS_KEY) is None


def test_the_last_512_message_ids_of_a_conversation_are_remembered_and_the_513th_forgets_the_oldest():
    session, cache = loaded([row(7)])
    session.messages_added(7, [live(mid, 7) for mid in range(1, 513)], chat_visible=False)
    session.messages_added(7, [live(1, 7)], chat_visible=False)  # a copy of a remembered one
    assert session.unread_total() == 512
    session.messages_added(7, [live(513, 7)], chat_visible=False)  # the 513th: the oldest 257 go
    session.messages_added(7, [live(257, 7)], chat_visible=False)
    assert session.unread_total() == 514
    session.messages_added(7, [live(258, 7)], chat_visible=False)  # still remembered
    assert session.unread_total() == 514
