"""`/readyz` with `--redis`: ready while Redis answers PING and the fan-out is subscribed;
503 naming "redis" (never its URL) while it is down; ready again once it is back."""

from __future__ import annotations

import time

import httpx

from cluster import database_args
from cluster import launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

PROBE_BOUND = 4.0  # CHECK_TIMEOUT (2 s) plus a busy machine's slack


def probe(server) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = httpx.get(server.origin + "/readyz", timeout=10, trust_env=False)
    return response.status_code, response.json(), time.monotonic() - started


def until(server, status: int, deadline: float = 30.0) -> dict:
    """Probe until /readyz answers `status` (each probe bounded), at most `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        code, body, took = probe(server)
        assert took < PROBE_BOUND, f"/readyz took {took:.1f} s"
        if code == status:
            return body
        assert time.monotonic() < end, f"/readyz still {code} {body} after {deadline:.0f} s"
        time.sleep(0.1)  # the poll's pace (the condition is polled with a deadline), not a wait for it


def test_readyz_follows_redis_down_and_up(launch, redis_service, redis_url, sqlite_db, tmp_path):
    (server,) = launch(1, *database_args(sqlite_db, redis_url, tmp_path / "media"))
    assert probe(server)[:2] == (200, {"status": "ready"})

    redis_service.stop()
    body = until(server, 503)
    assert body["status"] == "not ready"
    assert set(body["not_ready"]) == {"redis"}  # the database still answers
    assert body["not_ready"]["redis"] in ("not subscribed", "no answer", "timed out", "error")
    assert str(redis_service.port) not in str(body) and "redis://" not in str(body)
    assert httpx.get(server.origin + "/healthz", trust_env=False).json() == {"ok": True}

    redis_service.start()
    assert until(server, 200) == {"status": "ready"}
