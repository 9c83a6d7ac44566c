"""Failures in the middle of a burst lose nothing and duplicate nothing (issue 19).

Clients are `FollowingClient`s (tests/scale/cluster.py): each holds conversation 1's
messages, reconnects on any close and fills the gap from REST `after=` (and once more up to
the first id its new socket delivers: see test_publish_before_commit.py). Whatever fails, at
the end every client must hold exactly the ids the sends were answered with, in id order,
with none arriving late (below one it already holds) and every socket delivering strictly
increasing ids.

- A worker is SIGKILLed while a burst is sent through the other one: its clients' sockets
  drop (1006), they reconnect to the survivor and fill the gap.
- Redis stops while a burst is sent: every worker closes every socket with 1011 within 3 s,
  refuses new ones (accept, then 1011) until Redis is back, and keeps answering REST; sends
  during the outage are stored (201), and clients fill the gap once they are back.
"""

from __future__ import annotations

import asyncio
import time

from cluster import FollowingClient, Pulse, Rest, http_client, run, socket_disorder
from cluster import cluster, launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

FAST_SENDS = ("--send-rate", "100000/100000")


class Burst:
    """`count` sends (None: until `finish()`) from `senders` concurrent tasks through `rest`,
    recording each answer; a send that is not answered 201 ends the burst with an error."""

    def __init__(self, rest: Rest, access: str, count: int | None, senders: int = 4) -> None:
        self.rest = rest
        self.access = access
        self.count = count
        self.senders = senders
        self.ids: list[int] = []
        self.answers: list[tuple[float, float, int]] = []  # (started, answered, status)
        self.changed = Pulse()
        self._stopping = False
        self._next = 0
        self._task: asyncio.Task | None = None

    def start(self) -> Burst:
        self._task = asyncio.ensure_future(asyncio.gather(*(self._send() for _ in range(self.senders))))
        self._task.add_done_callback(lambda _: self.changed.fire())
        return self

    async def _send(self) -> None:
        while not self._stopping and (self.count is None or self._next < self.count):
            i = self._next
            self._next += 1
            started = time.monotonic()
            response = await self.rest.send(self.access, f"burst {i}")
            self.answers.append((started, time.monotonic(), response.status_code))
            assert response.status_code == 201, response.text
            self.ids.append(response.json()["id"])
            self.changed.fire()

    def _sent(self, n: int) -> bool:
        if self._task is not None and self._task.done() and self._task.exception() is not None:
            raise self._task.exception()
        return len(self.ids) >= n

    async def until_sent(self, n: int, timeout: float = 60) -> None:
        await self.changed.until(lambda: self._sent(n), timeout, f"{n} sends answered")

    async def finish(self) -> None:
        """Wait until all `count` are answered; an open-ended burst stops after the sends under way."""
        self._stopping = self.count is None
        assert self._task is not None
        await self._task


async def all_caught_up(clients: list[FollowingClient], final_id: int, timeout: float = 60) -> None:
    for client in clients:
        await client.changed.until(lambda: client.holds(final_id) and client.live is not None, timeout,
                                   f"{client.name} to hold message {final_id} on a live socket")
    # What a CONTRACT client (connect, then fill once) would have missed: nothing.
    assert [client.refilled for client in clients] == [[] for _ in clients]


def assert_exactly_once_in_order(clients: list[FollowingClient], sent: list[int]) -> None:
    expected = sorted(sent)
    assert len(expected) == len(set(expected))
    for client in clients:
        missing = sorted(set(expected) - set(client.held))
        extra = sorted(set(client.held) - set(expected))
        assert (missing, extra, client.late) == ([], [], []), client.name
        assert client.held == expected, client.name  # each once, in id order
        assert socket_disorder(client) == [], client.name


def test_sigkill_of_a_worker_mid_burst_loses_and_duplicates_nothing(cluster):
    count = 2000
    doomed, survivor = cluster(2, *FAST_SENDS)

    async def scenario():
        async with http_client() as http:
            rest = Rest(http, survivor)
            coach, alex = await asyncio.gather(rest.session("coach@example.com"), rest.session("alex@example.com"))
            start = await rest.last_id(coach.access)
            on_doomed = [FollowingClient(f"client {i} on the doomed worker", [doomed, survivor], http,
                                         (alex, coach)[i % 2].access, start).start() for i in range(3)]
            on_survivor = [FollowingClient(f"client {i} on the survivor", [survivor, doomed], http,
                                           (alex, coach)[i % 2].access, start).start() for i in range(3)]
            clients = on_doomed + on_survivor
            for client in clients:
                await client.changed.until(lambda: client.live, what=f"{client.name} to be served")

            burst = Burst(rest, coach.access, count).start()
            await burst.until_sent(count // 4)
            for client in on_doomed:  # they are following the burst when their worker dies
                await client.changed.until(lambda: client.held, what=f"{client.name} to receive some")
            await asyncio.to_thread(doomed.kill)
            sent_at_kill = len(burst.ids)
            await burst.finish()
            print(f"\nkilled the worker after {sent_at_kill} of {count} sends")
            assert sent_at_kill < count - 100  # the kill came in the middle of the burst

            await all_caught_up(clients, max(burst.ids))
            for client in clients:
                await client.stop()

            assert_exactly_once_in_order(clients, burst.ids)
            for client in on_doomed:
                first = client.links[0]
                assert first.code == 1006, client.name  # the worker died: no close frame
                assert 0 < len(first.socket_ids) < count, client.name
                assert [link.port for link in client.links[1:]] == [survivor.port] * (len(client.links) - 1)
            for client in on_survivor:
                assert len(client.links) == 1, f"{client.name} was disturbed: {client.links}"
                assert len(client.links[0].socket_ids) == count  # all of it on its one socket
            stored = await rest.all_after(coach.access, start)
            assert [m["id"] for m in stored] == sorted(burst.ids)

    run(scenario)


def test_redis_outage_mid_burst_closes_sockets_then_clients_catch_up(cluster, redis_service):
    a, b = cluster(2, *FAST_SENDS)

    async def scenario():
        async with http_client() as http:
            rest = Rest(http, a)
            coach, alex = await asyncio.gather(rest.session("coach@example.com"), rest.session("alex@example.com"))
            start = await rest.last_id(coach.access)
            clients = [FollowingClient(f"client {i} on {'AB'[i % 2]}", [(a, b)[i % 2]], http,
                                       (alex, coach)[i // 2 % 2].access, start).start() for i in range(4)]
            for client in clients:
                await client.changed.until(lambda: client.live, what=f"{client.name} to be served")

            burst = Burst(rest, coach.access, None, senders=2).start()
            try:
                await burst.until_sent(200)
                stopped = time.monotonic()
                await asyncio.to_thread(redis_service.stop)
                print(f"\nRedis stopped (in {time.monotonic() - stopped:.2f} s) after {len(burst.ids)} sends")

                # Every socket closes with 1011 within 3 s of the stop.
                for client in clients:
                    await client.changed.until(lambda: client.links[0].code is not None, 10,
                                               f"{client.name}'s socket to close")
                latencies = [client.links[0].closed_at - stopped for client in clients]
                print("sockets closed after " + ", ".join(f"{s * 1000:.0f} ms" for s in latencies))
                assert [client.links[0].code for client in clients] == [1011] * len(clients)
                assert max(latencies) < 3.0, latencies

                # While Redis is away, reconnects are refused (accept, then 1011), and sends
                # are still stored: wait for both before bringing it back.
                for client in clients:
                    await client.changed.until(lambda: refused(client) >= 1, 10, f"{client.name} to be refused")
                sent_before = len(burst.ids)
                await burst.until_sent(sent_before + 50)
                assert all(client.live is None for client in clients)
                restarted = time.monotonic()
                await asyncio.to_thread(redis_service.start)
                outage = [s for s in burst.answers if s[0] > stopped and s[1] < restarted]
                print(f"{len(outage)} sends answered during the outage; "
                      f"refused reconnects: {[refused(c) for c in clients]}")
                assert len(outage) >= 50 and {status for *_, status in outage} == {201}

                # Back: every client is served again, and follows the rest of the burst.
                for client in clients:
                    await client.changed.until(lambda: client.live, 30, f"{client.name} to be served again")
                print(f"clients back {time.monotonic() - restarted:.2f} s after Redis")
                resumed = len(burst.ids)
                await burst.until_sent(resumed + 200)
            finally:
                await burst.finish()
            assert {status for *_, status in burst.answers} == {201}

            await all_caught_up(clients, max(burst.ids))
            for client in clients:
                await client.stop()
            assert_exactly_once_in_order(clients, burst.ids)
            # Every reconnect the server refused while Redis was away was refused with 1011. A link
            # the client itself ended before its pong (the test's stop while the reconnect that
            # follows a late close was still filling its gap) is not a refusal.
            for client in clients:
                assert {link.code for link in client.links
                        if link.established_at is None and not link.closed_by_client} == {1011}
            stored = await rest.all_after(coach.access, start)
            assert [m["id"] for m in stored] == sorted(burst.ids)

    run(scenario)


def refused(client: FollowingClient) -> int:
    """Sockets of `client` that were closed before the server ever served them."""
    return sum(1 for link in client.links
               if link.established_at is None and link.code is not None and not link.closed_by_client)
