"""The WebSocket endpoint `/ws/messaging/<id>/?token=` (CONTRACT "WebSocket").

Handshake: a foreign Origin (or the `refuse` fault) is rejected before accept, which the
browser sees as 1006. After accept: 4001 for a bad token, 4003 for a conversation the
user may not open. Then three tasks per socket: a reader (frames in), the connection's
writer (frames out, see `server.hub`) and an expiry timer that closes with 4001 when the
token that opened the socket runs out (SPEC edge case 1).
"""

from __future__ import annotations

import asyncio
import contextlib

import anyio
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from server import ws_frames
from server.context import AppContext
from server.hub import Connection
from server.messaging import MAX_ID
from server.origins import origin_allowed
from server.tokens import ACCESS, TokenError

AUTH_FAILED = 4001
FORBIDDEN = 4003


async def messaging_socket(websocket: WebSocket) -> None:
    ctx: AppContext = websocket.app.state.ctx
    origin_ok = origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), websocket.url.scheme, ctx.allowed_origins
    )
    if ctx.faults.refuse_handshakes or not origin_ok:
        await websocket.close()  # before accept: the server answers the handshake with 403
        return
    await websocket.accept()
    silent = ctx.faults.silent
    try:
        claims = ctx.tokens.claims(websocket.query_params.get("token"), ACCESS)
    except TokenError:
        return await _refuse(websocket, AUTH_FAILED, silent)
    user_id = claims["user_id"]
    if ctx.store.user_by_id(user_id) is None:
        return await _refuse(websocket, AUTH_FAILED, silent)
    conversation_id = websocket.path_params["conversation_id"]
    conversation = ctx.store.conversation(conversation_id) if conversation_id <= MAX_ID else None
    if (conversation is None or conversation["is_archived"]
            or user_id not in (conversation["trainer_id"], conversation["trainee_id"])):
        return await _refuse(websocket, FORBIDDEN, silent)

    conn = Connection(websocket, conversation_id, user_id, silent=silent)
    ctx.hub.join(conn)
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(conn.run_writer)
            tasks.start_soon(_read_frames, ctx, conn)
            tasks.start_soon(_close_when_expired, ctx, conn, claims["exp"])
            await conn.finished.wait()
            tasks.cancel_scope.cancel()
    finally:
        ctx.hub.leave(conn)
    # Returning without a close frame after abort() makes the server drop the TCP link: 1006.


async def _refuse(websocket: WebSocket, code: int, silent: bool) -> None:
    if silent:  # a half-open link says nothing, not even why it will not serve
        await _drain(websocket)
    else:
        await websocket.close(code)


async def _drain(websocket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def _read_frames(ctx: AppContext, conn: Connection) -> None:
    try:
        while True:
            message = await conn.socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if conn.silent or conn.closing:
                continue
            if ws_frames.too_big(message):
                conn.close(ws_frames.MESSAGE_TOO_BIG)
                continue
            if message.get("text") is None:
                continue
            action = ws_frames.interpret(message["text"], conn.user_id)
            if isinstance(action, ws_frames.Reply):
                conn.send_json(action.event)
            elif isinstance(action, ws_frames.ToOthers):
                ctx.hub.broadcast(conn.conversation_id, action.event, except_user=conn.user_id)
    except Exception:  # the socket went away under us
        return
    finally:
        conn.finished.set()


async def _close_when_expired(ctx: AppContext, conn: Connection, exp: float) -> None:
    await asyncio.sleep(max(0.0, exp - ctx.clock()))
    conn.close(AUTH_FAILED)


ROUTES = [
    WebSocketRoute("/ws/messaging/{conversation_id:int}/", messaging_socket),
    WebSocketRoute("/ws/messaging/{conversation_id:int}", messaging_socket),
]
