"""Saved replies (CONTRACT "Saved replies"): a trainer's own canned texts, private to them.

    GET    /api/messaging/saved-replies/            -> 200 [SavedReply], by title
    POST   /api/messaging/saved-replies/            {"title", "content"} -> 201 SavedReply
    PATCH  /api/messaging/saved-replies/<id>/       {"title"?, "content"?} -> 200 SavedReply
    DELETE /api/messaging/saved-replies/<id>/       -> 204

Another user's reply is answered as if it did not exist (404), so ids reveal nothing. The
list is ordered by the casefolded title (`title_key`, written with the title), then by id,
the same on both engines. The 200-per-user cap is counted inside the insert's transaction
with the user's row held, so two workers cannot both add the 200th.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import messaging
from server.auth import authenticated_user, ctx_of
from server.data.db import Row
from server.errors import ApiError, bad_request
from server.path_ids import MAX_ID
from server.request_body import read_json_object
from server.search_text import search_key
from server.data.store import Store
from server.timefmt import iso_utc

MAX_TITLE_CHARS = 80
MAX_CONTENT_CHARS = messaging.MAX_CONTENT_CHARS
MAX_PER_USER = 200
_LIMITS = {"title": MAX_TITLE_CHARS, "content": MAX_CONTENT_CHARS}


def saved_reply_json(row: Row) -> dict:
    return {"id": row["id"], "title": row["title"], "content": row["content"], "updated_at": row["updated_at"]}


def checked_fields(data: dict, *, partial: bool) -> dict[str, str]:
    """The title and content a body sets: each 1 to its limit, not blank. A partial body
    (PATCH) may leave either out, not both; other keys are ignored (as DRF does)."""
    fields = {}
    for name, limit in _LIMITS.items():
        if name not in data:
            if not partial:
                raise bad_request(f"{name} is required.")
            continue
        value = messaging.checked_text(data[name], name, limit)
        if not value.strip():
            raise bad_request(f"{name} must not be blank.")
        fields[name] = value
    if not fields:
        raise bad_request("Give a title or a content to change.")
    return fields


async def _owned(store: Store, reply_id: int, user_id: int) -> Row:
    row = None
    if 0 < reply_id <= MAX_ID:
        row = await store.db.fetch_one("SELECT * FROM saved_replies WHERE id = ? AND user_id = ?", (reply_id, user_id))
    if row is None:
        raise ApiError(404, "Not found.")
    return row


async def list_endpoint(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    rows = await ctx_of(request).store.db.fetch_all(
        "SELECT * FROM saved_replies WHERE user_id = ? ORDER BY title_key, id", (user["id"],))
    return JSONResponse([saved_reply_json(row) for row in rows])


async def create_endpoint(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    fields = checked_fields(await read_json_object(request), partial=False)
    async with ctx.store.transaction() as store:
        await store.lock_user(user["id"])
        count = await store.db.fetch_one("SELECT COUNT(*) AS n FROM saved_replies WHERE user_id = ?", (user["id"],))
        if count["n"] >= MAX_PER_USER:
            raise bad_request(f"At most {MAX_PER_USER} saved replies: delete one first.")
        row = await store.db.execute_returning(
            "INSERT INTO saved_replies (user_id, title, title_key, content, updated_at) VALUES (?, ?, ?, ?, ?)"
            " RETURNING *",
            (user["id"], fields["title"], search_key(fields["title"]), fields["content"], iso_utc(ctx.clock())))
    return JSONResponse(saved_reply_json(row), status_code=201)


async def update_endpoint(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    reply_id = request.path_params["reply_id"]
    await _owned(ctx.store, reply_id, user["id"])  # 404 before the body is read
    fields = checked_fields(await read_json_object(request), partial=True)
    title = fields.get("title")
    # COALESCE: a field left out keeps the stored value, whatever another PATCH wrote meanwhile.
    row = await ctx.store.db.execute_returning(
        "UPDATE saved_replies SET title = COALESCE(?, title), title_key = COALESCE(?, title_key),"
        " content = COALESCE(?, content), updated_at = ? WHERE id = ? AND user_id = ? RETURNING *",
        (title, None if title is None else search_key(title), fields.get("content"), iso_utc(ctx.clock()),
         reply_id, user["id"]))
    if row is None:  # deleted meanwhile
        raise ApiError(404, "Not found.")
    return JSONResponse(saved_reply_json(row))


async def delete_endpoint(request: Request) -> Response:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    reply_id = request.path_params["reply_id"]
    await _owned(ctx.store, reply_id, user["id"])
    await ctx.store.db.execute("DELETE FROM saved_replies WHERE id = ? AND user_id = ?", (reply_id, user["id"]))
    return Response(status_code=204)


async def reply_endpoint(request: Request) -> Response:
    if request.method == "PATCH":
        return await update_endpoint(request)
    return await delete_endpoint(request)


async def replies_endpoint(request: Request) -> Response:
    if request.method == "POST":
        return await create_endpoint(request)
    return await list_endpoint(request)


ROUTES = [
    Route("/api/messaging/saved-replies/", replies_endpoint, methods=["GET", "POST"]),
    Route("/api/messaging/saved-replies/{reply_id:id}/", reply_endpoint, methods=["PATCH", "DELETE"]),
]
