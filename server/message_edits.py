"""Edit and delete own messages (CONTRACT "Edit and delete own messages").

    PATCH  /api/messaging/messages/<id>/  {"content"}  -> 200 Message (with edited_at)
    DELETE /api/messaging/messages/<id>/               -> 204

Theory of operation. `refusal()` is the whole rule: a pure function of the message, its
conversation, the user, the action and the time, which names why not (an `ApiError`) or
nothing. An endpoint asks it once before reading the body (a request that cannot succeed
costs no parsing), then again inside the transaction that holds the conversation, where the
change is written, and published once committed, as a send is (`messaging.deliver`): every
socket then sees a conversation's new, edited and deleted messages in the order the database
took them, and never a change the database does not hold.

Choices CONTRACT leaves open:
- Editing a deleted message is 403 ("This message was deleted."): it still exists, in history.
- Deleting a deleted message again is 204 and changes nothing (no broadcast): a client that
  retries a DELETE whose answer it lost gets the same answer. The sender and archive checks
  still come first; the 48-hour window does not apply to what is already done.
- A deleted message keeps its id, sender, times and client_message_id; its text, search text
  and image go. The image file is removed after the commit, and its bytes stop counting
  toward the sender's upload quota (`image_bytes` 0: the quota counts stored bytes).
- An edit counts against the sender's send rate (each one is broadcast like a message).
- The events go to the conversation's sockets and to both participants' inboxes, focused
  or not (CONTRACT lets an inbox leave out only `new_message` and `read_receipt`).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import images, messaging
from server.auth import authenticated_user, ctx_of
from server.context import AppContext
from server.data.db import Row
from server.errors import ApiError, bad_request
from server.realtime.fanout import Envelope
from server.realtime.hub import Outgoing
from server.path_ids import MAX_ID
from server.request_body import read_json_object
from server.search_text import search_key
from server.serializers import message_json
from server.data.store import Store
from server.timefmt import iso_utc, seconds_of


@dataclass(frozen=True)
class Action:
    done: str  # "edited", "deleted": the refusal's wording
    window: float  # seconds after created_at
    window_text: str


EDIT = Action("edited", 15 * 60.0, "15 minutes")
DELETE = Action("deleted", 48 * 3600.0, "48 hours")
NOT_ALLOWED = "You do not have permission to perform this action."


def refusal(message: Row | None, conversation: Row | None, user_id: int, action: Action,
            now: float) -> ApiError | None:
    """Why `user_id` may not do `action` to `message` at `now`; None when they may (also
    when `action` is DELETE and the message is already deleted: the caller does nothing)."""
    if message is None or conversation is None:
        return ApiError(404, "Not found.")
    if user_id not in (conversation["trainer_id"], conversation["trainee_id"]):
        return ApiError(403, NOT_ALLOWED)
    if message["sender_id"] != user_id:
        return ApiError(403, "Only the sender can change a message.")
    if conversation["is_archived"]:
        return ApiError(403, "This conversation is archived.")
    if message["deleted"]:
        return ApiError(403, "This message was deleted.") if action is EDIT else None
    # Compared as stored, to the microsecond: float seconds would put "exactly 15 minutes" on
    # either side of the line by a rounding error.
    if iso_utc(now) > iso_utc(seconds_of(message["created_at"]) + action.window):
        return ApiError(403, f"A message can be {action.done} only within {action.window_text} of sending it.")
    return None


async def _message_and_conversation(store: Store, message_id: int, *,
                                    lock: bool = False) -> tuple[Row | None, Row | None]:
    row = await store.message(message_id) if 0 < message_id <= MAX_ID else None
    if row is None:
        return None, None
    if lock:
        # Held until the transaction ends, as a send holds it; read again under the lock (in
        # PostgreSQL another worker may have changed the row meanwhile).
        await store.lock_conversation(row["conversation_id"])
        row = await store.message(message_id)
    return row, await store.conversation(row["conversation_id"])


async def _check(ctx: AppContext, message_id: int, user_id: int, action: Action) -> None:
    problem = refusal(*await _message_and_conversation(ctx.store, message_id), user_id, action, ctx.clock())
    if problem is not None:
        raise problem


def _events(conversation: Row, event: dict) -> tuple[Envelope, Envelope]:
    """One encoding for the chat's sockets and both participants' inboxes (every worker)."""
    outgoing = Outgoing(event)
    return (Envelope("C", outgoing, conversation_id=conversation["id"]),
            Envelope("I", outgoing, users=(conversation["trainer_id"], conversation["trainee_id"])))


async def edit(ctx: AppContext, message_id: int, user_id: int, content: str) -> dict:
    """Store the new text and broadcast `message_updated`; the edited Message."""
    async with ctx.store.transaction() as store:
        message, conversation = await _message_and_conversation(store, message_id, lock=True)
        now = ctx.clock()
        problem = refusal(message, conversation, user_id, EDIT, now)
        if problem is not None:
            raise problem
        if not content.strip() and not message["image"]:
            raise bad_request("A message needs text or an image.")
        await store.db.execute("UPDATE messages SET content = ?, search_text = ?, edited_at = ? WHERE id = ?",
                               (content, search_key(content), iso_utc(now), message_id))
        edited = message_json(await store.message(message_id))
        store.after_commit(functools.partial(ctx.fanout.publish,
                                             *_events(conversation, {"type": "message_updated", "message": edited})))
    return edited


async def delete(ctx: AppContext, message_id: int, user_id: int) -> None:
    """Blank the message, broadcast `message_deleted`, then remove its image file."""
    async with ctx.store.transaction() as store:
        message, conversation = await _message_and_conversation(store, message_id, lock=True)
        problem = refusal(message, conversation, user_id, DELETE, ctx.clock())
        if problem is not None:
            raise problem
        if message["deleted"]:
            return
        await store.db.execute("UPDATE messages SET deleted = 1, content = '', search_text = '', image = NULL, "
                               "image_bytes = 0 WHERE id = ?", (message_id,))
        store.after_commit(functools.partial(ctx.fanout.publish,
                                             *_events(conversation, {"type": "message_deleted",
                                                                     "conversation_id": conversation["id"],
                                                                     "message_id": message_id})))
    if message["image"]:  # after the commit: a rolled-back delete keeps its picture
        await asyncio.to_thread(images.delete_image, ctx.media_dir, message["image"])


async def edit_endpoint(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    message_id = request.path_params["message_id"]
    await _check(ctx, message_id, user["id"], EDIT)
    data = await read_json_object(request)
    if "content" not in data:
        raise bad_request("content is required.")
    content = messaging.checked_text(data["content"], "content", messaging.MAX_CONTENT_CHARS)
    await messaging.take_send(ctx, user["id"])
    return JSONResponse(await edit(ctx, message_id, user["id"], content))


async def delete_endpoint(request: Request) -> Response:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    message_id = request.path_params["message_id"]
    await _check(ctx, message_id, user["id"], DELETE)
    await delete(ctx, message_id, user["id"])
    return Response(status_code=204)


async def message_endpoint(request: Request) -> Response:
    if request.method == "PATCH":
        return await edit_endpoint(request)
    return await delete_endpoint(request)


ROUTES = [Route("/api/messaging/messages/{message_id:id}/", message_endpoint, methods=["PATCH", "DELETE"])]
