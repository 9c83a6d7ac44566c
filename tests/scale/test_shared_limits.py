"""The limits shared across workers (server/shared_limits.py), against a real Redis.

The rules are tested on both implementations (`limits` runs each test on LocalLimits and on
RedisLimits); then what only Redis promises: two workers count together, every key expires,
concurrent reservations are atomic, leases free a dead worker's sockets, and a Redis outage
falls back to counting per worker without an error.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from server.rate_limit import BucketLimiter, FailureCount, FailureCounter
from server.shared_limits import LocalLimits, RedisLimits, connect

T0 = 1_765_000_000.0  # an epoch time: scores must keep sub-second precision at this size
KEY = (FailureCount("account alex@example.com", 5, 300.0),)
OTHER = (FailureCount("account sam@example.com", 5, 300.0),)


def local_limits() -> LocalLimits:
    return LocalLimits(FailureCounter(), BucketLimiter(3, 1.0), refresh=BucketLimiter(2, 0.5))


def run(url: str | None, scenario, workers: int = 1, **settings):
    """asyncio.run(scenario(*limits)): `workers` RedisLimits on one Redis (each with its own
    client, as separate processes would have), or one LocalLimits when `url` is None."""
    async def main():
        if url is None:
            return await scenario(local_limits())
        clients = [connect(url) for _ in range(workers)]
        try:
            return await scenario(*[RedisLimits(c, "chat", fallback=local_limits(), **settings) for c in clients])
        finally:
            for client in clients:
                await client.aclose()
    return asyncio.run(main())


@pytest.fixture(params=["local", "redis"])
def url(request):
    return None if request.param == "local" else request.getfixturevalue("redis_url")


# --- the rules, on both implementations ---------------------------------------------------

def test_login_refuses_the_sixth_failure_until_the_oldest_leaves_the_window(url):
    async def scenario(limits):
        allowed = [(await limits.login_reserve(KEY, T0 + i))[0] for i in range(5)]
        refused = [(await limits.login_reserve(KEY, now))[0] for now in (T0 + 10, T0 + 299.5)]
        return allowed, refused, (await limits.login_reserve(KEY, T0 + 300))[0]
    allowed, refused, after = run(url, scenario)
    assert allowed == [None] * 5
    assert refused == [pytest.approx(290.0), pytest.approx(0.5)]
    assert after is None  # the failure at T0 left the window at T0 + 300


def test_a_released_login_does_not_count(url):
    async def scenario(limits):
        handles = [(await limits.login_reserve(KEY, T0 + i))[1] for i in range(5)]
        await limits.login_release(KEY, handles[2])
        sixth = await limits.login_reserve(KEY, T0 + 6)
        seventh = await limits.login_reserve(KEY, T0 + 7)
        return sixth[0], seventh[0]
    assert run(url, scenario) == (None, pytest.approx(293.0))


def test_login_keys_count_apart_and_clear_forgets_all(url):
    async def scenario(limits):
        for i in range(5):
            await limits.login_reserve(KEY, T0 + i)
        other = (await limits.login_reserve(OTHER, T0 + 5))[0]
        before = (await limits.login_reserve(KEY, T0 + 5))[0]
        await limits.login_clear()
        return other, before, (await limits.login_reserve(KEY, T0 + 5))[0]
    other, before, after = run(url, scenario)
    assert other is None and before == pytest.approx(295.0) and after is None


def test_an_attempt_counts_under_all_its_counters_or_none(url):
    account = FailureCount("account alex@example.com", 3, 300.0)
    address = FailureCount("address 10.0.0.1", 5, 60.0)

    async def scenario(limits):
        for i in range(3):
            await limits.login_reserve((account, address), T0 + i)
        refused = (await limits.login_reserve((account, address), T0 + 10))[0]
        # the refusal counted nowhere: the address has 3 of its 5, then 2 more, then full
        others = [(await limits.login_reserve((FailureCount(f"account u{i}", 3, 300.0), address), T0 + 11))[0]
                  for i in range(3)]
        both_full = (await limits.login_reserve((account, address), T0 + 11))[0]
        return refused, others, both_full
    refused, others, both_full = run(url, scenario)
    assert refused == pytest.approx(290.0)
    assert others == [None, None, pytest.approx(49.0)]  # the address's oldest (T0) leaves at T0 + 60
    assert both_full == pytest.approx(289.0)  # the longer of the two waits


def test_refreshes_take_a_bucket_per_address(url):
    async def scenario(limits):
        burst = [await limits.refresh_take("10.0.0.1", T0) for _ in range(3)]
        return burst, await limits.refresh_take("10.0.0.2", T0), await limits.refresh_take("10.0.0.1", T0 + 2)
    burst, other, refilled = run(url, scenario)
    assert burst == [None, None, pytest.approx(2.0)] and other is None and refilled is None


def test_sends_take_a_burst_then_refill_at_the_rate(url):
    async def scenario(limits):
        burst = [await limits.send_take(7, T0) for _ in range(4)]
        return burst, await limits.send_take(7, T0 + 0.5), await limits.send_take(7, T0 + 1.0), \
            await limits.send_take(8, T0 + 1.0)
    burst, half, refilled, other_user = run(url, scenario)
    assert burst == [None, None, None, pytest.approx(1.0)]
    assert half == pytest.approx(0.5) and refilled is None and other_user is None


def test_send_waits_match_the_in_process_bucket(url):
    times = [T0, T0, T0, T0 + 0.2, T0 + 0.3, T0 + 1.4, T0 + 1.45, T0 + 5, T0 + 5, T0 + 5, T0 + 5, T0 + 5.9]
    reference = BucketLimiter(3, 1.0)
    expected = [reference.take(7, now) for now in times]

    async def scenario(limits):
        return [await limits.send_take(7, now) for now in times]
    got = run(url, scenario)
    assert [w is None for w in got] == [w is None for w in expected]
    assert [round(w, 6) for w in got if w is not None] == [round(w, 6) for w in expected if w is not None]
    assert any(w is not None for w in got) and any(w is None for w in got)


def test_a_user_may_hold_at_most_cap_sockets(url):
    async def scenario(limits):
        first = [await limits.socket_acquire(1, sid, 2, T0) for sid in ("a", "b", "c")]
        again = await limits.socket_acquire(1, "a", 2, T0)  # already counted: still fine
        other_user = await limits.socket_acquire(2, "c", 2, T0)
        await limits.socket_release(1, "a")
        return first, again, other_user, await limits.socket_acquire(1, "c", 2, T0 + 1)
    first, again, other_user, after_release = run(url, scenario)
    assert first == [True, True, False] and again is True and other_user is True and after_release is True


def test_typing_relays_at_most_once_per_interval_per_typer(url):
    async def scenario(limits):
        return [await limits.typing_gate(5, 1, 0.25, T0), await limits.typing_gate(5, 1, 0.25, T0 + 0.1),
                await limits.typing_gate(5, 2, 0.25, T0 + 0.1), await limits.typing_gate(6, 1, 0.25, T0 + 0.1),
                await limits.typing_gate(5, 1, 0.25, T0 + 0.25), await limits.typing_gate(5, 1, 0.25, T0 + 0.3)]
    assert run(url, scenario) == [None, pytest.approx(0.15), None, None, None, pytest.approx(0.2)]


# --- two workers, one Redis ----------------------------------------------------------------

def test_two_workers_share_login_failures(redis_url):
    async def scenario(a, b):
        handles = [(await a.login_reserve(KEY, T0 + i))[1] for i in range(5)]
        refused = (await b.login_reserve(KEY, T0 + 5))[0]
        await b.login_release(KEY, handles[0])  # a handle works on any worker
        return refused, (await b.login_reserve(KEY, T0 + 6))[0], (await a.login_reserve(KEY, T0 + 7))[0]
    refused, freed, full = run(redis_url, scenario, workers=2)
    assert refused == pytest.approx(295.0) and freed is None and full == pytest.approx(294.0)


def test_two_workers_share_one_send_bucket_and_socket_cap(redis_url):
    async def scenario(a, b):
        sends = [await a.send_take(7, T0), await b.send_take(7, T0), await a.send_take(7, T0), await b.send_take(7, T0)]
        sockets = [await a.socket_acquire(1, "a1", 3, T0), await a.socket_acquire(1, "a2", 3, T0),
                   await b.socket_acquire(1, "b1", 3, T0), await b.socket_acquire(1, "b2", 3, T0)]
        await a.socket_release(1, "a1")
        return sends, sockets, await b.socket_acquire(1, "b2", 3, T0)
    sends, sockets, after_release = run(redis_url, scenario, workers=2)
    assert sends == [None, None, None, pytest.approx(1.0)]
    assert sockets == [True, True, True, False] and after_release is True


def test_typing_gate_is_shared(redis_url):
    async def scenario(a, b):
        return await a.typing_gate(5, 1, 3.0, T0), await b.typing_gate(5, 1, 3.0, T0 + 1)
    assert run(redis_url, scenario, workers=2) == (None, pytest.approx(2.0))


def test_fifty_concurrent_logins_reserve_exactly_five(redis_url):
    async def scenario(a, b):
        results = await asyncio.gather(*[(a if i % 2 else b).login_reserve(KEY, T0) for i in range(50)])
        return [wait for wait, _ in results]
    waits = run(redis_url, scenario, workers=2)
    assert waits.count(None) == 5 and waits.count(pytest.approx(300.0)) == 45


def test_every_key_expires(redis_url):
    async def scenario(limits):
        await limits.login_reserve((FailureCount("x" * 10_000 + "@example.com", 5, 300.0),), T0)
        await limits.send_take(7, T0)
        await limits.refresh_take("2001:db8::/64", T0)
        await limits.socket_acquire(1, "s", 5, T0)
        await limits.typing_gate(5, 1, 0.25, T0)
        keys = sorted([k.decode() async for k in limits.client.scan_iter(match="chat:*")])
        return keys, {k: await limits.client.pttl(k) for k in keys}
    keys, ttls = run(redis_url, scenario)
    assert [k.split(":")[1] for k in keys] == ["login", "refresh", "send", "sockets", "typing"]
    assert max(len(k) for k in keys) < 60  # the 10 000-character e-mail was hashed
    limits = {"login": 300_000, "refresh": 2_000, "send": 1_000, "sockets": 60_000, "typing": 250}
    for key, ttl in ttls.items():
        assert 0 < ttl <= limits[key.split(":")[1]], (key, ttl)


def test_a_lease_ends_unless_renewed(redis_url):
    async def scenario(a, b):
        await a.socket_acquire(1, "a1", 1, T0)
        await b.socket_acquire(2, "b1", 1, T0)
        await a.renew({1: ["a1"]}, T0 + 40)  # worker b has died: it renews nothing
        return [await b.socket_acquire(1, "x", 1, T0 + 61), await b.socket_acquire(2, "x", 1, T0 + 61),
                await b.socket_acquire(1, "x", 1, T0 + 100)]
    # a1 is held to T0 + 100 by the renew; b1's lease ended at T0 + 60.
    assert run(redis_url, scenario, workers=2) == [False, True, True]


def test_renew_counts_live_sockets_again_after_redis_lost_them(redis_url):
    async def scenario(limits):
        await limits.socket_acquire(1, "s1", 1, T0)
        await limits.client.flushall()  # as after a restart without persistence
        await limits.renew({1: ["s1"]}, T0 + 1)
        return await limits.socket_acquire(1, "s2", 1, T0 + 2)
    assert run(redis_url, scenario) is False


# --- Redis away ----------------------------------------------------------------------------

def test_without_redis_each_worker_counts_on_its_own(redis_service, redis_url, caplog):
    async def scenario(limits):
        redis_service.stop()
        logins = [(await limits.login_reserve(KEY, T0 + i))[0] for i in range(6)]
        sends = [await limits.send_take(7, T0) for _ in range(4)]
        sockets = [await limits.socket_acquire(1, sid, 1, T0) for sid in ("a", "b")]
        typing = [await limits.typing_gate(5, 1, 0.25, T0), await limits.typing_gate(5, 1, 0.25, T0 + 0.1)]
        await limits.renew({1: ["a"]}, T0)
        await limits.login_clear()
        return logins, sends, sockets, typing, limits.redis_down
    with caplog.at_level(logging.WARNING, logger="server"):
        logins, sends, sockets, typing, down = run(redis_url, scenario)
    assert logins == [None] * 5 + [pytest.approx(295.0)]
    assert sends == [None, None, None, pytest.approx(1.0)]
    assert sockets == [True, False] and typing == [None, pytest.approx(0.15)] and down is True
    warnings = [r for r in caplog.records if r.name == "server" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis unreachable" in warnings[0].getMessage()
    assert "alex" not in warnings[0].getMessage()


def test_redis_is_used_again_once_it_is_back(redis_service, redis_url):
    async def scenario(limits):
        redis_service.stop()
        _, local_handle = await limits.login_reserve(KEY, T0)
        held = await limits.socket_acquire(1, "during", 5, T0)
        redis_service.start()
        soon = await limits.send_take(7, T0 + 0.5)  # within retry_interval: not tried yet
        keys_soon = await limits.client.dbsize()
        later = await limits.send_take(7, T0 + 2)
        await limits.login_release(KEY, local_handle)
        await limits.socket_release(1, "during")
        return (held, soon, keys_soon, later, await limits.client.exists(limits.send_key(7)),
                limits.redis_down, len(limits.fallback.login), limits.fallback.socket_count(1))
    held, soon, keys_soon, later, exists, down, local_logins, local_sockets = run(redis_url, scenario)
    assert held is True and soon is None and keys_soon == 0 and later is None
    assert exists == 1 and down is False
    assert local_logins == 0 and local_sockets == 0  # what was counted locally is released locally
