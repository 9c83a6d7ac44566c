"""The reconnect backoff policy (AC-5): a pure function of the try number.

    >>> [reconnect_delay(n) for n in range(1, MAX_ATTEMPTS + 1)]
    [1.0, 2.0, 4.0, 8.0, 16.0]

After the last delay the caller gives up and falls back to polling (AC-9).
"""
from __future__ import annotations

from core.constants import BACKOFF_DELAYS, MAX_ATTEMPTS

__all__ = ["MAX_ATTEMPTS", "reconnect_delay"]


def reconnect_delay(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1-based): 1, 2, 4, 8, 16, then capped at 16."""
    if isinstance(attempt, bool) or not isinstance(attempt, int):
        raise TypeError("attempt must be an int")
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return BACKOFF_DELAYS[min(attempt, len(BACKOFF_DELAYS)) - 1]

