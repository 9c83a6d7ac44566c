"""Groups, the unread line and the tab title (issue 14 points 2, 4, 5)."""

import pytest

from core.chat_marks import BASE_TITLE, GROUP_GAP_S, first_unread_id, group_key, key_continues, tab_title

ME, ALEX = 1, 2


def msg(mid, sender, at, is_read=False):
    return {"id": mid, "sender": {"id": sender}, "created_at": at, "is_read": is_read}


def joins_group(previous, message, tz_offset_minutes=0):
    """The list's question for one message (web/message_list.py asks it with keys)."""
    return key_continues(group_key(previous, tz_offset_minutes), group_key(message, tz_offset_minutes))


def test_a_first_message_starts_a_group():
    assert joins_group(None, msg(1, ALEX, "2026-11-30T10:00:00Z")) is False


def test_same_sender_within_five_minutes_continues():
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert joins_group(a, msg(2, ALEX, "2026-11-30T10:05:00Z")) is True


def test_a_gap_over_five_minutes_starts_a_new_group():
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert GROUP_GAP_S == 300
    assert joins_group(a, msg(2, ALEX, "2026-11-30T10:05:01Z")) is False


def test_another_sender_starts_a_new_group():
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert joins_group(a, msg(2, ME, "2026-11-30T10:00:10Z")) is False


def test_a_local_day_change_starts_a_new_group():
    a = msg(1, ALEX, "2026-11-30T23:59:00Z")
    b = msg(2, ALEX, "2026-12-01T00:01:00Z")
    assert joins_group(a, b, tz_offset_minutes=0) is False
    # At UTC-60 min both are on Nov 30 locally.
    assert joins_group(a, b, tz_offset_minutes=-60) is True


@pytest.mark.parametrize("bad", [None, "", "not a time", 12])
def test_an_unreadable_time_never_joins(bad):
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert joins_group(a, msg(2, ALEX, bad)) is False
    assert joins_group(msg(2, ALEX, bad), a) is False


def test_a_message_out_of_time_order_never_joins():
    a = msg(1, ALEX, "2026-11-30T10:03:00Z")
    assert joins_group(a, msg(2, ALEX, "2026-11-30T10:01:00Z")) is False


def test_a_sender_without_id_never_joins():
    a = {"id": 1, "sender": None, "created_at": "2026-11-30T10:00:00Z"}
    assert joins_group(a, dict(a, id=2)) is False


def test_the_unread_line_goes_above_the_oldest_unread_from_the_other_party():
    log = [msg(1, ALEX, "t", True), msg(2, ME, "t"), msg(3, ALEX, "t"), msg(4, ALEX, "t")]
    assert first_unread_id(log, ME) == 3


def test_no_unread_line_when_all_is_read_or_own():
    assert first_unread_id([msg(1, ALEX, "t", True), msg(2, ME, "t")], ME) is None
    assert first_unread_id([], ME) is None


@pytest.mark.parametrize("count, title", [
    (0, BASE_TITLE), (-1, BASE_TITLE), (None, BASE_TITLE), ("3", BASE_TITLE), (True, BASE_TITLE),
    (1, "(1) " + BASE_TITLE), (3, "(3) Messages · Coachline"), (99, "(99) " + BASE_TITLE),
    (100, "(99+) " + BASE_TITLE),
])
def test_the_tab_title_starts_with_the_unread_count(count, title):
    assert tab_title(count) == title


def test_the_base_title_is_the_page_title():
    from pathlib import Path
    html = (Path(__file__).resolve().parents[2] / "index.html").read_text()
    assert f"<title>{BASE_TITLE}</title>" in html


# -- keys: what a view keeps per message so that inserting one parses one time ------------

from datetime import datetime, timedelta, timezone  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402



def test_a_key_is_none_where_a_message_cannot_join():
    assert group_key(None) is None
    assert group_key({"id": 1, "sender": None, "created_at": "2026-11-30T10:00:00Z"}) is None
    assert group_key(msg(1, ALEX, "not a time")) is None
    assert key_continues(None, group_key(msg(1, ALEX, "2026-11-30T10:00:00Z"))) is False


def test_a_key_holds_the_sender_the_utc_time_and_the_local_day():
    key = group_key(msg(1, ALEX, "2026-11-30T23:30:00-01:00"), tz_offset_minutes=0)
    assert key.sender == ALEX
    assert key.at == datetime(2026, 12, 1, 0, 30, tzinfo=timezone.utc)
    assert key.day == "2026-12-01"
    assert group_key(msg(1, ALEX, "2026-12-01T00:30:00Z"), tz_offset_minutes=60).day == "2026-11-30"


def reference_rule(previous, message, tz_offset_minutes):
    """The rule in words, with its own arithmetic: same sender id, 0..300 s later, same local day."""
    def local(m):
        text = m["created_at"].replace("Z", "+00:00")
        return datetime.fromisoformat(text).astimezone(timezone.utc) - timedelta(minutes=tz_offset_minutes)
    if message["sender"]["id"] != previous["sender"]["id"]:
        return False
    gap = (local(message) - local(previous)).total_seconds()
    return 0 <= gap <= 300 and local(message).date() == local(previous).date()


START = datetime(2026, 11, 30, 23, 50, tzinfo=timezone.utc)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([ME, ALEX]), st.sampled_from([ME, ALEX]), st.integers(0, 1200), st.integers(-400, 900),
       st.sampled_from([-120, -60, 0, 60, 330]))
def test_keys_give_the_same_answer_as_the_rule(sender_a, sender_b, offset_a, gap, tz):
    a_at = START + timedelta(seconds=offset_a)
    a = msg(1, sender_a, a_at.isoformat().replace("+00:00", "Z"))
    b = msg(2, sender_b, (a_at + timedelta(seconds=gap)).isoformat())
    expected = reference_rule(a, b, tz)
    assert key_continues(group_key(a, tz), group_key(b, tz)) is expected


# -- which messages the view watches for "seen" (issue 13) -------------------------------

from core.chat_marks import watch_until_seen  # noqa: E402


def test_only_the_other_partys_unread_messages_are_watched_for_seen():
    assert watch_until_seen(msg(1, ALEX, "t"), ME) is True
    assert watch_until_seen(msg(1, ALEX, "t", is_read=True), ME) is False  # read: let go
    assert watch_until_seen(msg(1, ME, "t"), ME) is False  # mine never waits for my eyes
    assert watch_until_seen({"id": 1, "sender": None, "is_read": False}, ME) is False
    assert watch_until_seen(None, ME) is False


# --- the message list formats a message's time from its group key's parsed time -------------------

from core.formatting import message_times  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2200, 1, 1)),
       st.sampled_from(["Z", "+00:00", "-01:00", "+05:30", "+14:00", ""]),
       st.integers(min_value=-14 * 60, max_value=12 * 60))
def test_a_keys_time_formats_exactly_as_the_text_it_was_parsed_from(moment, zone, tz):
    """web/message_list.py parses a message's time once, for its group key, and formats the
    key's time: that must give the node the same clock, day and tooltip as the text."""
    text = moment.isoformat() + zone
    key = group_key(msg(1, ALEX, text), tz)
    assert key is not None
    assert message_times(key.at, tz) == message_times(text, tz)
    assert message_times(key.at, tz)[1] == key.day
