"""Names, initials, times and day labels, in fixed English and the browser's zone."""

from datetime import datetime, timedelta, timezone

import pytest

from core.formatting import (
    day_key,
    day_label,
    display_name,
    format_list_time,
    format_time,
    initials,
    parse_iso,
)

CASEY = {"id": 1, "first_name": "Casey", "last_name": "Coach", "profile_image": None}
UTC_PLUS_2 = -120  # getTimezoneOffset() east of UTC is negative
UTC_MINUS_5 = 300


class TestNames:
    def test_initials_from_first_and_last_name(self):
        assert initials(CASEY) == "CC"

    def test_initials_are_upper_case_and_trimmed(self):
        assert initials({"first_name": "  alex", "last_name": " runner "}) == "AR"

    def test_initials_with_one_name(self):
        assert initials({"first_name": "Sam", "last_name": ""}) == "S"
        assert initials({"first_name": None, "last_name": "Lifter"}) == "L"

    @pytest.mark.parametrize(
        "user", [None, {}, {"first_name": "", "last_name": "  "}, "Casey", {"first_name": 5}]
    )
    def test_initials_fallback_is_question_mark(self, user):
        assert initials(user) == "?"

    def test_initials_of_non_latin_names(self):
        assert initials({"first_name": "émile", "last_name": "Ørsted"}) == "ÉØ"

    def test_display_name_joins_names(self):
        assert display_name(CASEY) == "Casey Coach"
        assert display_name({"first_name": "Sam", "last_name": ""}) == "Sam"

    def test_display_name_falls_back_to_email_then_unknown(self):
        assert display_name({"first_name": "", "last_name": "", "email": "jo@example.com"}) == "jo@example.com"
        assert display_name({}) == "Unknown"
        assert display_name(None) == "Unknown"


class TestParseIso:
    def test_z_suffix(self):
        assert parse_iso("2025-11-23T14:05:00Z") == datetime(2025, 11, 23, 14, 5, tzinfo=timezone.utc)

    def test_offset_is_normalised_to_utc(self):
        assert parse_iso("2025-11-23T16:05:00+02:00") == datetime(2025, 11, 23, 14, 5, tzinfo=timezone.utc)

    def test_django_microseconds_and_js_milliseconds(self):
        assert parse_iso("2025-11-23T14:05:00.123456+00:00").microsecond == 123456
        assert parse_iso("2025-11-23T14:05:00.123Z").microsecond == 123000

    def test_naive_time_is_taken_as_utc(self):
        assert parse_iso("2025-11-23T14:05:00") == datetime(2025, 11, 23, 14, 5, tzinfo=timezone.utc)

    def test_lower_case_z_and_surrounding_space(self):
        assert parse_iso(" 2025-11-23T14:05:00z ") == datetime(2025, 11, 23, 14, 5, tzinfo=timezone.utc)

    def test_result_is_aware_utc(self):
        assert parse_iso("2025-11-23T14:05:00-05:00").tzinfo == timezone.utc

    @pytest.mark.parametrize(
        "bad",
        [None, 5, 1.5, b"2025-11-23", "", "   ", "Z", "yesterday", "2025-13-01T00:00:00Z",
         "2025-11-23T25:00:00Z", "2025-11-23T14:05:00+25:00", "2025-11-23T14:05:00Z" + "0" * 100,
         "0001-01-01T00:00:00+01:00", ["2025-11-23"]],
    )
    def test_garbage_gives_none(self, bad):
        assert parse_iso(bad) is None


class TestTimes:
    def test_format_time_in_utc(self):
        assert format_time("2025-11-23T14:05:00Z", 0) == "14:05"

    def test_format_time_east_of_utc(self):
        assert format_time("2025-11-23T14:05:00Z", UTC_PLUS_2) == "16:05"

    def test_format_time_west_of_utc_crosses_midnight(self):
        assert format_time("2025-11-23T02:30:00Z", UTC_MINUS_5) == "21:30"
        assert day_key("2025-11-23T02:30:00Z", UTC_MINUS_5) == "2025-11-22"

    def test_half_hour_zone(self):
        assert format_time("2025-11-23T14:05:00Z", -330) == "19:35"  # India

    def test_day_key_groups_by_local_day(self):
        assert day_key("2025-11-23T21:59:00Z", UTC_PLUS_2) == "2025-11-23"
        assert day_key("2025-11-23T22:00:00Z", UTC_PLUS_2) == "2025-11-24"

    def test_bad_time_formats_as_empty(self):
        assert format_time("nope", 0) == ""
        assert day_key(None, 0) == ""


NOW = "2025-11-24T10:00:00Z"  # a Monday


class TestDayLabel:
    def test_today(self):
        assert day_label("2025-11-24T00:00:00Z", NOW, 0) == "Today"

    def test_yesterday(self):
        assert day_label("2025-11-23T23:59:59Z", NOW, 0) == "Yesterday"

    def test_earlier_this_year_has_weekday_and_date(self):
        assert day_label("2025-11-20T12:00:00Z", NOW, 0) == "Thu 20 Nov"
        assert day_label("2025-01-01T12:00:00Z", NOW, 0) == "Wed 1 Jan"

    def test_other_year_has_year(self):
        assert day_label("2024-12-31T12:00:00Z", NOW, 0) == "31 Dec 2024"

    def test_zone_decides_the_day(self):
        # 23:30 UTC on the 23rd is already the 24th in UTC+2: "Today"
        assert day_label("2025-11-23T23:30:00Z", NOW, UTC_PLUS_2) == "Today"
        assert day_label("2025-11-23T23:30:00Z", NOW, 0) == "Yesterday"

    def test_now_as_datetime_or_epoch(self):
        now_dt = datetime(2025, 11, 24, 10, tzinfo=timezone.utc)
        assert day_label("2025-11-24T08:00:00Z", now_dt, 0) == "Today"
        assert day_label("2025-11-23T08:00:00Z", now_dt.timestamp(), 0) == "Yesterday"

    def test_unreadable_input_gives_empty(self):
        assert day_label("garbage", NOW, 0) == ""
        assert day_label("2025-11-24T08:00:00Z", "garbage", 0) == ""


class TestListTime:
    def test_today_shows_time(self):
        assert format_list_time("2025-11-24T08:07:00Z", NOW, 0) == "08:07"

    def test_this_week_shows_weekday(self):
        assert format_list_time("2025-11-23T08:00:00Z", NOW, 0) == "Sun"
        assert format_list_time("2025-11-18T08:00:00Z", NOW, 0) == "Tue"

    def test_a_week_ago_shows_date(self):
        assert format_list_time("2025-11-17T08:00:00Z", NOW, 0) == "17 Nov"

    def test_another_year_shows_year(self):
        assert format_list_time("2024-12-31T08:00:00Z", NOW, 0) == "31 Dec 2024"

    def test_zone_applies_to_both_moments(self):
        # 22:30 UTC on the 23rd is 17:30 on the 23rd in UTC-5, and "now" is
        # 05:00 on the 24th there: yesterday, so a weekday
        assert format_list_time("2025-11-23T22:30:00Z", NOW, UTC_MINUS_5) == "Sun"
        assert format_list_time("2025-11-24T06:00:00Z", NOW, UTC_MINUS_5) == "01:00"

    def test_future_time_from_clock_skew_is_still_readable(self):
        later = (datetime(2025, 11, 24, 10, tzinfo=timezone.utc) + timedelta(minutes=3)).isoformat()
        assert format_list_time(later, NOW, 0) == "10:03"

    def test_missing_time_gives_empty(self):
        assert format_list_time(None, NOW, 0) == ""


def test_message_times_is_format_time_and_day_key_in_one_parse():
    from core.formatting import day_key, format_time, message_times
    for iso, offset in [("2026-11-25T23:30:00Z", 0), ("2026-11-25T23:30:00Z", -60),
                        ("2026-11-26T00:10:00+02:00", 120), ("2026-01-01T00:00:00", 300)]:
        assert message_times(iso, offset)[:2] == (format_time(iso, offset), day_key(iso, offset))
    assert message_times("2026-11-25T23:30:00Z", -60)[:2] == ("00:30", "2026-11-26")
    assert message_times("not a time", 0) == ("", "", "")
    assert message_times(None, 0) == ("", "", "")


def test_full_date_time_is_local_with_the_year():
    from core.formatting import full_date_time
    assert full_date_time("2025-11-23T23:05:00Z", 0) == "23 Nov 2025, 23:05"
    assert full_date_time("2025-11-23T23:05:00Z", UTC_PLUS_2) == "24 Nov 2025, 01:05"
    assert full_date_time("not a date", 0) == ""
