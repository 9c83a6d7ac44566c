"""The `after=` cursor never skips a message, whatever the workers do at the same moment.

A client that polls `GET .../messages/?after=<last id it holds>` moves its cursor to the
last id it saw. If message 11 could become visible while message 10 was still being
written (another worker's transaction), a poll in between would move the cursor past 10,
and the client would never see 10. The server gives ids and commits them in one order per
conversation (the send holds the conversation while it inserts, publishes and commits), so
the reader here, polling as fast as it can across the workers while eight senders race on
three workers, must collect every id exactly once, strictly increasing. On SQLite and on
PostgreSQL (whose concurrent transactions are where an id can commit out of order).
"""

from __future__ import annotations

import asyncio

import pytest

from cluster import Rest, database_args, http_client, run
from cluster import launch, sqlite_db, sqlite_template  # noqa: F401  (fixtures, and those they use)

SENDERS = 8
SENDS_EACH = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "postgres_dsn")


def test_a_reader_polling_after_collects_every_id_once_in_order_while_senders_race(database, launch, redis_url,
                                                                                   tmp_path):
    workers = launch(3, *database_args(database, redis_url, tmp_path / "media"), "--send-rate", "100000/100000")

    async def scenario():
        async with http_client() as http:
            rests = [Rest(http, w) for w in workers]
            coach, alex = await asyncio.gather(rests[0].session("coach@example.com"),
                                               rests[1].session("alex@example.com"))
            start = await rests[2].last_id(coach.access)
            sent: list[int] = []
            senders_done = asyncio.Event()

            async def sender(k: int) -> None:
                rest, who = rests[k % len(rests)], (coach, alex)[k % 2]
                for i in range(SENDS_EACH):
                    response = await rest.send(who.access, f"race {k}.{i}")
                    assert response.status_code == 201, response.text
                    sent.append(response.json()["id"])

            async def reader() -> tuple[list[int], int]:
                seen: list[int] = []
                last, polls, fruitful_while_sending = start, 0, 0
                while True:
                    finished = senders_done.is_set()  # every send was answered before this poll began
                    page = await rests[polls % len(rests)].page(alex.access, after=last, limit=200)
                    polls += 1
                    ids = [m["id"] for m in page["results"]]
                    assert ids == sorted(set(ids)) and all(i > last for i in ids), (last, ids)
                    seen += ids
                    if ids:
                        last = ids[-1]
                        fruitful_while_sending += not finished
                    if finished and not page["has_more"]:
                        return seen, fruitful_while_sending

            reading = asyncio.ensure_future(reader())
            await asyncio.gather(*(sender(k) for k in range(SENDERS)))
            senders_done.set()
            seen, fruitful = await reading

            assert len(sent) == SENDERS * SENDS_EACH == len(set(sent))
            assert seen == sorted(sent)  # none skipped, none twice, in id order
            assert fruitful >= 10, f"the reader must have raced the senders (only {fruitful} polls found news)"
            stored = await rests[0].all_after(coach.access, start)
            assert [m["id"] for m in stored] == seen

    run(scenario)
