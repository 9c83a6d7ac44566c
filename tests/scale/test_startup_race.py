"""Four workers starting at once on an EMPTY database create the schema once and seed the
demo data once (server/data/db.py `migrate`: under BEGIN IMMEDIATE in SQLite, under an advisory
lock in PostgreSQL, with the seed in the same transaction), and agree on one JWT secret.

Without the lock each worker would find the database empty and seed it: eight users or a
unique-index error, 240 messages in conversation 1, or a worker that dies at start-up.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from cluster import Rest, database_args, http_client, run
from cluster import launch  # noqa: F401  (a fixture)
from server.data.db import MIGRATIONS

DEMO_EMAILS = ["alex@example.com", "coach@example.com", "jo@example.com", "sam@example.com"]


QUERIES = {
    "emails": "SELECT email FROM users ORDER BY email",
    "conversations": "SELECT c.id, t.email, c.is_archived FROM conversations c JOIN users t ON t.id = c.trainee_id "
                     "ORDER BY c.id",
    "messages": "SELECT conversation_id, count(*) FROM messages GROUP BY conversation_id ORDER BY conversation_id",
    "secrets": "SELECT count(*) FROM meta WHERE key = 'jwt_secret'",
}
EXPECTED = {
    "emails": [(e,) for e in DEMO_EMAILS],
    "conversations": [(1, "alex@example.com", 0), (2, "sam@example.com", 0), (3, "jo@example.com", 1)],
    "messages": [(1, 120), (2, 3), (3, 2)],
    "secrets": [(1,)],
}


def sqlite_contents(path) -> tuple[dict, int]:
    with sqlite3.connect(path) as conn:
        found = {name: [tuple(r) for r in conn.execute(sql).fetchall()] for name, sql in QUERIES.items()}
        return found, conn.execute("PRAGMA user_version").fetchone()[0]


def postgres_contents(dsn) -> tuple[dict, list[int]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        found = {name: [tuple(r) for r in conn.execute(sql).fetchall()] for name, sql in QUERIES.items()}
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (len(MIGRATIONS),)
        return found, versions


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "empty.sqlite3"
        path.touch()  # an empty file is an empty SQLite database
        return path
    return request.getfixturevalue("postgres_dsn")


@pytest.mark.parametrize("form", ["4 processes", "--workers 4"])
def test_four_workers_starting_at_once_on_an_empty_database_seed_it_once(form, empty_database, launch,
                                                                         redis_url, tmp_path):
    args = database_args(empty_database, redis_url, tmp_path / "media")
    if form == "4 processes":
        workers = launch(4, *args)  # spawned back to back, then awaited together
    else:
        workers = launch(1, *args, "--workers", "4")
        assert len(workers[0].children()) == 4

    if isinstance(empty_database, str):
        found, versions = postgres_contents(empty_database)
        assert versions == list(range(1, len(MIGRATIONS) + 1))
    else:
        found, version = sqlite_contents(empty_database)
        assert version == len(MIGRATIONS)
    assert found == EXPECTED

    async def scenario():
        # One secret: a token issued by one worker is good on every other.
        async with http_client() as http:
            rests = [Rest(http, w) for w in workers]
            login = await rests[-1].login("coach@example.com")
            assert login.status_code == 200, login.text
            access = login.json()["access"]
            answers = await asyncio.gather(*(
                rest.http.get(rest.origin + "/api/auth/users/me/", headers={"Authorization": f"Bearer {access}"})
                for rest in rests))
            assert [a.status_code for a in answers] == [200] * len(rests)

    run(scenario)
    for worker in workers:
        assert "Traceback" not in worker.stderr(), worker.log_tail()
