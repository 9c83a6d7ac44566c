"""Issue 22 item 2: what the browser keeps of a trainer's messages for opening offline
(core/offline_cache.py): whose copy may show, what is kept, how it is trimmed, when it is written."""

import json

import pytest

from core.offline_cache import (FORMAT, MAX_CONVERSATIONS, MAX_MESSAGES, WRITE_INTERVAL_S, OfflineCopy,
                                WriteThrottle, copy_text, last_page, parse_user_id, read_copy, updated)

COACH = {"id": 1, "first_name": "Casey", "last_name": "Coach", "profile_image": None, "role": "trainer"}
ALEX = {"id": 2, "first_name": "Alex", "last_name": "Runner", "profile_image": None}


def row(cid):
    return {"id": cid, "trainer": COACH, "trainee": ALEX, "unread_count": 0, "last_message": None}


def msg(mid, cid=7, text=None):
    return {"id": mid, "conversation_id": cid, "sender": 1, "content": text or f"m{mid}", "is_read": True}


def copy_of(me=COACH, rows=(7,), total=0, touched=None, previous=None):
    return updated(previous, me=me, conversations=[row(c) for c in rows], unread_count=total,
                   touched=touched if touched is not None else {7: [msg(1), msg(2)]})


# ----- whose copy may show ---------------------------------------------------------------------

def test_a_copy_reads_back_for_its_own_user():
    copy = copy_of(total=3)
    again = read_copy(copy_text(copy), user_id=1)
    assert again == copy
    assert again.me["first_name"] == "Casey" and again.unread_count == 3
    assert [m["id"] for m in again.messages[7]] == [1, 2]


@pytest.mark.parametrize("asked", [2, 0, -1, None, "1", True, 1.0])
def test_a_copy_never_reads_for_another_user_id(asked):
    assert read_copy(copy_text(copy_of()), user_id=asked) is None


def test_a_copy_whose_me_is_another_user_reads_as_none():
    data = json.loads(copy_text(copy_of()))
    data["me"] = dict(ALEX)
    assert read_copy(json.dumps(data), user_id=1) is None


@pytest.mark.parametrize("text", ["", "{", "[]", "null", "42", '{"format": 1}', None, 12,
                                  json.dumps({"format": FORMAT + 1, "user_id": 1, "me": COACH,
                                              "conversations": [], "messages": {}, "recent": []}),
                                  json.dumps({"format": FORMAT, "user_id": 1, "me": COACH,
                                              "conversations": {}, "messages": {}, "recent": []})])
def test_bad_stored_text_reads_as_no_copy(text):
    assert read_copy(text, user_id=1) is None


def test_odd_values_inside_a_copy_are_dropped_not_shown():
    data = json.loads(copy_text(copy_of(rows=(7, 8))))
    data["conversations"].append("not a row")
    data["conversations"].append({"id": "9"})
    data["messages"]["7"].append({"id": "x"})
    data["messages"]["7"].append(msg(3, cid=99))  # another conversation's message
    data["recent"] += [8, "7", -3]
    data["messages"]["8"] = "not a page"
    data["unread_count"] = -4
    copy = read_copy(json.dumps(data), user_id=1)
    assert [c["id"] for c in copy.conversations] == [7, 8]
    assert [m["id"] for m in copy.messages[7]] == [1, 2]
    assert copy.recent == (7,)
    assert copy.unread_count is None


def test_a_previous_copy_of_another_user_is_not_carried_into_the_next():
    coach = copy_of(touched={7: [msg(1)]})
    alex = updated(coach, me=ALEX, conversations=[row(7)], unread_count=0, touched={})
    assert alex.user_id == 2 and alex.messages == {} and alex.recent == ()


def test_a_copy_needs_the_user_id():
    with pytest.raises(ValueError):
        updated(None, me={"first_name": "x"}, conversations=[], unread_count=0, touched={})


def test_a_stored_user_pointer_is_a_positive_id_or_nothing():
    assert parse_user_id("17") == 17
    for bad in (None, "", "0", "-1", "1.5", "abc", " 1", "9" * 30, 17):
        assert parse_user_id(bad) is None


# ----- what is kept and how it is trimmed -------------------------------------------------------

def test_only_the_last_page_of_a_conversation_is_kept_oldest_first():
    many = [msg(i) for i in range(1, 130)]
    copy = copy_of(touched={7: reversed(many)})
    kept = [m["id"] for m in copy.messages[7]]
    assert kept == list(range(130 - MAX_MESSAGES, 130))


def test_one_copy_of_each_message_and_none_without_an_id():
    assert [m["id"] for m in last_page([msg(2), msg(1), msg(2, text="edited"), {"content": "x"}, "x"])] == [1, 2]
    assert last_page([msg(2), msg(2, text="edited")])[0]["content"] == "edited"


def test_the_most_recently_changed_conversations_are_kept_up_to_the_limit():
    rows = range(1, 16)
    first = copy_of(rows=rows, touched={cid: [msg(cid * 100, cid)] for cid in rows})
    # The last touched is the newest: 15, 14, ... and only MAX_CONVERSATIONS of them.
    assert first.recent == tuple(range(15, 15 - MAX_CONVERSATIONS, -1))
    again = copy_of(rows=rows, previous=first, touched={3: [msg(300, 3)], 12: [msg(1200, 12)]})
    assert again.recent[:2] == (12, 3)
    assert len(again.recent) == MAX_CONVERSATIONS
    assert set(again.messages) == set(again.recent)
    assert 6 not in again.recent  # the oldest of the first copy fell off the end


def test_pages_of_conversations_no_longer_in_the_list_go():
    first = copy_of(rows=(7, 8), touched={7: [msg(1)], 8: [msg(5, 8)]})
    again = copy_of(rows=(7,), previous=first, touched={})
    assert again.recent == (7,) and 8 not in again.messages


def test_a_list_or_total_that_is_not_known_keeps_the_previous_one():
    first = copy_of(rows=(7,), total=4)
    again = updated(first, me=COACH, conversations=None, unread_count=None, touched={})
    assert [c["id"] for c in again.conversations] == [7]
    assert again.unread_count == 4
    assert updated(first, me=COACH, conversations=[], unread_count=True, touched={}).unread_count == 4


def test_an_empty_page_is_not_kept():
    assert copy_of(touched={7: []}).recent == ()


# ----- when it is written -----------------------------------------------------------------------

def test_the_first_change_is_written_at_once_then_at_most_once_per_interval():
    throttle = WriteThrottle()
    assert throttle.changed(100.0) == 100.0
    assert throttle.changed(100.2) is None  # already due
    throttle.written(100.0)
    assert throttle.changed(100.5) == 100.0 + WRITE_INTERVAL_S
    assert throttle.changed(101.0) is None
    throttle.written(100.0 + WRITE_INTERVAL_S)
    later = 100.0 + WRITE_INTERVAL_S + 60
    assert throttle.changed(later) == later  # after a quiet spell: at once


def test_offline_copy_defaults_are_empty():
    copy = OfflineCopy(1, dict(COACH))
    assert read_copy(copy_text(copy), user_id=1) == copy
