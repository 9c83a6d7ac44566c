"""The login limits' pure pieces with a fake clock (issue 23 item 3): which counters an
attempt counts under (account, address group, server, known device), the /64 grouping,
device tokens, and the hashing pool's lanes."""

from __future__ import annotations

import asyncio
import threading

import pytest

from server.context import Limits
from server.device_tokens import DeviceTokens
from server.hashing import DEVICE, HashingPool
from server.login_limits import address_group, device_counts, untrusted_counts
from server.rate_limit import FailureCounter

LIMITS = Limits()  # the defaults: 5 per account, 20 per address, 120 per server, 5 per device
T0 = 1_765_000_000.0


# --- address groups ---------------------------------------------------------------------------

@pytest.mark.parametrize("host,group", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("[2001:db8:1:2::9]", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:198.51.100.9", "198.51.100.9"),
    ("testclient", "testclient"),
    (None, ""),
])
def test_ipv4_counts_by_address_and_ipv6_by_its_64(host, group):
    assert address_group(host) == group


def test_two_ipv4_addresses_are_two_groups_and_one_64_is_one():
    assert address_group("10.0.0.1") != address_group("10.0.0.2")
    assert address_group("2001:db8::1") == address_group("2001:db8::ffff:1")


# --- the counters -------------------------------------------------------------------------------

def test_the_account_counts_failures_from_every_address():
    failures = FailureCounter()
    for i in range(5):
        assert failures.reserve(untrusted_counts("Alex@Example.com", f"10.0.0.{i}", LIMITS), T0 + i) is None
    wait = failures.reserve(untrusted_counts("alex@example.com", "10.9.9.9", LIMITS), T0 + 10)
    assert wait == pytest.approx(290.0)
    assert failures.reserve(untrusted_counts("alex@example.com", "10.9.9.9", LIMITS), T0 + 300) is None


def test_the_address_counts_failures_over_every_email():
    failures = FailureCounter()
    group = address_group("2001:db8:1:2::1")
    for i in range(20):
        assert failures.reserve(untrusted_counts(f"fresh{i}@example.com", group, LIMITS), T0 + i) is None
    same_64 = address_group("2001:db8:1:2:ffff::9")
    assert failures.reserve(untrusted_counts("another@example.com", same_64, LIMITS), T0 + 20) == pytest.approx(280.0)
    other_64 = address_group("2001:db8:1:3::1")
    assert failures.reserve(untrusted_counts("another@example.com", other_64, LIMITS), T0 + 20) is None


def test_the_server_counts_failures_from_every_address_and_account():
    failures = FailureCounter()
    for i in range(120):  # 6 addresses x 20 accounts: no account, no address is full
        assert failures.reserve(untrusted_counts(f"u{i}@example.com", f"10.0.{i % 6}.1", LIMITS), T0) is None
    assert failures.reserve(untrusted_counts("x@example.com", "10.0.99.1", LIMITS), T0 + 1) == pytest.approx(59.0)
    assert failures.reserve(untrusted_counts("x@example.com", "10.0.99.1", LIMITS), T0 + 60) is None


def test_a_known_device_counts_apart_from_the_locked_account():
    failures = FailureCounter()
    for i in range(5):
        failures.reserve(untrusted_counts("alex@example.com", f"10.0.0.{i}", LIMITS), T0)
    assert failures.reserve(untrusted_counts("alex@example.com", "10.0.0.9", LIMITS), T0) is not None
    device = device_counts("dev-1", 7, LIMITS)
    assert [failures.reserve(device, T0 + i) for i in range(5)] == [None] * 5
    assert failures.reserve(device, T0 + 5) == pytest.approx(295.0)  # the device's own limit
    assert failures.reserve(device_counts("dev-2", 7, LIMITS), T0 + 5) is None


def test_many_known_devices_of_one_account_share_a_cap():
    failures = FailureCounter()
    for d in range(4):  # someone who knows the password made four devices: 5 failures each
        for i in range(5):
            assert failures.reserve(device_counts(f"dev-{d}", 7, LIMITS), T0 + i) is None
    assert failures.reserve(device_counts("dev-4", 7, LIMITS), T0 + 10) == pytest.approx(290.0)
    assert failures.reserve(device_counts("dev-9", 8, LIMITS), T0 + 10) is None  # another account


def test_a_success_releases_every_counter_it_reserved():
    failures = FailureCounter()
    counts = untrusted_counts("alex@example.com", "10.0.0.1", LIMITS)
    assert failures.reserve(counts, T0) is None
    failures.release(counts, T0)
    assert len(failures) == 0


# --- device tokens ------------------------------------------------------------------------------

def test_a_device_token_names_its_device_for_its_user_until_it_expires():
    devices = DeviceTokens("s" * 48, ttl=1000.0)
    token = devices.issue(7, T0)
    device = devices.device_of(token, 7, T0 + 10)
    assert device is not None
    assert devices.device_of(devices.issue(7, T0 + 500, device), 7, T0 + 1400) == device  # renewed: same device
    assert devices.device_of(token, 7, T0 + 1000) is None  # expired
    assert devices.device_of(token, 8, T0 + 10) is None  # another account's login
    assert DeviceTokens("t" * 48, ttl=1000.0).device_of(token, 7, T0 + 10) is None  # another server's key


@pytest.mark.parametrize("token", [None, "", "x", "7.abc.1.00", "7." + "A" * 22 + ".1765000000." + "0" * 64,
                                   "7.../", "7" * 5000])
def test_a_malformed_or_forged_device_token_is_no_device(token):
    assert DeviceTokens("s" * 48, ttl=1000.0).device_of(token, 7, T0) is None


def test_a_tampered_device_token_is_no_device():
    devices = DeviceTokens("s" * 48, ttl=1000.0)
    uid, device, issued, signature = devices.issue(7, T0).split(".")
    assert devices.device_of(f"8.{device}.{issued}.{signature}", 8, T0) is None
    assert devices.device_of(f"{uid}.{device}.{int(T0) + 5}.{signature}", 7, T0 + 10) is None


# --- the hashing pool's lanes -------------------------------------------------------------------

class Gate:
    """Hashes that hold their thread until `open()`: a flood whose hashes do not end."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def hold(self) -> bool:
        assert self.event.wait(30), "the gate was never opened"
        return False

    def open(self) -> None:
        self.event.set()


async def _all_waiting(pool: HashingPool, tasks, expected: int) -> None:
    """Until the flood is parked in the pool (or refused): a condition, polled with a deadline."""
    deadline = asyncio.get_running_loop().time() + 10
    while pool.outstanding < expected or sum(not t.done() for t in tasks) > expected:
        assert asyncio.get_running_loop().time() < deadline, (pool.outstanding, expected)
        await asyncio.sleep(0.005)


def test_a_known_device_hashes_while_the_open_lane_is_full_and_stuck():
    gate = Gate()
    pool = HashingPool(workers=1, queue=4, device_workers=1, device_queue=2)

    async def scenario():
        flood = [asyncio.ensure_future(pool.run(gate.hold)) for _ in range(6)]
        await _all_waiting(pool, flood, 4)
        refused = [t for t in flood if t.done()]
        known = await asyncio.wait_for(pool.run(lambda: "hashed", lane=DEVICE), 5)
        open_again = pool.run(lambda: "late")
        with pytest.raises(HashingPool.Busy):
            await open_again
        gate.open()
        await asyncio.gather(*flood, return_exceptions=True)
        return known, len(refused), [isinstance(t.exception(), HashingPool.Busy) for t in refused]
    known, refused, busy = asyncio.run(scenario())
    assert known == "hashed" and refused == 2 and all(busy)


def test_one_client_holds_at_most_its_share_of_the_open_lane():
    gate = Gate()
    pool = HashingPool(workers=1, queue=10, per_client=3)

    async def scenario():
        flood = [asyncio.ensure_future(pool.run(gate.hold, client="10.0.0.1")) for _ in range(5)]
        await _all_waiting(pool, flood, 3)
        other = asyncio.ensure_future(pool.run(lambda: "other", client="10.0.0.2"))
        await asyncio.sleep(0)
        held = pool.outstanding
        gate.open()
        results = await asyncio.gather(*flood, return_exceptions=True)
        return held, await other, sum(isinstance(r, HashingPool.Busy) for r in results)
    held, other, busy = asyncio.run(scenario())
    assert held == 4 and other == "other" and busy == 2


def test_one_account_holds_at_most_its_share_of_the_device_lane():
    gate = Gate()
    pool = HashingPool(workers=2, queue=4, device_workers=1, device_queue=8, device_per_client=2)

    async def scenario():
        mine = [asyncio.ensure_future(pool.run(gate.hold, lane=DEVICE, client="user 7")) for _ in range(3)]
        await _all_waiting(pool, mine, 2)
        other = await asyncio.wait_for(pool.run(lambda: "other", lane=DEVICE, client="user 8"), 5)
        gate.open()
        results = await asyncio.gather(*mine, return_exceptions=True)
        return other, sum(isinstance(r, HashingPool.Busy) for r in results)
    assert asyncio.run(scenario()) == ("other", 1)


def test_a_hash_whose_caller_left_before_it_started_is_dropped():
    gate = Gate()
    pool = HashingPool(workers=1, queue=3, device_workers=0)
    ran = []

    async def scenario():
        first = asyncio.ensure_future(pool.run(gate.hold))
        left = asyncio.ensure_future(pool.run(lambda: ran.append("left")))
        await _all_waiting(pool, [first, left], 2)
        left.cancel()
        gate.open()
        await first
        return await pool.run(lambda: "next"), pool.outstanding
    assert asyncio.run(scenario()) == ("next", 0)
    assert ran == []

