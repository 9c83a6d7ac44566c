"""Fixtures for the scale-out tests: real Redis and PostgreSQL servers (tests/services.py).

- `redis_service`: one `RedisServer` for the session, started on first use and stopped
  at the end (also when tests fail). `.url`, `.stop()`, `.start()` (same port).
- `redis_url`: that server's URL, running again and emptied (FLUSHALL) before each test,
  so a test that stopped it leaves nothing behind for the next.
- `postgres_service`: one `PostgresServer` for the session; `.dsn`, `.new_database()`.
- `postgres_dsn`: a fresh empty database on it for each test.

A missing binary skips these tests, or fails them under CI (`services.missing`).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS, TESTS.parent):  # `services`, and the repo for `server.*`
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import services  # noqa: E402


@pytest.fixture(scope="session")
def redis_service():
    if services.find_redis() is None:
        services.missing("redis-server")
    with services.RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_service) -> str:
    redis_service.start()  # a no-op unless an earlier test left it stopped
    with socket.create_connection(("127.0.0.1", redis_service.port), timeout=2.0) as conn:
        conn.sendall(b"FLUSHALL\r\n")
        assert conn.recv(64).startswith(b"+OK")
    return redis_service.url


@pytest.fixture(scope="session")
def postgres_service():
    if services.find_postgres_bin() is None:
        services.missing("PostgreSQL (initdb, postgres)")
    with services.PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_dsn(postgres_service) -> str:
    return postgres_service.new_database()
