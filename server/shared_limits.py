"""The abuse limits that must hold across every worker: failed logins, sends, token
refreshes per address, open sockets per user, typing relays per conversation and typer.

Theory of operation
-------------------
One interface, `SharedLimits`, two implementations; time is an input (`now`, the app's clock).

- `LocalLimits` keeps today's in-process rules (`server/rate_limit.py`): right for one
  worker, and the fallback of the shared one.
- `RedisLimits` keeps the same rules in Redis, so N workers count together. Each rule is one
  Lua script, which Redis runs atomically: no read-check-write race between workers (50
  concurrent wrong passwords still get exactly the limit's tries). Every key expires:
    `{prefix}:login:{sha256(key)}`   ZSET of failure times, one per counter of a login
                                     (`FailureCount`: account, address, device, global); a
                                     reservation is one member under all of an attempt's
                                     counters, removed again when the login succeeds; one window.
    `{prefix}:send:{user}`           HASH {tokens, ts}, a token bucket; until full again.
    `{prefix}:refresh:{address}`     the same bucket for token refreshes per address group.
    `{prefix}:sockets:{user}`        ZSET of socket ids scored by the end of their lease.
    `{prefix}:typing:{conv}:{user}`  the time of the last relay; one interval.
  A login counter's key may hold an e-mail: it is hashed, so keys have a bounded length.

Socket leases: a worker that crashes never releases its sockets, so a socket counts only for
`socket_lease` seconds (60) unless renewed: the worker calls `renew(its open sockets, now)`
every `socket_lease / 3` s, and a dead worker's sockets stop counting within a minute. Renew
re-adds rather than only re-scores, so live sockets count again after Redis restarted empty;
the price is that a socket released during a renew may count until its lease ends.

When Redis is unreachable (connection refused, timeout, OSError) the call is answered by the
`fallback` LocalLimits: each worker counts on its own until Redis is back, and REST keeps
answering. The outage is logged once at WARNING on logger "server" (never with a key: keys
hold e-mails), and for `retry_interval` seconds of `now` after a failure Redis is not tried,
so a hung Redis costs one timeout per interval, not one per request. Calls without `now`
(the releases) always try; a release that fails leaves that count to expire.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from typing import Awaitable, Callable, Protocol, TypeVar

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

from server.rate_limit import BucketLimiter, FailureCount, FailureCounter

log = logging.getLogger("server")

SOCKET_LEASE = 60.0  # seconds an open socket counts without a renew


def redis_down() -> tuple[type[BaseException], ...]:
    """The errors that mean Redis is away. Looked up when one is caught, not at import: a
    server without `--redis` never imports redis-py (~75 ms of every start), and one without
    the scale extra (requirements/scale.txt) does not have it."""
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ModuleNotFoundError:
        return (OSError,)
    return (RedisConnectionError, RedisTimeoutError, OSError)

T = TypeVar("T")


class SharedLimits(Protocol):
    async def login_reserve(self, counts: Sequence[FailureCount], now: float) -> tuple[float | None, object]:
        """(None, handle) when no counter of `counts` is full: the attempt may go ahead,
        counted as a failure under each until `login_release(counts, handle)`; else
        (seconds to wait, None), and nothing was counted."""

    async def login_release(self, counts: Sequence[FailureCount], handle: object) -> None:
        """The login succeeded (or was never checked): undo its reservation."""

    async def login_clear(self) -> None:
        """Test control: forget every failure."""

    async def send_take(self, user_id: int, now: float) -> float | None:
        """None when the user may send now, else the seconds until one more send is allowed."""

    async def refresh_take(self, address: str, now: float) -> float | None:
        """None when this address group may refresh a token now, else the seconds to wait."""

    async def socket_acquire(self, user_id: int, socket_id: str, cap: int, now: float) -> bool:
        """True when the socket counts now (or already did); False when `cap` are open."""

    async def socket_release(self, user_id: int, socket_id: str) -> None: ...

    async def renew(self, sockets: dict[int, list[str]], now: float) -> None:
        """Extend the lease of this worker's open sockets (user id -> socket ids)."""

    async def typing_gate(self, conversation_id: int, user_id: int, interval: float, now: float) -> float | None:
        """None: relay now (the interval starts); else the seconds until a relay may go."""


def connect(url: str, timeout: float = 2.0) -> Redis:
    """A client that gives up quickly, for `RedisLimits`: short timeouts and one immediate
    retry (a pooled connection broken by a Redis restart is replaced once), where
    redis-py's default of 10 retries with backoff would hold a request for seconds."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                          retry=Retry(NoBackoff(), 1))


class LocalLimits:
    """The limits of one worker, in its memory."""

    def __init__(self, login: FailureCounter, send: BucketLimiter, max_typing_keys: int = 100_000,
                 refresh: BucketLimiter | None = None) -> None:
        self.login = login
        self.send = send
        self.refresh = refresh if refresh is not None else BucketLimiter(60, 1.0)
        self.max_typing_keys = max_typing_keys
        self._sockets: dict[int, set[str]] = {}
        self._typing: OrderedDict[tuple[int, int], float] = OrderedDict()  # -> when the gate opens

    async def login_reserve(self, counts: Sequence[FailureCount], now: float) -> tuple[float | None, object]:
        wait = self.login.reserve(counts, now)
        return wait, (now if wait is None else None)

    async def login_release(self, counts: Sequence[FailureCount], handle: object) -> None:
        if handle is not None:
            self.login.release(counts, handle)

    async def login_clear(self) -> None:
        self.login.clear()

    async def send_take(self, user_id: int, now: float) -> float | None:
        return self.send.take(user_id, now)

    async def refresh_take(self, address: str, now: float) -> float | None:
        return self.refresh.take(address, now)

    async def socket_acquire(self, user_id: int, socket_id: str, cap: int, now: float) -> bool:
        open_ = self._sockets.get(user_id, set())
        if socket_id not in open_ and len(open_) >= cap:
            return False
        self._sockets.setdefault(user_id, open_).add(socket_id)
        return True

    async def socket_release(self, user_id: int, socket_id: str) -> None:
        open_ = self._sockets.get(user_id)
        if open_ is not None:
            open_.discard(socket_id)
            if not open_:
                del self._sockets[user_id]

    def socket_count(self, user_id: int) -> int:
        return len(self._sockets.get(user_id, ()))

    async def renew(self, sockets: dict[int, list[str]], now: float) -> None:
        """Nothing to do: a worker's own memory dies with it."""

    async def typing_gate(self, conversation_id: int, user_id: int, interval: float, now: float) -> float | None:
        key = (conversation_id, user_id)
        opens = self._typing.get(key)
        if opens is not None and now < opens:
            return opens - now
        self._typing[key] = now + interval
        self._typing.move_to_end(key)
        # Oldest first: a gate that is open again is the same as no gate.
        while self._typing:
            oldest, opens = next(iter(self._typing.items()))
            if opens > now and len(self._typing) <= self.max_typing_keys:
                break
            del self._typing[oldest]
        return None

    def __len__(self) -> int:
        """Keys held, over all five limits (bounded: see each limiter's max_keys)."""
        return len(self.login) + len(self.send) + len(self.refresh) + len(self._sockets) + len(self._typing)


# Lua numbers reach redis.call as full-precision text, but tostring() keeps 14 digits:
# fine for the waits and token counts returned, so times are passed as ARGV text instead.
# ARGV: now, the member, then per key: its limit, its window (s), its window (ms). All
# counters are checked before any is written: a refused attempt counts nowhere.
_LOGIN_RESERVE = """
local now = tonumber(ARGV[1])
local wait = nil
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    local w = window
    if limit > 0 then
      local t = tonumber(redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')[2])
      w = math.min(window, math.max(0, t + window - now))
    end
    if not wait or w > wait then wait = w end
  end
end
if wait then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[1], ARGV[2])
  redis.call('PEXPIRE', key, ARGV[3 * i + 2])
end
return false
"""

_SEND_TAKE = """
local now, cap, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(saved[1]) or cap
local ts = tonumber(saved[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local wait = false
if tokens >= 1 then tokens = tokens - 1
elseif rate > 0 then wait = tostring((1 - tokens) / rate)
else wait = 'inf' end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', ARGV[1])
local refill = rate > 0 and math.ceil((cap - tokens) / rate * 1000) or 86400000  -- until full again
redis.call('PEXPIRE', KEYS[1], math.max(1, refill))
return wait
"""

_SOCKET_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""

# The gate compares `now` with the last relay's time rather than trusting the key's TTL
# alone, so it follows the app's clock; the TTL only removes the key. A worker whose clock
# lags waits at most one interval.
_TYPING_GATE = """
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]))
if last and now < last + interval then
  return tostring(math.min(interval, last + interval - now))
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return false
"""


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _seconds(reply: bytes | None) -> float | None:  # a script's wait, sent as text
    return None if reply is None else float(reply)


class RedisLimits:
    """The five limits in Redis, shared by every worker that uses the same `prefix`.
    Settings left out are the fallback's, so both count by the same rules (a login's
    counters carry their own limits)."""

    def __init__(self, client: Redis, prefix: str, *, fallback: LocalLimits,
                 send_burst: float | None = None, send_rate: float | None = None,
                 socket_lease: float = SOCKET_LEASE, retry_interval: float = 1.0) -> None:
        self.client = client
        self.prefix = prefix
        self.fallback = fallback
        self.send_burst = fallback.send.capacity if send_burst is None else send_burst
        self.send_rate = fallback.send.rate if send_rate is None else send_rate
        self.refresh_burst = fallback.refresh.capacity
        self.refresh_rate = fallback.refresh.rate
        self.socket_lease = socket_lease
        self.retry_interval = retry_interval
        self.redis_down = False
        self._retry_at = float("-inf")
        self._login_reserve = client.register_script(_LOGIN_RESERVE)
        self._send_take = client.register_script(_SEND_TAKE)
        self._socket_acquire = client.register_script(_SOCKET_ACQUIRE)
        self._typing_gate = client.register_script(_TYPING_GATE)

    def login_key(self, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"{self.prefix}:login:{digest}"

    def send_key(self, user_id: int) -> str:
        return f"{self.prefix}:send:{int(user_id)}"

    def refresh_key(self, address: str) -> str:
        digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"{self.prefix}:refresh:{digest}"

    def sockets_key(self, user_id: int) -> str:
        return f"{self.prefix}:sockets:{int(user_id)}"

    def typing_key(self, conversation_id: int, user_id: int) -> str:
        return f"{self.prefix}:typing:{int(conversation_id)}:{int(user_id)}"

    async def login_reserve(self, counts: Sequence[FailureCount], now: float) -> tuple[float | None, object]:
        """The handle is the member's name (a str) when Redis counted the attempt, the
        fallback's handle otherwise; `login_release` tells them apart by that."""
        member = f"{now!r}:{secrets.token_hex(8)}"

        async def shared():
            args: list = [repr(now), member]
            for count in counts:
                args += [count.limit, repr(float(count.window)), _ms(count.window)]
            reply = await self._login_reserve(keys=[self.login_key(c.key) for c in counts], args=args)
            return (None, member) if reply is None else (float(reply), None)
        return await self._either(now, shared, lambda: self.fallback.login_reserve(counts, now))

    async def login_release(self, counts: Sequence[FailureCount], handle: object) -> None:
        if not isinstance(handle, str):
            return await self.fallback.login_release(counts, handle)

        async def shared():
            pipe = self.client.pipeline(transaction=False)
            for count in counts:
                pipe.zrem(self.login_key(count.key), handle)
            await pipe.execute()
        await self._either(None, shared, _nothing)

    async def login_clear(self) -> None:
        async def shared():
            keys = [k async for k in self.client.scan_iter(match=f"{self.prefix}:login:*", count=1000)]
            for start in range(0, len(keys), 1000):
                await self.client.unlink(*keys[start:start + 1000])
        await self.fallback.login_clear()
        await self._either(None, shared, _nothing)

    async def send_take(self, user_id: int, now: float) -> float | None:
        async def shared():
            return _seconds(await self._send_take(
                keys=[self.send_key(user_id)], args=[repr(now), repr(float(self.send_burst)), repr(float(self.send_rate))]))
        return await self._either(now, shared, lambda: self.fallback.send_take(user_id, now))

    async def refresh_take(self, address: str, now: float) -> float | None:
        async def shared():  # the send bucket's script, on another key with other settings
            return _seconds(await self._send_take(
                keys=[self.refresh_key(address)],
                args=[repr(now), repr(float(self.refresh_burst)), repr(float(self.refresh_rate))]))
        return await self._either(now, shared, lambda: self.fallback.refresh_take(address, now))

    async def socket_acquire(self, user_id: int, socket_id: str, cap: int, now: float) -> bool:
        async def shared():
            return bool(await self._socket_acquire(
                keys=[self.sockets_key(user_id)],
                args=[repr(now), cap, socket_id, repr(now + self.socket_lease), _ms(self.socket_lease)]))
        return await self._either(now, shared, lambda: self.fallback.socket_acquire(user_id, socket_id, cap, now))

    async def socket_release(self, user_id: int, socket_id: str) -> None:
        # Also locally: the socket may have been counted there during an outage.
        await self.fallback.socket_release(user_id, socket_id)
        await self._either(None, lambda: self.client.zrem(self.sockets_key(user_id), socket_id), _nothing)

    async def renew(self, sockets: dict[int, list[str]], now: float) -> None:
        if not sockets:
            return

        async def shared():
            pipe = self.client.pipeline(transaction=False)
            for user_id, socket_ids in sockets.items():
                if socket_ids:
                    pipe.zadd(self.sockets_key(user_id), {sid: now + self.socket_lease for sid in socket_ids})
                    pipe.pexpire(self.sockets_key(user_id), _ms(self.socket_lease))
            await pipe.execute()
        await self._either(now, shared, _nothing)

    async def typing_gate(self, conversation_id: int, user_id: int, interval: float, now: float) -> float | None:
        async def shared():
            return _seconds(await self._typing_gate(
                keys=[self.typing_key(conversation_id, user_id)], args=[repr(now), repr(float(interval)), _ms(interval)]))
        return await self._either(
            now, shared, lambda: self.fallback.typing_gate(conversation_id, user_id, interval, now))

    async def _either(self, now: float | None, shared: Callable[[], Awaitable[T]],
                      local: Callable[[], Awaitable[T]]) -> T:
        """`shared()` in Redis, or `local()` when Redis is away (or failed less than
        `retry_interval` ago by `now`)."""
        if now is not None and now < self._retry_at:
            return await local()
        try:
            result = await shared()
        except redis_down() as exc:
            if not self.redis_down:
                self.redis_down = True
                log.warning("shared limits: Redis unreachable (%s: %s); each worker counts on its own until it is back",
                            type(exc).__name__, exc)
            if now is not None:
                self._retry_at = now + self.retry_interval
            return await local()
        if self.redis_down:
            self.redis_down = False
            log.info("shared limits: Redis is back; limits are shared again")
        return result


async def _nothing() -> None:
    return None
