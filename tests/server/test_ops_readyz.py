"""`/healthz` is alive (no I/O); `/readyz` is ready only while the database answers, within
a bound (Redis: tests/scale/test_ops_readyz_redis.py, against a real redis-server)."""

import asyncio
import time

import pytest

import server.readiness as readiness


def test_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert response.headers["cache-control"] == "no-store"
    assert client.get("/healthz").json() == {"ok": True}


def test_not_ready_when_the_database_fails_and_no_detail_leaks(client, monkeypatch, db_path):
    async def broken(*args, **kwargs):
        raise OSError(f"unable to open database file {db_path}")

    monkeypatch.setattr(client.app.state.ctx.store.db, "fetch_one", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "not_ready": {"database": "error"}}
    assert str(db_path) not in response.text and "unable" not in response.text


def test_a_hung_database_is_not_ready_within_the_bound_and_healthz_still_answers(client, monkeypatch):
    async def hangs(*args, **kwargs):
        await asyncio.Event().wait()

    monkeypatch.setattr(client.app.state.ctx.store.db, "fetch_one", hangs)
    monkeypatch.setattr(readiness, "CHECK_TIMEOUT", 0.3)
    started = time.monotonic()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["not_ready"] == {"database": "timed out"}
    assert time.monotonic() - started < 2.0
    assert client.get("/healthz").status_code == 200  # liveness does not touch the database


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_readyz_is_get_only(client, method):
    assert client.request(method, "/readyz").status_code == 405
