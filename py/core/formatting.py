"""Names, initials, times and day separators as the chat shows them.

Times arrive as ISO 8601 strings (CONTRACT ``created_at``, ``last_message_at``).
The browser's time zone comes in as ``tz_offset_minutes``, exactly what JS
``new Date().getTimezoneOffset()`` returns: the minutes to ADD to local time
to get UTC (UTC+2 gives -120, UTC-5 gives 300). Output is fixed English and
24-hour, independent of any locale. Nothing here raises on bad input: an
unreadable time formats as "".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Optional, Tuple, Union

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MAX_ISO_LEN = 64

Instant = Union[str, datetime, int, float]


def _name_part(user: Any, key: str) -> str:
    if not isinstance(user, dict):
        return ""
    value = user.get(key)
    return value.strip() if isinstance(value, str) else ""


def initials(user: Any) -> str:
    """"CC" for Casey Coach; one letter if only one name is known; else "?"."""
    letters = "".join(part[0] for part in (_name_part(user, "first_name"), _name_part(user, "last_name")) if part)
    return letters.upper() or "?"


def display_name(user: Any) -> str:
    """"Casey Coach"; falls back to the email, then to "Unknown"."""
    full = " ".join(p for p in (_name_part(user, "first_name"), _name_part(user, "last_name")) if p)
    return full or _name_part(user, "email") or "Unknown"


def parse_iso(s: Any) -> Optional[datetime]:
    """An aware UTC datetime from an ISO 8601 string, or None. Never raises.

    Accepts "Z" and numeric offsets; a string without an offset is taken as UTC.
    """
    if not isinstance(s, str):
        return None
    text = s.strip()
    if not text or len(text) > _MAX_ISO_LEN:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except (ValueError, TypeError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _to_utc(value: Any) -> Optional[datetime]:
    if isinstance(value, str):
        return parse_iso(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            return None
    return None


def _local(value: Any, tz_offset_minutes: Any) -> Optional[datetime]:
    moment = _to_utc(value)
    if moment is None:
        return None
    offset = tz_offset_minutes if isinstance(tz_offset_minutes, (int, float)) else 0
    try:
        return (moment - timedelta(minutes=offset)).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


def format_time(iso: Any, tz_offset_minutes: float = 0) -> str:
    """Local "HH:MM" (24-hour), e.g. "14:05"."""
    local = _local(iso, tz_offset_minutes)
    return "" if local is None else f"{local.hour:02d}:{local.minute:02d}"


def message_times(iso: Any, tz_offset_minutes: float = 0) -> Tuple[str, str, str]:
    """(format_time, day_key, full_date_time) of one timestamp, parsed once: a message node
    needs all three, and this runs once per message (2,000 in a burst)."""
    local = _local(iso, tz_offset_minutes)
    if local is None:
        return "", "", ""
    clock = f"{local.hour:02d}:{local.minute:02d}"
    return clock, local.date().isoformat(), f"{_long_date(local.date())}, {clock}"


def full_date_time(iso: Any, tz_offset_minutes: float = 0) -> str:
    """Local "23 Nov 2025, 14:05": a message's tooltip, where its group shows one time."""
    return message_times(iso, tz_offset_minutes)[2]


def day_key(iso: Any, tz_offset_minutes: float = 0) -> str:
    """The local calendar day "YYYY-MM-DD": messages with the same key share a separator."""
    local = _local(iso, tz_offset_minutes)
    return "" if local is None else local.date().isoformat()


def _short_date(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]}"


def _long_date(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _days(iso: Any, now: Instant, tz_offset_minutes: float):
    """(local time of `iso`, its day, today's day) in the viewer's zone, or None if unreadable."""
    local = _local(iso, tz_offset_minutes)
    today = _local(now, tz_offset_minutes)
    if local is None or today is None:
        return None
    return local, local.date(), today.date()


def day_label(iso: Any, now: Instant, tz_offset_minutes: float = 0) -> str:
    """Day separator text: "Today", "Yesterday", "Mon 23 Nov" (this year)
    or "23 Nov 2025" (another year). ``now`` is an ISO string, a datetime or
    epoch seconds."""
    days = _days(iso, now, tz_offset_minutes)
    if days is None:
        return ""
    _, day, this_day = days
    if day == this_day:
        return "Today"
    if day == this_day - timedelta(days=1):
        return "Yesterday"
    if day.year == this_day.year:
        return f"{_WEEKDAYS[day.weekday()]} {_short_date(day)}"
    return _long_date(day)


def format_list_time(iso: Any, now: Instant, tz_offset_minutes: float = 0) -> str:
    """Conversation-list timestamp: "14:05" today, "Mon" within the last
    six days, "23 Nov" earlier this year, "23 Nov 2024" before that."""
    days = _days(iso, now, tz_offset_minutes)
    if days is None:
        return ""
    local, day, this_day = days
    if day == this_day:
        return f"{local.hour:02d}:{local.minute:02d}"
    days_ago = (this_day - day).days
    if 1 <= days_ago <= 6:
        return _WEEKDAYS[day.weekday()]
    if day.year == this_day.year:
        return _short_date(day)
    return _long_date(day)
