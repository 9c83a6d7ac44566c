"""Timestamps as the API shows them: ISO 8601 in UTC with microseconds and a `Z`, like DRF.

The fixed width makes the stored strings sort in time order, which the queries rely on.
"""

from __future__ import annotations

from datetime import datetime, timezone


def iso_utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds_of(iso: str) -> float:
    """The inverse of `iso_utc`: seconds since the epoch."""
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
