"""A client that opens its socket and then fills the gap with `after=` (what CONTRACT
clients do on every reconnect) never misses a message that was committing meanwhile.

`messaging.deliver` publishes a new message while its transaction still holds the
conversation, and commits after. A socket that joins between the publish and the commit
does not get the message on the socket (it was published before the socket was there), so
the client's `after=` read that follows the handshake must see it: `ws._serve` waits for
such sends to commit (`Store.wait_for_sends`) before it accepts. Found as a bug by
tests/scale/test_faults.py (about 1 reconnect in 200 during a continuous burst, on SQLite
and on PostgreSQL, before that wait existed).

Here the window is held open on purpose: a deferred constraint trigger, added to the test's
own PostgreSQL database, makes the COMMIT of one marked message take `COMMIT_DELAY` seconds
(it runs at COMMIT, after the publish).
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from cluster import Rest, Socket, chat_path, close_all, database_args, http_client, run
from cluster import launch  # noqa: F401  (a fixture)

COMMIT_DELAY = 4  # seconds; the client's connect and fill take milliseconds
SLOW = "slow to commit"


class MessageLost(AssertionError):
    """The bug's symptom, told apart from a broken premise (a plain AssertionError)."""


def slow_commits(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"""
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.content = '{SLOW}' THEN PERFORM pg_sleep({COMMIT_DELAY}); END IF;
                RETURN NULL;
            END $$""")
        conn.execute("CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON messages "
                     "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()")


def test_a_client_that_connects_then_fills_the_gap_gets_a_message_committing_meanwhile(
        launch, redis_url, postgres_dsn, tmp_path):
    a, b = launch(2, *database_args(postgres_dsn, redis_url, tmp_path / "media"))
    slow_commits(postgres_dsn)  # after the workers made the schema

    async def scenario():
        async with http_client() as http:
            on_a, on_b = Rest(http, a), Rest(http, b)
            coach, alex = await asyncio.gather(on_b.session("coach@example.com"), on_a.session("alex@example.com"))
            last_held = await on_a.last_id(alex.access)
            watcher = await Socket.open(a, chat_path(), coach.access, "an open socket on A")
            await watcher.roundtrip()

            sending = asyncio.ensure_future(on_b.send(coach.access, SLOW))
            frame = await watcher.wait_for(lambda f: f.get("type") == "new_message", "the slow message")
            assert not sending.done(), "premise: the message is published while its COMMIT is still running"
            slow_id = frame["message"]["id"]

            # Alex's client (re)connects now, then fills the gap: as CONTRACT clients do.
            client = await Socket.open(a, chat_path(), alex.access, "alex, reconnecting")
            await client.roundtrip()
            filled = [m["id"] for m in await on_a.all_after(alex.access, last_held)]

            sent = await sending
            assert sent.status_code == 201 and sent.json()["id"] == slow_id, sent.text
            following = (await on_b.send(coach.access, "the next one")).json()
            await client.wait_for(lambda f: f.get("type") == "new_message" and f["message"]["id"] == following["id"],
                                  "the next message")
            held = set(filled) | {f["message"]["id"] for f in client.of_type("new_message")}
            await close_all([watcher, client])
            if slow_id not in held:
                raise MessageLost(f"message {slow_id} is on neither the socket nor the fill; the client holds "
                                  f"{sorted(held)} and has moved past it")
            # Once fixed, the client holds it: the stored list has no gap either.
            stored = [m["id"] for m in await on_a.all_after(alex.access, last_held)]
            assert sorted(held) == stored

    run(scenario)
