#!/usr/bin/env python3
"""What one search costs (issue 22): the query of `server.search.search_messages` on 100,000
messages, all in one trainer's 20 conversations (the worst case: every message is theirs).

    .venv/bin/python bench/search_cost.py [--messages 100000] [--postgres postgresql://...|start]

(`--postgres start` runs a throw-away PostgreSQL server as the tests do: tests/services.py.)

Cases: a word that matches nothing (the whole scan), a word in 1 message of 1,000 (a scan
until 51 matches), a common word (stops at once), and the no-match word in one conversation.
The figure is the median of 7 runs after one warm-up. A figure, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.data import db  # noqa: E402
from server.search import SearchQuery, search_messages  # noqa: E402
from server.search_text import search_key  # noqa: E402
from server.data.store import Store  # noqa: E402
from server.timefmt import iso_utc  # noqa: E402

CONVERSATIONS = 20
WORDS = ("squats", "tempo", "recovery", "deadlift", "hydration", "mobility", "intervals", "cadence")
RUNS = 7


def line(number: int) -> str:
    text = f"Set {number}: {WORDS[number % len(WORDS)]} then {WORDS[(number * 7) % len(WORDS)]}, Ünïcode ok"
    return text + (" kettlebell" if number % 1000 == 0 else "")


async def fill(store: Store, messages: int) -> int:
    trainer = await store.create_user("bench-coach@example.com", "x", "Bench", "Coach", "TRAINER")
    conversations = []
    for n in range(CONVERSATIONS):
        trainee = await store.create_user(f"bench-{n}@example.com", "x", "T", str(n), "TRAINEE")
        conversations.append(await store.create_conversation(trainer, trainee, False, iso_utc(0)))
    rows_per_statement = 500  # 2,500 parameters: under SQLite's limit
    for start in range(0, messages, rows_per_statement):
        numbers = range(start, min(start + rows_per_statement, messages))
        params = [value for number in numbers for value in (
            conversations[number % CONVERSATIONS], trainer, line(number), iso_utc(number), search_key(line(number)))]
        await store.db.execute(
            "INSERT INTO messages (conversation_id, sender_id, content, created_at, search_text) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?)"] * len(numbers)), params)
    return trainer


async def measure(database: str, messages: int) -> None:
    handle = await db.open_database(database)
    store = Store(handle)
    try:
        started = time.perf_counter()
        trainer = await fill(store, messages)
        print(f"{handle.dialect}: {messages:,} messages stored in {time.perf_counter() - started:.1f} s")
        await handle.execute("ANALYZE")  # as autovacuum would have by now on a live database
        cases = {
            "no match (whole scan)": SearchQuery("zzyzx", None, 50, None),
            "1 in 1,000 (51 matches)": SearchQuery("KETTLEBELL", None, 50, None),
            "common word (stops early)": SearchQuery("squats", None, 50, None),
            "no match, one conversation": SearchQuery("zzyzx", 1, 50, None),
        }
        for name, query in cases.items():
            await search_messages(store, trainer, query)  # warm-up
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                page = await search_messages(store, trainer, query)
                times.append(time.perf_counter() - started)
            print(f"  {name:28} {statistics.median(times) * 1000:8.1f} ms  ({len(page.rows)} results)")
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--postgres", default=None, metavar="URL", help="an empty PostgreSQL database to fill")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(str(Path(folder) / "bench.sqlite3"), args.messages))
    if args.postgres == "start":
        sys.path.insert(0, str(ROOT / "tests"))
        import services

        with services.PostgresServer() as server:
            asyncio.run(measure(server.new_database(), args.messages))
    elif args.postgres:
        asyncio.run(measure(args.postgres, args.messages))


if __name__ == "__main__":
    main()
