"""Issue 23 items 3 and 6 across workers (two serve.py on one Redis): the new login
counters, the known-device cookie and the refresh allowance hold whichever worker answers."""

from __future__ import annotations

import asyncio
import math
import time

from cluster import Rest, http_client, run
from cluster import cluster, launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

SAM = "sam@example.com"
REFRESH = "/api/auth/jwt/refresh/"


def test_a_known_device_from_one_worker_passes_the_lock_on_the_other(cluster):
    a, b = cluster(2)

    async def scenario():
        async with http_client() as home, http_client() as elsewhere:
            assert (await Rest(home, a).login(SAM)).status_code == 200  # the device cookie, from worker a
            wrong = [(await Rest(elsewhere, worker).login(SAM, "guess")).status_code for worker in (a, b, a, b, a)]
            locked = await Rest(elsewhere, b).login(SAM)
            known = await Rest(home, b).login(SAM)
            return wrong, locked.status_code, known.status_code
    assert run(scenario) == ([401] * 5, 429, 200)


def test_an_address_is_counted_over_both_workers(cluster):
    a, b = cluster(2)

    async def scenario():
        async with http_client() as http:
            async def wrong(worker, i):
                return (await Rest(http, worker).login(f"fresh{i}@example.com", "x")).status_code
            # 8 at once per worker at most (its open lane's share for one address), 20 in all
            first = await asyncio.gather(*(wrong(a if i % 2 else b, i) for i in range(16)))
            second = await asyncio.gather(*(wrong(a if i % 2 else b, i) for i in range(16, 20)))
            return first + second, await wrong(a, 20), await wrong(b, 21)
    answers, on_a, on_b = run(scenario)
    assert answers == [401] * 20 and (on_a, on_b) == (429, 429)


def test_refreshes_from_one_address_are_counted_over_both_workers(cluster):
    a, b = cluster(2)

    async def scenario():
        async with http_client() as http:
            started = time.monotonic()
            answers = await asyncio.gather(*(http.post(worker.origin + REFRESH, json={"refresh": "junk"})
                                             for worker in [a, b] * 45))
            return [r.status_code for r in answers], time.monotonic() - started
    answers, seconds = run(scenario)
    # 45 per worker: each alone would allow them all (60 at once); together 60, plus 1 a second
    allowed = answers.count(401)
    assert 60 <= allowed <= 60 + math.ceil(seconds) and answers.count(429) == 90 - allowed, (allowed, seconds)
