"""Rate limiters with `now` passed in: pure bookkeeping, no clock and no I/O.

`FailureCounter`: failed logins counted under several keys at once (the account, the
client's address group, a known device, the whole server: see `server.login_limits`),
each key with its own limit and window (a `FailureCount`). Only failures count, so a client
that logs in correctly again and again is never limited; once a key's limit is reached every
attempt under it is refused until enough of its failures leave the window (otherwise a
correct guess would still be told apart from a wrong one).

An attempt is *reserved* as a failure under all its keys before the password is hashed
(all or none: a refusal counts nowhere) and released only when the password turns out
right, so N concurrent wrong guesses cannot all pass the check before any of them is
recorded. Keys whose failures have all left their window are forgotten (a sweep at most
once per `sweep_interval`), and the number of keys is capped: past `max_keys` the least
recently used key is dropped, so memory stays bounded whatever a client sends.

`TokenBucket` / `BucketLimiter`: `capacity` events at once, refilled at `rate` per second;
used for sends per user, refreshes per address and frames per socket.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FailureCount:
    """One counter an attempt counts under: at most `limit` failures per `window` seconds."""

    key: str
    limit: int
    window: float


def wait_for(times: Sequence[float], limit: int, window: float, now: float) -> float | None:
    """Seconds until fewer than `limit` of `times` (oldest first, all inside the window)
    remain, or None when there are fewer already."""
    if len(times) < limit:
        return None
    if limit <= 0:
        return window
    return max(0.0, times[len(times) - limit] + window - now)


class FailureCounter:
    def __init__(self, max_keys: int = 50_000, sweep_interval: float = 60.0) -> None:
        self.max_keys = max_keys
        self.sweep_interval = sweep_interval
        self._failures: OrderedDict[str, tuple[float, deque[float]]] = OrderedDict()  # key -> (window, times)
        self._next_sweep = float("-inf")

    def __len__(self) -> int:
        return len(self._failures)

    def reserve(self, counts: Sequence[FailureCount], now: float) -> float | None:
        """None when the attempt may go ahead, counted as a failure under every key of
        `counts` (then `release(counts, now)` if it succeeds); else the longest wait."""
        self._sweep(now)
        waits = [w for w in (self._wait(count, now) for count in counts) if w is not None]
        if waits:
            return max(waits)
        for count in counts:
            self._times(count).append(now)
        return None

    def release(self, counts: Sequence[FailureCount], reserved_at: float) -> None:
        """Undo a `reserve` made at `reserved_at`: the attempt succeeded (or was never checked)."""
        for count in counts:
            entry = self._failures.get(count.key)
            if entry is None:
                continue
            try:
                entry[1].remove(reserved_at)
            except ValueError:
                continue
            if not entry[1]:
                del self._failures[count.key]

    def clear(self) -> None:
        self._failures.clear()

    def _wait(self, count: FailureCount, now: float) -> float | None:
        entry = self._failures.get(count.key)
        if entry is None:
            return wait_for((), count.limit, count.window, now)
        times = entry[1]
        while times and times[0] + count.window <= now:
            times.popleft()
        return wait_for(times, count.limit, count.window, now)

    def _times(self, count: FailureCount) -> deque[float]:
        entry = self._failures.get(count.key)
        if entry is None:
            entry = self._failures[count.key] = (count.window, deque())
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(count.key)
        return entry[1]

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_interval
        for key in [k for k, (window, times) in self._failures.items() if not times or times[-1] + window <= now]:
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
