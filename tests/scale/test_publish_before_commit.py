"""A message reaches the sockets only once it is committed, and a client that (re)connects
while it is committing, then fills the gap with `after=` (what CONTRACT clients do on every
reconnect), gets it all the same.

`messaging.deliver` publishes a new message after its COMMIT, while the conversation's
order lock is still held (`Store.lock_conversation`, `Store.after_commit`). It used to
publish inside the transaction: a page could then show a message as sent that a crash or a
failed COMMIT left out of the database (its id given to the next message), a client that
read the conversation right after the frame did not find it, and a socket that joined
between the publish and the COMMIT missed it unless its handshake waited for every send in
flight (`Store.wait_for_sends`, now gone: about 1 reconnect in 200 lost a message in a burst,
tests/scale/test_faults.py, before that wait existed).

The window is held open on purpose: a deferred constraint trigger, added to the test's own
PostgreSQL database, makes the COMMIT of one marked message take `COMMIT_DELAY` seconds.
"""

from __future__ import annotations

import asyncio
import time

import psycopg

from cluster import Rest, Socket, chat_path, close_all, database_args, http_client, run
from cluster import launch  # noqa: F401  (a fixture)

COMMIT_DELAY = 4  # seconds; the client's connect and fill take milliseconds
SLOW = "slow to commit"


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


def wait_for_a_slow_commit(dsn: str, timeout: float = 10) -> None:
    """Until a COMMIT is running the trigger's pause (the message is inserted, not committed)."""
    end = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < end:
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                            "AND query ILIKE 'COMMIT%'").fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("premise: no COMMIT was seen running the trigger's pause")


def test_a_message_is_published_only_once_committed_and_a_client_connecting_meanwhile_gets_it(
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
            await asyncio.to_thread(wait_for_a_slow_commit, postgres_dsn)

            # Alex's client (re)connects now, then fills the gap: as CONTRACT clients do.
            client = await Socket.open(a, chat_path(), alex.access, "alex, reconnecting")
            await client.roundtrip()
            filled = [m["id"] for m in await on_a.all_after(alex.access, last_held)]
            assert watcher.of_type("new_message") == [], "a message was published before its COMMIT ended"

            frame = await watcher.wait_for(lambda f: f.get("type") == "new_message", "the slow message")
            slow_id = frame["message"]["id"]
            # Told of it by the socket: a read finds it at once.
            assert slow_id in [m["id"] for m in await on_a.all_after(alex.access, last_held)]
            sent = await sending
            assert sent.status_code == 201 and sent.json()["id"] == slow_id, sent.text

            following = (await on_b.send(coach.access, "the next one")).json()
            await client.wait_for(lambda f: f.get("type") == "new_message" and f["message"]["id"] == following["id"],
                                  "the next message")
            held = set(filled) | {f["message"]["id"] for f in client.of_type("new_message")}
            await close_all([watcher, client])
            assert slow_id in held, f"message {slow_id} is on neither the socket nor the fill: {sorted(held)}"
            stored = [m["id"] for m in await on_a.all_after(alex.access, last_held)]
            assert sorted(held) == stored

    run(scenario)
