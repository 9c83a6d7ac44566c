"""The messaging REST endpoints of CONTRACT.md, plus /healthz and /media/<name>."""

from __future__ import annotations

import anyio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import images, messaging
from server.auth import authenticated_user, ctx_of
from server.context import AppContext
from server.errors import ApiError
from server.readiness import READY, readiness
from server.request_body import declared_length, is_form, read_body, read_json_object
from server.work_pool import BoundedPool

FORM_OVERHEAD = 64 * 1024  # a form's text fields and part headers, at most
FORM_LIMIT = images.MAX_IMAGE_BYTES + FORM_OVERHEAD


async def conversations(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    return JSONResponse(await messaging.conversation_list(ctx_of(request), user["id"]))


async def messages(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    conversation_id = request.path_params["conversation_id"]
    await messaging.participant_conversation(ctx, conversation_id, user["id"])
    query = messaging.parse_page_query(request.query_params)
    return JSONResponse(await messaging.message_page(ctx, conversation_id, query))


async def send(request: Request) -> JSONResponse:
    """The cheap checks come first (who, where, how often, how much room is left), then the
    body is read, and only then parsed and its image decoded, on the upload pool: a refused
    upload costs the event loop no parsing, and N uploads cannot take every thread."""
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    conversation_id = request.path_params["conversation_id"]
    await messaging.sendable_conversation(ctx, conversation_id, user["id"])
    await messaging.take_send(ctx, user["id"])
    draft = await _read_draft(request, ctx, user["id"]) if is_form(request) else await _read_json_draft(request)
    message, created = await messaging.deliver(ctx, conversation_id, user["id"], draft)
    return JSONResponse(message, status_code=201 if created else 200)


async def _read_json_draft(request: Request) -> messaging.Draft:
    data = await read_json_object(request)
    return messaging.make_draft(data.get("content"), data.get("client_message_id"))


async def _read_draft(request: Request, ctx: AppContext, user_id: int) -> messaging.Draft:
    declared = declared_length(request)
    if declared is not None and declared > FORM_LIMIT:
        raise ApiError(413, "Request body is too large.")
    # An image that could not fit the room left is refused unread: the body less the most
    # its text and part headers take. (The final check, in the send's transaction, counts
    # the re-encoded bytes.) A text-only form is never refused here, even over the quota.
    if (declared is not None and declared > FORM_OVERHEAD
            and declared - FORM_OVERHEAD > await messaging.upload_headroom(ctx, user_id)):
        raise messaging.quota_refusal()
    body = await read_body(request, FORM_LIMIT)
    try:
        return await ctx.uploads.run(messaging.draft_from_form, body, request.headers.get("content-type", ""))
    except BoundedPool.Busy:
        raise ApiError(503, "The server is busy with other uploads: try again.", {"Retry-After": "2"}) from None


async def read(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    conversation_id = request.path_params["conversation_id"]
    await messaging.participant_conversation(ctx, conversation_id, user["id"])
    return JSONResponse({"marked_read": await messaging.mark_read(ctx, conversation_id, user["id"])})


async def unread_count(request: Request) -> JSONResponse:
    user = await authenticated_user(request)
    return JSONResponse({"unread_count": await ctx_of(request).store.unread_total(user["id"])})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})  # alive: no I/O (server/readiness.py says why)


async def readyz(request: Request) -> JSONResponse:
    parts = await readiness(ctx_of(request))
    not_ready = {part: why for part, why in parts.items() if why != READY}
    if not_ready:
        return JSONResponse({"status": "not ready", "not_ready": not_ready}, status_code=503,
                            headers={"Cache-Control": "no-store"})
    return JSONResponse({"status": "ready"}, headers={"Cache-Control": "no-store"})


async def media(request: Request) -> Response:
    name = request.path_params["name"]
    content_type = images.media_type(name)
    path = ctx_of(request).media_dir / name
    if content_type is None or not path.is_file():
        raise ApiError(404, "Not found.")
    return Response(
        await anyio.to_thread.run_sync(path.read_bytes),
        media_type=content_type,
        headers={
            "Content-Security-Policy": images.MEDIA_CSP,
            "Cache-Control": images.MEDIA_CACHE_CONTROL,
        },
    )


_CONVERSATION = "/api/messaging/conversations/{conversation_id:id}"
ROUTES = [
    Route("/api/messaging/conversations/", conversations, methods=["GET"]),
    Route(_CONVERSATION + "/messages/", messages, methods=["GET"]),
    Route(_CONVERSATION + "/send/", send, methods=["POST"]),
    Route(_CONVERSATION + "/read/", read, methods=["POST"]),
    Route("/api/messaging/unread-count/", unread_count, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/media/{name}", media, methods=["GET"]),
]
