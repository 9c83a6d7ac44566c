"""SIGTERM is a planned shutdown (server/runner.py, server/supervisor.py): with clients sending
continuously over REST and talking over their sockets, SIGTERM mid-stream closes every socket
with 1012, answers the request in flight, and exits 0 within 10 s; a server started again on
the same database holds every message a client saw acknowledged (or saw on its socket) exactly
once, and a send that got no answer, retried with its client_message_id, is stored once.

Single process on SQLite, and `--workers 2 --redis` (the supervisor drains both workers and
restarts neither). Lives with the scale tests for their harness (tests/scale/cluster.py).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
import uuid
from dataclasses import dataclass, field

import httpx

from cluster import CONVERSATION, Rest, Session, Socket, chat_path, database_args, http_client, run
from cluster import launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARNING|ERROR|CRITICAL) [\w.]+: ")

SERVICE_RESTART = 1012
HARD_DEADLINE = 10.0
SENDERS = 4
WATCHERS = 6
ACKED_BEFORE_SIGTERM = 40
NO_SEND_LIMIT = ["--send-rate", "1000000/100000"]  # the stream, not the rate limiter, is under test


@dataclass
class Stream:
    acked: dict[str, int] = field(default_factory=dict)  # content -> message id, answered 201
    unanswered: dict[str, tuple[str, Session]] = field(default_factory=dict)  # content -> (its id, sender)
    refused: list[str] = field(default_factory=list)  # content never sent: the connection was refused
    other: list[tuple[str, int]] = field(default_factory=list)  # any other answer (must stay empty)
    enough: asyncio.Event = field(default_factory=asyncio.Event)


async def keep_sending(rest: Rest, session: Session, name: str, stream: Stream) -> None:
    """Sends until the server is gone; each send is either answered, refused, or unanswered."""
    for n in range(100_000):
        content, client_id = f"{name} #{n}", str(uuid.uuid4())
        try:
            response = await rest.send(session.access, content, client_message_id=client_id)
        except httpx.ConnectError:
            stream.refused.append(content)  # the listener is closed: nothing reached the server
            return
        except httpx.HTTPError:
            stream.unanswered[content] = (client_id, session)  # sent, no answer: stored or not, we cannot tell
            return
        if response.status_code != 201:
            stream.other.append((content, response.status_code))
            return
        stream.acked[content] = response.json()["id"]
        if len(stream.acked) >= ACKED_BEFORE_SIGTERM:
            stream.enough.set()


async def keep_talking(sock: Socket) -> None:
    """Typing frames and pings over the socket until it closes (paced under its frame budget)."""
    while sock.close_code is None:
        try:
            await sock.send({"type": "typing", "is_typing": True})
            await sock.send({"type": "ping"})
        except Exception:  # closed under us: the close is what the test checks
            return
        await asyncio.sleep(0.15)  # pace: 2 frames per 0.15 s stays under the 20/s frame budget


async def half_sent_request(server, session: Session, content: str) -> tuple[asyncio.StreamReader,
                                                                             asyncio.StreamWriter, bytes]:
    """A send whose headers and half its body are in: in flight when the signal comes."""
    body = json.dumps({"content": content, "client_message_id": str(uuid.uuid4())}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write((f"POST /api/messaging/conversations/{CONVERSATION}/send/ HTTP/1.1\r\n"
                  f"Host: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {session.access}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                 + body[:10])
    await writer.drain()
    return reader, writer, body[10:]


async def refused(server, deadline: float = 5.0) -> bool:
    """True once a new connection is refused (the listening socket is closed)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        except ConnectionRefusedError:
            return True
        writer.close()
        await asyncio.sleep(0.02)  # the poll's pace
    return False


def planned_shutdown(launch, args: list[str], workers: int):
    """The scenario of the module's docstring; returns the stopped server (its logs)."""
    (server,) = launch(1, *args)

    async def scenario() -> float:
        async with http_client() as http:
            rest = Rest(http, server)
            coach, alex = await rest.session("coach@example.com"), await rest.session("alex@example.com")
            first_new = await rest.last_id(coach.access) + 1
            watchers = [await Socket.open(server, chat_path(), (coach, alex)[i % 2].access, f"watcher {i}")
                        for i in range(WATCHERS)]
            for sock in watchers:
                assert await sock.served()
            stream = Stream()
            talkers = [asyncio.ensure_future(keep_talking(sock)) for sock in watchers]
            senders = [asyncio.ensure_future(keep_sending(rest, (coach, alex)[i % 2], f"sender {i}", stream))
                       for i in range(SENDERS)]
            await asyncio.wait_for(stream.enough.wait(), 60)
            in_flight = await half_sent_request(server, coach, "in flight at SIGTERM")

            signalled = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            assert await refused(server), "new connections are still accepted after SIGTERM"
            reader, writer, rest_of_body = in_flight
            writer.write(rest_of_body)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 10)  # until the server closes it
            writer.close()
            code = await asyncio.to_thread(server.proc.wait, 30)
            took = time.monotonic() - signalled

            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 201"), answer[:200]
            # read() returned: the server closed the connection once it had answered.
            stream.acked["in flight at SIGTERM"] = json.loads(body)["id"]
            await asyncio.gather(*senders, *talkers)
            codes = [await sock.wait_closed() for sock in watchers]

            (again,) = launch(1, *args)  # the same database, after the stop
            rest_again = Rest(http, again)
            retried = {content: await rest_again.send(sender.access, content, client_message_id=client_id)
                       for content, (client_id, sender) in stream.unanswered.items()}
            stored = await rest_again.all_after(coach.access, first_new - 1)
            seen = {frame["message"]["id"] for sock in watchers for frame in sock.of_type("new_message")}

        print(f"\nSIGTERM ({workers} worker{'s' * (workers > 1)}): exit {code} after {took:.2f} s; "
              f"{len(stream.acked)} sends acknowledged, {len(stream.unanswered)} unanswered, "
              f"{len(stream.refused)} refused; {len(seen)} messages seen on the sockets")
        assert code == 0
        assert took < HARD_DEADLINE
        assert codes == [SERVICE_RESTART] * WATCHERS, codes
        assert stream.other == []
        contents = [message["content"] for message in stored]
        ids = {message["content"]: message["id"] for message in stored}
        assert len(contents) == len(set(contents)), "a message was stored twice"
        for content, message_id in stream.acked.items():  # none lost, each once
            assert ids.get(content) == message_id, f"{content!r} was acknowledged but is not stored"
        assert seen <= set(ids.values()), "a message seen on a socket is not stored"
        for content, response in retried.items():  # the retry finds it, or stores it: once either way
            assert response.status_code in (200, 201), response.text
            assert contents.count(content) == 1
        assert not set(stream.refused) & set(contents), "a refused send was stored"

    run(scenario)
    return server


def test_sigterm_one_process_drains_and_loses_nothing(launch, sqlite_db, tmp_path):
    planned_shutdown(launch, [*database_args(sqlite_db, None, tmp_path / "media"), *NO_SEND_LIMIT], 1)


def test_sigterm_to_the_supervisor_drains_both_workers(launch, redis_url, sqlite_db, tmp_path):
    server = planned_shutdown(launch, [*database_args(sqlite_db, redis_url, tmp_path / "media"), *NO_SEND_LIMIT,
                                       "--workers", "2"], 2)
    lines = server.stderr().splitlines()
    assert [line for line in lines if not TEXT_LINE.match(line)] == []  # the supervisor's and the workers'
    assert sum("INFO  server: shutdown complete" in line for line in lines) == 2
    assert any("server.supervisor: planned shutdown: 2 workers draining, none restarted" in line for line in lines)
    assert not any("starting another" in line for line in lines)
