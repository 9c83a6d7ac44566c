"""Times shown without a timezone offset are UTC, whatever form the time comes in (an ISO
string with z or none, a naive datetime, epoch seconds), and "today" is judged in the same
local time as the message."""
from datetime import datetime, timezone

from core.formatting import day_key, day_label, format_list_time, format_time, full_date_time, message_times, parse_iso

LAST_MINUTE = "2024-03-01T23:59:30Z"  # one minute of offset would make it the next day
NOW = datetime(2024, 3, 1, 23, 59, 50, tzinfo=timezone.utc)


def test_without_an_offset_every_format_is_utc():
    assert format_time(LAST_MINUTE) == "23:59"
    assert message_times(LAST_MINUTE) == ("23:59", "2024-03-01", "1 Mar 2024, 23:59")
    assert full_date_time(LAST_MINUTE) == "1 Mar 2024, 23:59"
    assert day_key(LAST_MINUTE) == "2024-03-01"
    assert day_label(LAST_MINUTE, NOW) == "Today"
    assert format_list_time(LAST_MINUTE, NOW) == "23:59"


def test_an_offset_that_is_not_a_number_counts_as_utc():
    assert format_time(LAST_MINUTE, "x") == "23:59"


def test_a_naive_datetime_or_epoch_seconds_are_utc():
    assert format_time(datetime(2024, 3, 1, 23, 59, 30)) == "23:59"
    assert format_time(datetime(2024, 3, 1, 23, 59, 30, tzinfo=timezone.utc).timestamp()) == "23:59"


def test_a_lower_case_z_or_no_offset_at_all_means_utc():
    expected = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_iso("2024-03-01T12:00:00z") == expected
    assert parse_iso("2024-03-01T12:00:00") == expected
    assert parse_iso("2024-03-01T14:00:00+02:00").utcoffset().total_seconds() == 0


def test_today_is_judged_in_the_viewers_local_time():
    # 23:00 UTC is 00:00 on 2 March an hour east; at 23:30 UTC it is 00:30 there: the same day.
    assert day_label("2024-03-01T23:00:00Z", datetime(2024, 3, 1, 23, 30, tzinfo=timezone.utc), 60) == "Today"
