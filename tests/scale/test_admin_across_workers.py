"""Issue 23 item 5 across workers: `serve.py users/conversations ...` (a process of its own)
closes the affected sockets on every worker, on SQLite + Redis and on PostgreSQL.

The workers here read `admin_events` only every 60 s (`--admin-poll 60`), so a close within
`DEADLINE` proves the command's poke through Redis (the `A` envelope) reached each worker;
the PostgreSQL test, without Redis, polls every second as a server does by default.
"""

from __future__ import annotations

import asyncio
import sys
import time

from cluster import INBOX, ROOT, SERVE, Rest, Socket, chat_path, close_all, database_args, http_client, run
from cluster import cluster, launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

DEADLINE = 5.0


async def admin(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, str(SERVE), *args, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


def test_archive_and_disable_close_sockets_on_every_worker_at_once_through_redis(cluster, sqlite_db, redis_url):
    a, b = cluster(2, "--admin-poll", "60")

    async def scenario():
        async with http_client() as http:
            coach, alex = await asyncio.gather(Rest(http, a).session("coach@example.com"),
                                               Rest(http, b).session("alex@example.com"))
            coach_chat = await Socket.open(a, chat_path(1), coach.access, "coach chat 1 on A")
            alex_chat = await Socket.open(b, chat_path(1), alex.access, "alex chat 1 on B")
            coach_inbox = await Socket.open(b, INBOX, coach.access, "coach inbox on B")
            alex_inbox = await Socket.open(a, INBOX, alex.access, "alex inbox on A")
            sockets = [coach_chat, alex_chat, coach_inbox, alex_inbox]
            for sock in sockets:
                await sock.roundtrip()

            await admin("conversations", "archive", "1", "--db", str(sqlite_db), "--redis", redis_url)
            done = time.monotonic()
            assert await coach_chat.wait_closed(DEADLINE) == 4003
            assert await alex_chat.wait_closed(DEADLINE) == 4003
            update = await coach_inbox.wait_for(lambda f: f.get("type") == "conversation_updated", "the update",
                                                DEADLINE)
            assert update["conversation"]["is_archived"] is True
            archive_seconds = max(coach_chat.closed_at, alex_chat.closed_at) - done

            await admin("users", "disable", "alex@example.com", "--db", str(sqlite_db), "--redis", redis_url)
            assert await alex_inbox.wait_closed(DEADLINE) == 4001
            await coach_inbox.roundtrip()  # the coach's stays open
            await close_all(sockets)
            return archive_seconds

    seconds = run(scenario)
    assert seconds < DEADLINE


def test_archive_on_postgresql_closes_the_sockets_of_both_servers(launch, tmp_path, postgres_dsn):
    a, b = launch(2, *database_args(postgres_dsn, None, tmp_path / "media"))  # no Redis: each polls

    async def scenario():
        async with http_client() as http:
            coach, alex = await asyncio.gather(Rest(http, a).session("coach@example.com"),
                                               Rest(http, b).session("alex@example.com"))
            coach_chat = await Socket.open(a, chat_path(2), coach.access, "coach chat 2 on A")
            sam = await Rest(http, b).session("sam@example.com")
            sam_chat = await Socket.open(b, chat_path(2), sam.access, "sam chat 2 on B")
            alex_chat = await Socket.open(b, chat_path(1), alex.access, "alex chat 1 on B")
            for sock in (coach_chat, sam_chat, alex_chat):
                await sock.roundtrip()
            await admin("conversations", "archive", "2", "--db", postgres_dsn)
            assert await coach_chat.wait_closed(DEADLINE) == 4003
            assert await sam_chat.wait_closed(DEADLINE) == 4003
            await alex_chat.roundtrip()  # another conversation: untouched
            await close_all([coach_chat, sam_chat, alex_chat])

    run(scenario)
