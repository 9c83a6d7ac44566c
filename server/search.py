"""Search (CONTRACT "Search"): the user's messages whose text contains `q`, newest first.

    GET /api/messaging/search/?q=<text>&conversation_id=<id>?&limit=N&before=<message_id>?
        -> 200 {"results": [Message], "has_more": bool}

Case is folded in Python, not by the engine (`server.search_text`): each message's folded
text is stored beside it, and `q` is folded the same way and matched with LIKE, its own `%`,
`_` and `\\` escaped. Deleted messages never match (their folded text is emptied, and the
query says so too).

Cost. A LIKE '%...%' cannot use an index. Without `conversation_id` the query walks the
messages table newest first by primary key (`id < before`; `+m.conversation_id` keeps SQLite
from walking the conversation index instead, which read every message of the user's and then
sorted them: 600-900 ms on the bench below whatever the word) and stops at `limit + 1` matches of
the user's: a common word costs a few rows, a word that matches nothing reads the whole table
below `before`. With `conversation_id` it walks that conversation's index only. Measured by
bench/search_cost.py on 100,000 messages, all in one trainer's 20 conversations (the worst
case), on the 2 shared cores of the development machine (busy with other work), median of 7:

                                          SQLite    PostgreSQL (after ANALYZE)
    no match (reads the whole table)      67-78 ms  46 ms
    1 message in 1,000 matches            37-48 ms  32 ms
    a common word                         <1 ms     <1 ms
    no match in one conversation (5,000)  24-30 ms  10 ms

So one search costs at most a scan of the table; each worker lets a user start
`Limits.search_burst` searches at once (30: ~2 s of the worst case), then `search_rate` a
second (2: ~16% of one SQLite reader at worst), 429 beyond, so one user cannot keep a
worker's reads waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server import messaging
from server.auth import authenticated_user, ctx_of
from server.errors import bad_request, too_many
from server.search_text import LIKE_ESCAPE, contains_pattern, search_key
from server.serializers import message_json
from server.data.store import MESSAGE_SELECT, Page, Store

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class SearchQuery:
    text: str  # trimmed, 2 to 200 characters
    conversation_id: int | None
    limit: int
    before: int | None


def parse_search_query(params: Mapping[str, str]) -> SearchQuery:
    """`q` 2 to 200 characters once trimmed; `limit` and `before` as for history (no `after`)."""
    raw = params.get("q")
    if raw is None:
        raise bad_request("q is required.")
    text = messaging.checked_text(raw.strip(), "q", MAX_QUERY_CHARS)
    if len(text) < MIN_QUERY_CHARS:
        raise bad_request(f"q must be at least {MIN_QUERY_CHARS} characters.")
    if "after" in params:
        raise bad_request("Search pages with before, not after.")
    page = messaging.parse_page_query(params)
    conversation_id = messaging.query_int(params, "conversation_id", minimum=0)
    return SearchQuery(text=text, conversation_id=conversation_id, limit=page.limit, before=page.before)


async def search_messages(store: Store, user_id: int, query: SearchQuery) -> Page:
    where = ["+m.conversation_id IN (SELECT id FROM conversations WHERE trainer_id = :user OR trainee_id = :user)",
             "m.deleted = 0", f"m.search_text LIKE :pattern ESCAPE '{LIKE_ESCAPE}'"]
    if query.conversation_id is not None:
        where.append("m.conversation_id = :cid")
    if query.before is not None:
        where.append("m.id < :before")
    rows = await store.db.fetch_all(
        MESSAGE_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY m.id DESC LIMIT :n",
        {"user": user_id, "pattern": contains_pattern(query.text), "cid": query.conversation_id,
         "before": query.before, "n": query.limit + 1})
    return Page(rows=rows[:query.limit], has_more=len(rows) > query.limit)


async def search_endpoint(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    query = parse_search_query(request.query_params)
    wait = ctx.searches.take(user["id"], ctx.clock())
    if wait is not None:
        raise too_many("Too many searches. Slow down.", wait)
    if query.conversation_id is not None:
        await messaging.participant_conversation(ctx, query.conversation_id, user["id"])
    page = await search_messages(ctx.store, user["id"], query)
    return JSONResponse({"results": [message_json(row) for row in page.rows], "has_more": page.has_more})


async def fill_search_text(store: Store, batch: int = 500) -> int:
    """At start-up: the folded text of messages stored before it existed (migration 5); how
    many rows were filled. Idempotent, and safe with several workers starting at once."""
    filled, after = 0, 0
    while True:
        rows = await store.db.fetch_all(
            "SELECT id, content FROM messages WHERE search_text IS NULL AND id > ? ORDER BY id LIMIT ?",
            (after, batch))
        if not rows:
            return filled
        async with store.transaction() as tx:
            for row in rows:
                filled += await tx.db.execute(
                    "UPDATE messages SET search_text = ? WHERE id = ? AND search_text IS NULL",
                    (search_key(row["content"]), row["id"]))
        after = rows[-1]["id"]


ROUTES = [Route("/api/messaging/search/", search_endpoint, methods=["GET"])]
