"""`transaction(after_commit=...)` on both engines (server/data/db.py): what a transaction tells
the sockets is told after its COMMIT, never after a rollback, and before the next transaction
on the same order key can begin its work; a cancelled caller does not cut it short."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from server.data.db import open_database  # noqa: E402

KEY = 7


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "after-commit.sqlite3")
    return request.getfixturevalue("postgres_dsn")


def _run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), 60))


async def _value(db, key):
    row = await db.fetch_one("SELECT value FROM meta WHERE key = ?", (key,))
    return None if row is None else row["value"]


def test_what_is_told_is_told_after_the_commit_and_never_after_a_rollback(database_url):
    async def scenario():
        db, other = await open_database(database_url), await open_database(database_url)
        try:
            seen_by_another_connection = []

            async def tell():
                seen_by_another_connection.append(await _value(other, "told"))

            told = [tell]
            async with db.transaction(after_commit=told) as tx:
                await tx.order_lock(KEY)
                await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("told", "stored"))
            assert seen_by_another_connection == ["stored"]

            with pytest.raises(RuntimeError):
                async with db.transaction(after_commit=told) as tx:
                    await tx.order_lock(KEY)
                    await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("rolled", "back"))
                    raise RuntimeError("the body fails")
            assert seen_by_another_connection == ["stored"]  # not told again
            assert await _value(other, "rolled") is None

            # The rolled-back transaction let its order key go: the next one takes it at once.
            async with db.transaction() as tx:
                await asyncio.wait_for(tx.order_lock(KEY), 5)
        finally:
            await db.close()
            await other.close()

    _run(scenario)


def test_the_next_transaction_on_the_key_waits_until_the_first_has_told(database_url):
    async def scenario():
        first_db, second_db = await open_database(database_url), await open_database(database_url)
        try:
            telling, may_finish = asyncio.Event(), asyncio.Event()
            order = []

            async def slow_tell():
                telling.set()
                await may_finish.wait()
                order.append("first told")

            async def first():
                async with first_db.transaction(after_commit=[slow_tell]) as tx:
                    await tx.order_lock(KEY)
                    await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("first", "1"))

            async def second():
                async with second_db.transaction() as tx:
                    await tx.order_lock(KEY)
                    order.append("second began")

            one = asyncio.ensure_future(first())
            await telling.wait()  # committed, telling
            two = asyncio.ensure_future(second())
            await asyncio.sleep(0.5)  # the second has had time to take the key, were it free
            assert order == [] and not two.done()
            may_finish.set()
            await asyncio.gather(one, two)
            assert order == ["first told", "second began"]
        finally:
            await first_db.close()
            await second_db.close()

    _run(scenario)


def test_a_caller_cancelled_while_telling_does_not_cut_the_telling_short(database_url):
    async def scenario():
        db = await open_database(database_url)
        try:
            telling, may_finish = asyncio.Event(), asyncio.Event()
            done = []

            async def tell():
                telling.set()
                await may_finish.wait()
                done.append(True)

            async def send():
                async with db.transaction(after_commit=[tell]) as tx:
                    await tx.order_lock(KEY)
                    await tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("sent", "1"))

            task = asyncio.ensure_future(send())
            await telling.wait()
            task.cancel()
            await asyncio.sleep(0)
            assert not task.done()  # still telling
            may_finish.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert done == [True]
            assert await _value(db, "sent") == "1"
            async with db.transaction() as tx:  # and the key is free again
                await asyncio.wait_for(tx.order_lock(KEY), 5)
        finally:
            await db.close()

    _run(scenario)
