"""LocalLimits (server/shared_limits.py) on its own, under CPython with no Redis: what only
the in-process implementation does (the rules both share are in test_shared_limits.py)."""

from __future__ import annotations

import asyncio

from server.rate_limit import BucketLimiter, FailureCount, FailureCounter
from server.shared_limits import LocalLimits


K = (FailureCount("k", 2, 10.0),)


def limits(**kw) -> LocalLimits:
    return LocalLimits(FailureCounter(), BucketLimiter(2, 1.0), **kw)


def test_a_refused_login_has_no_handle_and_releasing_it_changes_nothing():
    local = limits()

    async def scenario():
        first = await local.login_reserve(K, 0.0)
        second = await local.login_reserve(K, 1.0)
        refused = await local.login_reserve(K, 2.0)
        await local.login_release(K, refused[1])
        return first, second, refused, await local.login_reserve(K, 3.0)
    first, second, refused, still = asyncio.run(scenario())
    assert first == (None, 0.0) and second == (None, 1.0)
    assert refused == (8.0, None) and still == (7.0, None)


def test_it_wraps_the_limiters_it_is_given():
    local = limits()

    async def scenario():
        await local.login_reserve(K, 0.0)
        await local.send_take(1, 0.0)
        await local.refresh_take("10.0.0.1", 0.0)
    asyncio.run(scenario())
    assert len(local.login) == 1 and len(local.send) == 1 and len(local.refresh) == 1


def test_released_sockets_leave_no_entry_and_renew_is_a_no_op():
    local = limits()

    async def scenario():
        await local.socket_acquire(1, "a", 1, 0.0)
        refused = await local.socket_acquire(1, "b", 1, 0.0)
        refused_empty = await local.socket_acquire(2, "c", 0, 0.0)
        await local.renew({1: ["a"]}, 100.0)
        count = local.socket_count(1)
        await local.socket_release(1, "a")
        await local.socket_release(1, "a")  # twice: harmless
        return refused, refused_empty, count
    refused, refused_empty, count = asyncio.run(scenario())
    assert refused is False and refused_empty is False and count == 1
    assert local.socket_count(1) == 0 and len(local) == 0


def test_open_typing_gates_are_forgotten_and_their_number_is_capped():
    local = limits(max_typing_keys=3)

    async def scenario():
        for user in range(5):
            await local.typing_gate(1, user, 1.0, 0.0)
        capped = len(local)
        # the two oldest were dropped to keep three: they may relay again at once
        dropped = await local.typing_gate(1, 0, 1.0, 0.5)
        kept = await local.typing_gate(1, 4, 1.0, 0.5)
        await local.typing_gate(2, 1, 1.0, 5.0)  # every earlier gate is open again by now
        return capped, dropped, kept, len(local)
    assert asyncio.run(scenario()) == (3, None, 0.5, 1)
