"""The messaging REST endpoints of CONTRACT.md, plus /healthz and /media/<name>."""

from __future__ import annotations

import math

import anyio

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import images, messaging
from server.auth import authenticated_user, ctx_of
from server.errors import ApiError, bad_request
from server.readiness import READY, readiness
from server.request_body import is_form, read_form, read_json_object

FORM_LIMIT = images.MAX_IMAGE_BYTES + 256 * 1024



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
    user = await authenticated_user(request)
    ctx = ctx_of(request)
    conversation_id = request.path_params["conversation_id"]
    await messaging.sendable_conversation(ctx, conversation_id, user["id"])
    wait = await ctx.shared.send_take(user["id"], ctx.clock())
    if wait is not None:
        raise ApiError(429, "Too many messages. Slow down.", {"Retry-After": str(max(1, math.ceil(wait)))})
    draft = await _read_draft(request)
    message, created = await messaging.deliver(ctx, conversation_id, user["id"], draft)
    return JSONResponse(message, status_code=201 if created else 200)


async def _read_draft(request: Request) -> messaging.Draft:
    if not is_form(request):
        data = await read_json_object(request)
        return messaging.make_draft(data.get("content"), data.get("client_message_id"))
    form = await read_form(request, FORM_LIMIT)
    try:
        content = form.get("content")
        client_message_id = form.get("client_message_id") or None
        if isinstance(content, UploadFile) or isinstance(client_message_id, UploadFile):
            raise bad_request("content and client_message_id must be text fields.")
        image = form.get("image")
        if isinstance(image, str):
            if image:
                raise bad_request("image must be a file.")
            image = None
        data = await image.read() if image is not None else None
    finally:
        await form.close()
    return messaging.make_draft(content, client_message_id, data)


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
