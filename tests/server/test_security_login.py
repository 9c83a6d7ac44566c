"""Issue 11 items 1-3 and the scrypt cost: login limits that hold under parallel attempts,
bounded hashing memory, a limiter that forgets, and X-Forwarded-For only from a trusted proxy."""

import asyncio
import threading
import time

import httpx
import plain_http
import pytest
from server_harness import login

from server import passwords
from server.context import HashingPool
from server.passwords import hash_password, needs_rehash, verify_password
from server.rate_limit import BucketLimiter, FailureCount, FailureCounter

LOGIN = "/api/auth/jwt/create/"


async def _parallel_logins(app, *waves):
    """Each wave's logins at once, one wave after the other, in one run of the app."""
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return [await asyncio.gather(*(http.post(LOGIN, json=body) for body in bodies)) for bodies in waves]


def test_concurrent_wrong_passwords_for_one_account_reach_429_at_the_limit(make_app):
    app = make_app()
    bodies = [{"email": "alex@example.com", "password": f"wrong{i}"} for i in range(30)]
    # and then the right password, refused too while locked (a correct guess looks the same)
    answers, right = asyncio.run(_parallel_logins(app, bodies, [{"email": "alex@example.com",
                                                                   "password": "alex-pass"}]))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(401) == 5 and codes.count(429) == 25, codes
    assert right[0].status_code == 429


def test_a_successful_login_does_not_count_as_a_failure(client):
    for _ in range(10):
        login(client, "alex@example.com")
    assert client.post(LOGIN, json={"email": "alex@example.com", "password": "x"}).status_code == 401


def test_overlong_email_or_password_is_400_and_never_kept(client):
    limiter = client.app.state.ctx.shared.login
    for body in ({"email": "a" * 250 + "@example.com", "password": "x"},
                 {"email": "a" * 250_000, "password": "x"},
                 {"email": "alex@example.com", "password": "p" * 5000}):
        assert client.post(LOGIN, json=body).status_code == 400
    assert len(limiter) == 0


def test_limiter_forgets_keys_once_their_failures_leave_the_window():
    limiter = FailureCounter()
    for i in range(10_000):
        limiter.reserve([FailureCount(f"account user{i}@example.com", 5, 300)], now=1000.0)
    assert len(limiter) == 10_000
    assert limiter.reserve([FailureCount("account someone@example.com", 5, 300)], now=1301.0) is None
    assert len(limiter) == 1  # only the new one


def test_limiter_keeps_at_most_max_keys():
    limiter = FailureCounter(max_keys=100)
    for i in range(1000):
        limiter.reserve([FailureCount(f"u{i}", 5, 300)], now=float(i) / 1000)
    assert len(limiter) == 100


def test_reserve_then_release_leaves_no_failure():
    limiter = FailureCounter()
    counts = [FailureCount("account e", 1, 300), FailureCount("address ip", 5, 300)]
    assert limiter.reserve(counts, 10.0) is None
    assert limiter.reserve(counts, 10.5) == pytest.approx(299.5)  # the first is still in flight
    limiter.release(counts, 10.0)
    assert len(limiter) == 0
    assert limiter.reserve(counts, 11.0) is None


def test_bucket_limiter_refills_and_forgets_full_buckets():
    buckets = BucketLimiter(capacity=3, rate=1.0)
    assert [buckets.take("u", 0.0) for _ in range(4)] == [None, None, None, pytest.approx(1.0)]
    assert buckets.take("u", 1.0) is None
    buckets.take("v", 100.0)  # "u" is full again by now: forgotten
    assert len(buckets) == 1


def test_hashing_pool_runs_at_most_workers_at_once_and_refuses_past_its_queue():
    pool = HashingPool(workers=2, queue=5)
    lock = threading.Lock()
    running, peak = [0], [0]
    two_running, release = threading.Event(), threading.Event()

    def work():
        # Each job holds its worker until the test releases them all: the jobs overlap for
        # certain, instead of for as long as a sleep happened to last.
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            if running[0] == 2:
                two_running.set()
        release.wait(30)
        with lock:
            running[0] -= 1
        return True

    async def main():
        jobs = [asyncio.ensure_future(pool.run(work)) for _ in range(8)]
        await asyncio.sleep(0)  # every run() has now been accepted (5) or refused (3)
        refused = [job for job in jobs if job.done()]
        assert await asyncio.to_thread(two_running.wait, 30), "two jobs never ran at once"
        release.set()
        return len(refused), await asyncio.gather(*jobs, return_exceptions=True)

    refused_at_once, results = asyncio.run(main())
    assert peak[0] == 2
    assert refused_at_once == 3  # refused when asked, not after waiting
    assert results.count(True) == 5
    assert sum(isinstance(r, HashingPool.Busy) for r in results) == 3


def test_scrypt_cost_is_owasps_16_mib_row_and_old_hashes_need_a_rehash(cheap_password_hashing):
    # The session fixture lowers N for speed; the shipped cost is read from a fresh import.
    import importlib.util
    spec = importlib.util.spec_from_file_location("shipped_passwords", passwords.__file__)
    shipped = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shipped)
    assert (shipped.N, shipped.R, shipped.P) == (2**14, 8, 5)  # 128 * N * r = 16 MiB
    assert shipped.needs_rehash("scrypt$16384$8$1$00$00")  # the old cost
    assert not needs_rehash(hash_password("x"))


def test_a_public_password_hash_is_cheap_verifies_and_needs_the_rehash_at_shipped_cost():
    stored = passwords.hash_public_password("coach-pass")
    assert stored.split("$")[:4] == ["scrypt", "1024", "8", "1"]  # 1 MiB, ~1 ms
    assert verify_password("coach-pass", stored)
    assert not verify_password("coach-pasS", stored)
    assert stored != passwords.hash_public_password("coach-pass")  # salted all the same
    saved = passwords.N, passwords.P
    passwords.N, passwords.P = 2**14, 5  # the shipped cost (the session fixture may lower it)
    try:
        assert needs_rehash(stored)
    finally:
        passwords.N, passwords.P = saved


def test_login_upgrades_an_old_hash(client):
    store = client.app.state.ctx.store
    user = client.portal.call(store.user_by_email, "sam@example.com")
    old_params = passwords.N, passwords.P
    passwords.N, passwords.P = 2**11, 2
    try:
        old = hash_password("sam-pass")  # the same password at another cost
        client.portal.call(store.set_password_hash, user["id"], old)
    finally:
        passwords.N, passwords.P = old_params
    assert needs_rehash(old)
    login(client, "sam@example.com")
    upgraded = client.portal.call(store.user_by_email, "sam@example.com")["password_hash"]
    assert upgraded != old and not needs_rehash(upgraded) and verify_password("sam-pass", upgraded)


def test_a_test_server_keeping_hashes_leaves_an_old_hash_as_it_is(make_app):
    """`--faults --keep-password-hashes` (the browser tests' servers): a login checks the stored
    hash and stores no other, so public passwords stay ~1 ms to check."""
    from starlette.testclient import TestClient

    with TestClient(make_app(rehash_passwords=False)) as client:
        store = client.app.state.ctx.store
        user = client.portal.call(store.user_by_email, "sam@example.com")
        old_params = passwords.N, passwords.P
        passwords.N, passwords.P = 2**11, 2  # another cost than today's (this session's is lowered)
        try:
            old = hash_password("sam-pass")
        finally:
            passwords.N, passwords.P = old_params
        client.portal.call(store.set_password_hash, user["id"], old)
        assert needs_rehash(old)
        login(client, "sam@example.com")
        login(client, "sam@example.com")
        assert client.portal.call(store.user_by_email, "sam@example.com")["password_hash"] == old


# --- the real server --------------------------------------------------------------------------

def _peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_200_concurrent_failed_logins_keep_memory_bounded(live_server):
    server = live_server()
    pid = server.proc.pid
    plain_http.get(server.origin + "/healthz")
    before = _rss_mb(pid)

    async def main():
        limits = httpx.Limits(max_connections=250)
        async with httpx.AsyncClient(base_url=server.origin, limits=limits, timeout=120) as http:
            return await asyncio.gather(*(
                http.post(LOGIN, json={"email": f"nobody{i}@example.com", "password": "wrong"}) for i in range(200)))

    started = time.time()
    answers = asyncio.run(main())
    codes = {code: [r.status_code for r in answers].count(code) for code in {r.status_code for r in answers}}
    peak = _peak_rss_mb(pid)
    print(f"FIGURE login_memory: 200 concurrent failed logins: answers={codes} rss_before={before:.0f}MB "
          f"peak_rss={peak:.0f}MB after={_rss_mb(pid):.0f}MB seconds={time.time() - started:.1f}")
    # one address: at most 20 failures are hashed (then 429), at most 8 of them at once (else 503)
    assert set(codes) <= {401, 429, 503} and 2 <= codes.get(401, 0) <= 20
    # 2 hashing workers x 16 MiB, plus the requests themselves: nowhere near 200 x 16 MiB.
    assert peak - before < 120, (before, peak)


def test_spoofed_x_forwarded_for_is_ignored_without_trusted_proxy(live_server):
    server = live_server()
    body = {"email": "alex@example.com", "password": "wrong"}
    for _ in range(5):
        assert plain_http.post(server.origin + LOGIN, json=body).status_code == 401
    for fake in ("203.0.113.7", "198.51.100.9", "192.0.2.33"):
        answer = plain_http.post(server.origin + LOGIN, json={"email": "alex@example.com", "password": "alex-pass"},
                            headers={"X-Forwarded-For": fake})
        assert answer.status_code == 429, fake
    logs = server.stdout() + server.stderr()
    assert "203.0.113.7" not in logs and "198.51.100.9" not in logs


def test_x_forwarded_for_is_believed_from_a_trusted_proxy(live_server):
    server = live_server("--trusted-proxy", "127.0.0.1")
    for i in range(20):  # the address limit, over 20 accounts
        plain_http.post(server.origin + LOGIN, json={"email": f"nobody{i}@example.com", "password": "wrong"},
                   headers={"X-Forwarded-For": "203.0.113.7"})
    body = {"email": "someone@example.com", "password": "wrong"}
    assert plain_http.post(server.origin + LOGIN, json=body,
                      headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # another client behind the same proxy has its own allowance
    assert plain_http.post(server.origin + LOGIN, json=body,
                      headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 401
    assert "203.0.113.7" in server.stdout() + server.stderr()
