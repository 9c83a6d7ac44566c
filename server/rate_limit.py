"""Rate limiters with `now` passed in: pure bookkeeping, no clock and no I/O.

`LoginRateLimiter`: too many failed logins for one (client ip, email) within a window -> 429.
Only failures count, so a client that logs in correctly again and again is never limited;
once the limit is reached every attempt for that key is refused until the oldest failure
leaves the window (otherwise a correct guess would still be told apart from a wrong one).

An attempt is *reserved* as a failure before the password is hashed and released only when
the password turns out right, so N concurrent wrong guesses cannot all pass the check before
any of them is recorded. Keys whose failures have all left the window are forgotten (a sweep
at most once per window), and the number of keys is capped: past `max_keys` the oldest key
is dropped, so memory stays bounded whatever a client sends.

`TokenBucket` / `BucketLimiter`: `capacity` events at once, refilled at `rate` per second;
used for sends per user and frames per socket.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


class LoginRateLimiter:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0, max_keys: int = 50_000) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._next_sweep = float("-inf")

    def __len__(self) -> int:
        return len(self._failures)

    def retry_after(self, key: tuple[str, str], now: float) -> float | None:
        """Seconds until `key` may try again, or None when it may try now."""
        self._sweep(now)
        failures = self._failures.get(key)
        if failures is None:
            return None
        self._prune(failures, now)
        if len(failures) < self.max_failures:
            if not failures:
                del self._failures[key]
            return None
        return max(0.0, failures[0] + self.window_seconds - now)

    def reserve(self, key: tuple[str, str], now: float) -> float | None:
        """Check and count one attempt as a failure in one step: None when it may go ahead
        (then `release(key, now)` if it succeeds), else the seconds to wait."""
        wait = self.retry_after(key, now)
        if wait is None:
            self.record_failure(key, now)
        return wait

    def release(self, key: tuple[str, str], reserved_at: float) -> None:
        """Undo a `reserve` made at `reserved_at`: the attempt succeeded."""
        failures = self._failures.get(key)
        if failures is None:
            return
        try:
            failures.remove(reserved_at)
        except ValueError:
            return
        if not failures:
            del self._failures[key]

    def record_failure(self, key: tuple[str, str], now: float) -> None:
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = deque()
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(key)
        failures.append(now)

    def clear(self) -> None:
        self._failures.clear()

    def _prune(self, failures: deque[float], now: float) -> None:
        while failures and failures[0] + self.window_seconds <= now:
            failures.popleft()

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window_seconds
        for key in [k for k, f in self._failures.items() if not f or f[-1] + self.window_seconds <= now]:
            del self._failures[key]


@dataclass
class TokenBucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float
    updated: float

    def take(self, now: float, cost: float = 1.0) -> float | None:
        """None when `cost` tokens were taken, else the seconds until they would be there."""
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return None
        return (cost - self.tokens) / self.rate if self.rate > 0 else float("inf")


class BucketLimiter:
    """One `TokenBucket` per key; full buckets are forgotten, at most `max_keys` are kept."""

    def __init__(self, capacity: float, rate: float, max_keys: int = 100_000) -> None:
        self.capacity = capacity
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: OrderedDict[object, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: object, now: float, cost: float = 1.0) -> float | None:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.capacity, self.rate, self.capacity, now)
        self._buckets.move_to_end(key)
        wait = bucket.take(now, cost)
        self._forget_full(now)
        return wait

    def _forget_full(self, now: float) -> None:
        # The least recently used first: a bucket untouched long enough to be full again
        # is the same as no bucket.
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            full = bucket.tokens + (now - bucket.updated) * self.rate >= self.capacity
            if not full and len(self._buckets) <= self.max_keys:
                break
            del self._buckets[key]
