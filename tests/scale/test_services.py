"""The test servers themselves (tests/services.py): they start, answer, stop, and Redis comes
back on the same port, which the scale-out tests rely on when they stop it mid-burst."""

from __future__ import annotations

import socket

import psycopg
import pytest
import redis

import services


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
    except ConnectionRefusedError:
        return True
    return False


def test_redis_answers_ping_on_its_url(redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping() is True
        client.set("k", "v")
        assert client.get("k") == b"v"
    finally:
        client.close()


def test_redis_persists_nothing(redis_service, redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
    finally:
        client.close()


def test_each_test_starts_with_an_empty_redis(redis_url):
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0  # the key set by the first test is gone
    finally:
        client.close()


def test_redis_stops_and_comes_back_on_the_same_port(redis_service, redis_url):
    port = redis_service.port
    redis_service.stop()
    assert not redis_service.running and _refused(port)
    redis_service.start()
    assert redis_service.port == port and redis_service.ping()
    redis_service.kill()
    assert _refused(port)
    redis_service.start()
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_a_stopped_redis_is_started_again_for_the_next_test(redis_service, redis_url):
    assert redis_service.running and redis_service.ping()


def test_a_redis_server_of_its_own_is_removed_with_its_folder():
    with services.RedisServer() as own:
        folder = own.folder
        assert own.ping() and folder.is_dir()
    assert not own.running and not folder.exists() and _refused(own.port)


def test_postgres_answers_select_1(postgres_service):
    with psycopg.connect(postgres_service.dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert int(conn.execute("SHOW max_connections").fetchone()[0]) == 200
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)


def test_each_new_database_is_empty_and_separate(postgres_service):
    first, second = postgres_service.new_database(), postgres_service.new_database()
    assert first != second
    with psycopg.connect(first) as conn:
        conn.execute("CREATE TABLE t (x int)")
    with psycopg.connect(second) as conn:
        tables = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchone() == (0,)


def test_postgres_dsn_fixture_gives_a_database_to_write(postgres_dsn):
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (7)")
        assert conn.execute("SELECT x FROM t").fetchone() == (7,)


def test_a_postgres_cluster_of_its_own_stops_and_is_removed():
    with services.PostgresServer() as own:
        folder, port = own.folder, own.port
        with psycopg.connect(own.new_database()) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("test_1",)
    assert not own.running and not folder.exists() and _refused(port)


def test_a_missing_binary_skips_here_and_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        services.missing("redis-server")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        services.missing("redis-server")


def test_a_server_that_cannot_start_fails_with_its_log():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = services.RedisServer()
        server.port = taken.getsockname()[1]
        try:
            with pytest.raises(services.ServiceError, match="(?s)exited at start-up.*[Aa]ddress already in use"):
                server.start()
        finally:
            server.close()
