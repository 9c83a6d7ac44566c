"""The WebSocket endpoints `/ws/messaging/<id>/?token=` (CONTRACT "WebSocket") and
`/ws/inbox/?token=` (CONTRACT "Inbox socket": every conversation of the user, no typing).

Handshake: a foreign Origin is rejected before accept, which the browser sees as 1006.
After accept: 4001 for a bad token (or a revoked session), 4003 for a conversation the user
may not open, 1013 when the user already has `Limits.max_sockets_per_user` sockets open.
Then three tasks per socket: a reader (frames in), the connection's writer (frames out, see
`server.hub`) and an expiry timer that closes with 4001 when the token that opened the
socket runs out (SPEC edge case 1).

Frames in are metered per socket (`Limits.frame_burst` at once, `frame_rate` per second);
a client over it is closed with 1008. Typing relays are throttled and coalesced
(`ws_frames.TypingThrottle`), so one client cannot flood the other party.
"""

from __future__ import annotations

import asyncio

import anyio
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from server import ws_frames
from server.context import AppContext
from server.hub import Connection
from server.messaging import MAX_ID
from server.origins import origin_allowed
from server.rate_limit import TokenBucket
from server.tokens import ACCESS, TokenError

AUTH_FAILED = 4001
FORBIDDEN = 4003
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


async def messaging_socket(websocket: WebSocket) -> None:
    ctx: AppContext = websocket.app.state.ctx
    claims = await _accept(ctx, websocket)
    if claims is None:
        return
    user_id = claims["user_id"]
    conversation_id = websocket.path_params["conversation_id"]
    conversation = ctx.store.conversation(conversation_id) if conversation_id <= MAX_ID else None
    if (conversation is None or conversation["is_archived"]
            or user_id not in (conversation["trainer_id"], conversation["trainee_id"])):
        return await websocket.close(FORBIDDEN)
    await _serve(ctx, websocket, conversation_id, claims)


async def inbox_socket(websocket: WebSocket) -> None:
    """CONTRACT "Inbox socket": the events of all the user's conversations on one socket."""
    ctx: AppContext = websocket.app.state.ctx
    claims = await _accept(ctx, websocket)
    if claims is not None:
        await _serve(ctx, websocket, None, claims)


async def _accept(ctx: AppContext, websocket: WebSocket) -> dict | None:
    """Origin check, accept, token check: the claims, or None once the socket is refused."""
    origin_ok = origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), websocket.url.scheme, ctx.allowed_origins
    )
    if not origin_ok:
        await websocket.close()  # before accept: the server answers the handshake with 403
        return None
    await websocket.accept()
    try:
        claims = ctx.sessions.claims(websocket.query_params.get("token"), ACCESS)
    except TokenError:
        await websocket.close(AUTH_FAILED)
        return None
    if ctx.store.user_by_id(claims["user_id"]) is None:
        await websocket.close(AUTH_FAILED)
        return None
    return claims


async def _serve(ctx: AppContext, websocket: WebSocket, conversation_id: int | None, claims: dict) -> None:
    user_id = claims["user_id"]
    if ctx.hub.user_count(user_id) >= ctx.limits.max_sockets_per_user:
        return await websocket.close(TRY_AGAIN_LATER, "Too many open sockets for this user.")
    conn = Connection(websocket, conversation_id, user_id, session_id=claims["sid"])
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


async def _read_frames(ctx: AppContext, conn: Connection) -> None:
    budget = TokenBucket(ctx.limits.frame_burst, ctx.limits.frame_rate, ctx.limits.frame_burst, ctx.clock())
    typing = ws_frames.TypingThrottle(ctx.limits.typing_interval)
    flush: asyncio.TimerHandle | None = None

    def relay_pending() -> None:
        event = typing.flush(ctx.clock())
        if event is not None and not conn.closing:
            ctx.hub.typing(conn.conversation_id, conn.user_id, event)

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
            if budget.take(ctx.clock()) is not None:
                conn.close(POLICY_VIOLATION)
                continue
            if message.get("text") is None:
                continue
            action = ws_frames.interpret(message["text"], conn.user_id)
            if isinstance(action, ws_frames.Reply):
                conn.send_json(action.event)
            elif isinstance(action, ws_frames.ToOthers) and conn.conversation_id is not None:
                now_event, due = typing.offer(action.event, ctx.clock())
                if now_event is not None:
                    ctx.hub.typing(conn.conversation_id, conn.user_id, now_event)
                if due is not None:
                    flush = asyncio.get_running_loop().call_later(due, relay_pending)
    except Exception:  # the socket went away under us
        return
    finally:
        if flush is not None:
            flush.cancel()
        conn.finished.set()


async def _close_when_expired(ctx: AppContext, conn: Connection, exp: float) -> None:
    await asyncio.sleep(max(0.0, exp - ctx.clock()))
    conn.close(AUTH_FAILED)


ROUTES = [
    WebSocketRoute("/ws/messaging/{conversation_id:int}/", messaging_socket),
    WebSocketRoute("/ws/messaging/{conversation_id:int}", messaging_socket),
]
INBOX_ROUTES = [
    WebSocketRoute("/ws/inbox/", inbox_socket),
    WebSocketRoute("/ws/inbox", inbox_socket),
]
