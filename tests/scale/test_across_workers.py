"""What one user does on one worker reaches the other user on another worker (issue 19).

Each test starts separate `serve.py` processes on their own ports with the same `--redis`
and the same database: separate machines behind one load balancer, where a test picks the
machine by its port. Events go from worker A to sockets on worker B only through Redis, and
the limits count across both only through Redis, so each test fails if that path breaks.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from cluster import INBOX, Rest, Socket, chat_path, close_all, http_client, run
from cluster import cluster, launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

COACH = "coach@example.com"
ALEX = "alex@example.com"
SAM = "sam@example.com"


def is_message(message_id: int):
    return lambda f: f.get("type") == "new_message" and f["message"]["id"] == message_id


def test_message_typing_read_receipt_and_inbox_reach_the_other_worker(cluster):
    a, b = cluster(2)

    async def scenario():
        async with http_client() as http:
            on_a, on_b = Rest(http, a), Rest(http, b)
            coach, alex = await asyncio.gather(on_a.session(COACH), on_b.session(ALEX))
            coach_chat_a = await Socket.open(a, chat_path(), coach.access, "coach chat on A")
            coach_chat_b = await Socket.open(b, chat_path(), coach.access, "coach's other tab, on B")
            alex_chat_b = await Socket.open(b, chat_path(), alex.access, "alex chat on B")
            alex_chat_a = await Socket.open(a, chat_path(), alex.access, "alex's other tab, on A")
            coach_inbox_b = await Socket.open(b, INBOX, coach.access, "coach inbox on B")
            alex_inbox_b = await Socket.open(b, INBOX, alex.access, "alex inbox on B")
            sockets = [coach_chat_a, coach_chat_b, alex_chat_b, alex_chat_a, coach_inbox_b, alex_inbox_b]
            for sock in sockets:
                await sock.roundtrip()  # each is served (joined) before anything is sent

            # Typing on A reaches Alex's sockets on both workers, not the typer's own tab on B.
            await coach_chat_a.send({"type": "typing", "is_typing": True})
            for alex_chat in (alex_chat_b, alex_chat_a):
                typing = await alex_chat.wait_for(lambda f: f.get("type") == "typing_indicator", "typing")
                assert typing == {"type": "typing_indicator", "user_id": coach.user_id, "is_typing": True}

            # A message sent on A reaches every chat socket and both inboxes on B, the
            # sender's own tab on B included, as the very message the send answered.
            response = await on_a.send(coach.access, "across the workers")
            assert response.status_code == 201, response.text
            message = response.json()
            for sock in sockets:
                frame = await sock.wait_for(is_message(message["id"]), "the new message")
                assert frame == {"type": "new_message", "message": message}, sock.name

            # The typer's tab on B got the message and then the pong, nothing before it: the
            # indicator (delivered to B before the message was even sent) was not for it.
            await coach_chat_b.roundtrip()
            assert [f["type"] for f in coach_chat_b.frames] == ["pong", "new_message", "pong"]
            assert coach_chat_a.of_type("typing_indicator") == []
            assert coach_inbox_b.of_type("typing_indicator") == alex_inbox_b.of_type("typing_indicator") == []

            # Alex reads on A: the read receipt reaches the coach's chat and inbox on B.
            read = await on_a.read(alex.access)
            assert read.status_code == 200 and read.json()["marked_read"] >= 1, read.text
            receipt = await coach_chat_b.wait_for(lambda f: f.get("type") == "read_receipt", "the read receipt")
            assert receipt["reader_id"] == alex.user_id and set(receipt) == {"type", "reader_id", "read_at"}
            inbox_receipt = await coach_inbox_b.wait_for(lambda f: f.get("type") == "read_receipt", "inbox receipt")
            assert inbox_receipt == {"type": "read_receipt", "conversation_id": 1, "reader_id": alex.user_id,
                                     "read_at": receipt["read_at"]}
            await alex_chat_b.wait_for(lambda f: f.get("type") == "read_receipt", "the receipt on alex's own tab")

            await close_all(sockets)

    run(scenario)


def test_socket_cap_is_counted_across_workers(cluster):
    a, b = cluster(2, "--max-sockets-per-user", "3")

    async def scenario():
        async with http_client() as http:
            alex = await Rest(http, a).session(ALEX)
            coach = await Rest(http, b).session(COACH)
            held = [await Socket.open(a, chat_path(), alex.access, "alex 1 on A"),
                    await Socket.open(a, INBOX, alex.access, "alex 2 on A"),
                    await Socket.open(b, chat_path(), alex.access, "alex 3 on B")]
            for sock in held:
                await sock.roundtrip()  # all three are served

            for server in (a, b):  # the fourth, on either worker, is over the cap
                fourth = await Socket.open(server, chat_path(), alex.access, f"alex 4 on {server.port}")
                assert await fourth.wait_closed() == 1013
            for sock in held:
                await sock.roundtrip()  # the refusals closed nothing else

            other_user = await Socket.open(b, chat_path(), coach.access, "coach on B")
            await other_user.roundtrip()  # the cap is per user

            # Closing one frees a slot on the other worker, once its release reaches Redis
            # (the client sees the close handshake end before the server has released it).
            await held.pop(0).close()
            refusals = 0
            deadline = time.monotonic() + 10
            while True:
                again = await Socket.open(b, chat_path(), alex.access, "alex again on B")
                if await again.served():
                    break
                assert again.close_code == 1013
                refusals += 1
                assert time.monotonic() < deadline, f"no slot freed within 10 s ({refusals} refusals)"
            print(f"\nslot free again after {refusals} refused attempts")
            fifth = await Socket.open(a, chat_path(), alex.access, "alex 4 on A, again full")
            assert await fifth.wait_closed() == 1013
            held.append(again)
            await close_all(held + [other_user])

    run(scenario)


def test_send_rate_is_counted_across_workers(cluster):
    a, b = cluster(2, "--send-rate", "4/0.01")  # 4 at once, then one per 100 s

    async def scenario():
        async with http_client() as http:
            on_a, on_b = Rest(http, a), Rest(http, b)
            alex, coach = await asyncio.gather(on_a.session(ALEX), on_b.session(COACH))
            statuses = []
            for i, rest in enumerate([on_a, on_b, on_a, on_b]):
                statuses.append((await rest.send(alex.access, f"allowed {i}")).status_code)
            assert statuses == [201, 201, 201, 201]
            for rest in (on_a, on_b):  # the fifth is over the shared bucket, on either worker
                refused = await rest.send(alex.access, "one too many")
                assert refused.status_code == 429, refused.text
                assert 60 <= int(refused.headers["retry-after"]) <= 100
            assert (await on_b.send(coach.access, "another user's bucket")).status_code == 201
            # Nothing refused was stored.
            contents = [m["content"] for m in (await on_a.page(alex.access, limit=6))["results"]]
            assert contents[-5:] == ["allowed 0", "allowed 1", "allowed 2", "allowed 3", "another user's bucket"]

    run(scenario)


def test_login_lockout_is_counted_across_workers(cluster):
    a, b = cluster(2)

    async def scenario():
        async with http_client() as http:
            on_a, on_b = Rest(http, a), Rest(http, b)
            wrong = [(await on_a.login(SAM, "not-the-password")).status_code for _ in range(5)]
            assert wrong == [401] * 5
            locked = await on_b.login(SAM)  # the right password, on the other worker
            assert locked.status_code == 429, locked.text
            assert 1 <= int(locked.headers["retry-after"]) <= 300
            assert (await on_a.login(SAM)).status_code == 429
            assert (await on_b.login(ALEX)).status_code == 200  # per e-mail: others log in

    run(scenario)


def test_logout_on_one_worker_closes_that_sessions_sockets_on_the_other(cluster):
    a, b = cluster(2)

    async def scenario():
        async with http_client() as http:
            on_a, on_b = Rest(http, a), Rest(http, b)
            leaving = await on_a.session(ALEX)
            staying = await on_b.session(ALEX)  # the same user in another browser
            doomed = [await Socket.open(b, chat_path(), leaving.access, "leaving chat on B"),
                      await Socket.open(b, INBOX, leaving.access, "leaving inbox on B"),
                      await Socket.open(a, chat_path(), leaving.access, "leaving chat on A")]
            kept = [await Socket.open(b, chat_path(), staying.access, "other session on B"),
                    await Socket.open(a, INBOX, staying.access, "other session's inbox on A")]
            for sock in doomed + kept:
                await sock.roundtrip()

            started = time.monotonic()
            response = await on_a.logout(leaving.refresh)
            assert response.status_code == 200 and response.json() == {}, response.text
            codes = [await sock.wait_closed(timeout=5) for sock in doomed]
            latencies = [sock.closed_at - started for sock in doomed]
            print(f"\nlogout on A -> sockets closed after {', '.join(f'{s * 1000:.0f} ms' for s in latencies)}")
            assert codes == [4001, 4001, 4001]
            assert max(latencies) < 1.0, latencies

            for sock in kept:
                await sock.roundtrip()  # another session of the same user stays open
                assert sock.close_code is None

            # The ended session opens nothing more, on either worker.
            for server, rest in ((a, on_a), (b, on_b)):
                again = await Socket.open(server, chat_path(), leaving.access)
                assert await again.wait_closed() == 4001
                assert (await rest.send(leaving.access, "after logout")).status_code == 401
            await close_all(kept)

    run(scenario)


def test_the_same_client_message_id_on_four_workers_at_once_stores_one_message(cluster):
    workers = cluster(4)

    async def scenario():
        async with http_client() as http:
            rests = [Rest(http, w) for w in workers]
            alex = await rests[0].session(ALEX)
            before = await rests[0].last_id(alex.access)
            ids = []
            for round_ in range(5):  # five races, each over all four workers
                client_message_id = str(uuid.uuid4())
                answers = await asyncio.gather(*(
                    rest.send(alex.access, f"once {round_}", client_message_id=client_message_id)
                    for rest in rests))
                assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
                bodies = [r.json() for r in answers]
                assert all(body == bodies[0] for body in bodies), bodies  # the same message, same id
                ids.append(bodies[0]["id"])
                later = await rests[round_ % 4].send(alex.access, "changed", client_message_id=client_message_id)
                assert later.status_code == 200 and later.json() == bodies[0]
            stored = await rests[3].all_after(alex.access, before)
            assert [m["id"] for m in stored] == ids
            assert [m["content"] for m in stored] == [f"once {i}" for i in range(5)]

    run(scenario)
