"""Groups, the unread line and the tab title (issue 14 points 2, 4, 5)."""

import pytest

from core.chat_marks import BASE_TITLE, GROUP_GAP_S, continues_group, first_unread_id, tab_title

ME, ALEX = 1, 2


def msg(mid, sender, at, is_read=False):
    return {"id": mid, "sender": {"id": sender}, "created_at": at, "is_read": is_read}


def test_a_first_message_starts_a_group():
    assert continues_group(None, msg(1, ALEX, "2026-11-30T10:00:00Z")) is False


def test_same_sender_within_five_minutes_continues():
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert continues_group(a, msg(2, ALEX, "2026-11-30T10:05:00Z")) is True


def test_a_gap_over_five_minutes_starts_a_new_group():
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert GROUP_GAP_S == 300
    assert continues_group(a, msg(2, ALEX, "2026-11-30T10:05:01Z")) is False


def test_another_sender_starts_a_new_group():
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert continues_group(a, msg(2, ME, "2026-11-30T10:00:10Z")) is False


def test_a_local_day_change_starts_a_new_group():
    a = msg(1, ALEX, "2026-11-30T23:59:00Z")
    b = msg(2, ALEX, "2026-12-01T00:01:00Z")
    assert continues_group(a, b, tz_offset_minutes=0) is False
    # At UTC-60 min both are on Nov 30 locally.
    assert continues_group(a, b, tz_offset_minutes=-60) is True


@pytest.mark.parametrize("bad", [None, "", "not a time", 12])
def test_an_unreadable_time_never_joins(bad):
    a = msg(1, ALEX, "2026-11-30T10:00:00Z")
    assert continues_group(a, msg(2, ALEX, bad)) is False
    assert continues_group(msg(2, ALEX, bad), a) is False


def test_a_message_out_of_time_order_never_joins():
    a = msg(1, ALEX, "2026-11-30T10:03:00Z")
    assert continues_group(a, msg(2, ALEX, "2026-11-30T10:01:00Z")) is False


def test_a_sender_without_id_never_joins():
    a = {"id": 1, "sender": None, "created_at": "2026-11-30T10:00:00Z"}
    assert continues_group(a, dict(a, id=2)) is False


def test_the_unread_line_goes_above_the_oldest_unread_from_the_other_party():
    log = [msg(1, ALEX, "t", True), msg(2, ME, "t"), msg(3, ALEX, "t"), msg(4, ALEX, "t")]
    assert first_unread_id(log, ME) == 3


def test_no_unread_line_when_all_is_read_or_own():
    assert first_unread_id([msg(1, ALEX, "t", True), msg(2, ME, "t")], ME) is None
    assert first_unread_id([], ME) is None


@pytest.mark.parametrize("count, title", [
    (0, BASE_TITLE), (-1, BASE_TITLE), (None, BASE_TITLE), ("3", BASE_TITLE), (True, BASE_TITLE),
    (1, "(1) " + BASE_TITLE), (3, "(3) Messages · Trainer dashboard"), (99, "(99) " + BASE_TITLE),
    (100, "(99+) " + BASE_TITLE),
])
def test_the_tab_title_starts_with_the_unread_count(count, title):
    assert tab_title(count) == title


def test_the_base_title_is_the_page_title():
    from pathlib import Path
    html = (Path(__file__).resolve().parents[2] / "index.html").read_text()
    assert f"<title>{BASE_TITLE}</title>" in html
