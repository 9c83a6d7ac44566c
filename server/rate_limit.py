"""Failed-login limiter: too many failures for one (client ip, email) within a window -> 429.

Pure bookkeeping with `now` passed in. Only failures are counted, so a client that logs in
correctly again and again is never limited; once the limit is reached every attempt for
that key is refused until the oldest failure leaves the window (otherwise a correct guess
would still be told apart from a wrong one).
"""

from __future__ import annotations

from collections import deque


class LoginRateLimiter:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def retry_after(self, key: tuple[str, str], now: float) -> float | None:
        """Seconds until `key` may try again, or None when it may try now."""
        failures = self._prune(key, now)
        if len(failures) < self.max_failures:
            if not failures:
                del self._failures[key]
            return None
        return max(0.0, failures[0] + self.window_seconds - now)

    def record_failure(self, key: tuple[str, str], now: float) -> None:
        self._prune(key, now).append(now)

    def clear(self) -> None:
        self._failures.clear()

    def _prune(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] + self.window_seconds <= now:
            failures.popleft()
        return failures
