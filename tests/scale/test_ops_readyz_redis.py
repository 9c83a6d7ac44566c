"""`/readyz` with `--redis`: ready while Redis answers PING and the fan-out is subscribed;
503 naming "redis" (never its URL) while it is down; ready again once it is back."""

from __future__ import annotations

import time

import plain_http

from cluster import database_args
from cluster import launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

PROBE_BOUND = 4.0  # CHECK_TIMEOUT (2 s) plus a busy machine's slack


def probe(server) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = plain_http.get(server.origin + "/readyz", timeout=10, trust_env=False)
    return response.status_code, response.json(), time.monotonic() - started


def test_readyz_follows_redis_down_and_up(launch, redis_service, redis_url, sqlite_db, tmp_path):
    (server,) = launch(1, *database_args(sqlite_db, redis_url, tmp_path / "media"))
    assert probe(server)[:2] == (200, {"status": "ready"})

    redis_service.stop()  # returns once it has exited: the next PING is refused
    code, body, took = probe(server)
    assert took < PROBE_BOUND, f"/readyz took {took:.1f} s"
    assert code == 503, body
    assert body["status"] == "not ready"
    assert set(body["not_ready"]) == {"redis"}  # the database still answers
    assert body["not_ready"]["redis"] in ("not subscribed", "no answer", "timed out", "error")
    assert str(redis_service.port) not in str(body) and "redis://" not in str(body)
    assert plain_http.get(server.origin + "/healthz", trust_env=False).json() == {"ok": True}

    redis_service.start()
    # The fan-out says when it has subscribed again (the first time was at start-up).
    assert server.errors.wait_for("fan-out: subscribed to Redis", 30, count=2), server.log_tail()
    code, body, took = probe(server)
    assert (code, body) == (200, {"status": "ready"})
    assert took < PROBE_BOUND, f"/readyz took {took:.1f} s"
