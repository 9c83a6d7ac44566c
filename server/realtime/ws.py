"""The WebSocket endpoints `/ws/messaging/<id>/?token=` (CONTRACT "WebSocket") and
`/ws/inbox/?token=` (CONTRACT "Inbox socket": every conversation of the user, no typing).

Handshake: a foreign Origin is rejected before accept, which the browser sees as 1006.
After accept: 4001 for a bad token (or a revoked session), 4003 for a conversation the user
may not open, 1013 when the user already has `Limits.max_sockets_per_user` sockets open.
Then three tasks per socket: a reader (frames in), the connection's writer (frames out, see
`server.realtime.hub`) and an expiry timer that closes with 4001 when the token that opened the
socket runs out (SPEC edge case 1).

Frames in are metered per socket (`Limits.frame_burst` at once, `frame_rate` per second);
a client over it is closed with 1008. Typing relays are throttled and coalesced
(`ws_frames.TypingThrottle`), so one client cannot flood the other party.
"""

from __future__ import annotations

import asyncio
import itertools
import json

import anyio
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from server.realtime import admin_events, fanout, ws_frames
from server.context import AppContext
from server.realtime.fanout import Envelope
from server.realtime.hub import Connection
from server.messaging import MAX_ID
from server.origins import origin_allowed
from server.rate_limit import TokenBucket
from server.tokens import ACCESS, TokenError

AUTH_FAILED = 4001
FORBIDDEN = 4003
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
_socket_numbers = itertools.count(1)


async def messaging_socket(websocket: WebSocket) -> None:
    ctx: AppContext = websocket.app.state.ctx
    generation = ctx.admin_watch.generation
    if not await _origin_ok(ctx, websocket):
        return
    claims, refusal = await _check_token(ctx, websocket)
    conversation_id = websocket.path_params["conversation_id"]
    if refusal is None:
        conversation = await ctx.store.conversation(conversation_id) if conversation_id <= MAX_ID else None
        if (conversation is None or conversation["is_archived"]
                or claims["user_id"] not in (conversation["trainer_id"], conversation["trainee_id"])):
            refusal = FORBIDDEN
    await _serve(ctx, websocket, conversation_id, claims, refusal, generation)


async def inbox_socket(websocket: WebSocket) -> None:
    """CONTRACT "Inbox socket": the events of all the user's conversations on one socket."""
    ctx: AppContext = websocket.app.state.ctx
    generation = ctx.admin_watch.generation
    if await _origin_ok(ctx, websocket):
        claims, refusal = await _check_token(ctx, websocket)
        await _serve(ctx, websocket, None, claims, refusal, generation)


async def _origin_ok(ctx: AppContext, websocket: WebSocket) -> bool:
    if origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), websocket.url.scheme,
                      ctx.allowed_origins):
        return True
    await websocket.close()  # before accept: the server answers the handshake with 403
    return False


async def _check_token(ctx: AppContext, websocket: WebSocket) -> tuple[dict | None, int | None]:
    """(claims, None), or (None, the close code) for a bad token or a revoked session."""
    try:
        claims = await ctx.sessions.claims(websocket.query_params.get("token"), ACCESS)
    except TokenError:
        return None, AUTH_FAILED
    if await ctx.store.user_by_id(claims["user_id"]) is None:
        return None, AUTH_FAILED
    return claims, None


async def _serve(ctx: AppContext, websocket: WebSocket, conversation_id: int | None, claims: dict | None,
                 refusal: int | None, generation: int) -> None:
    """Accept, then close with `refusal`, or serve the socket until it ends.

    Every check is made before the handshake is accepted, and a socket that passes them
    joins the hub before it is: an event published while the client learns that its socket
    is open is queued for it, not lost between the accept and the join. A message published
    just before the join is not on the socket, but it was committed before it was published
    (`messaging.deliver`), so the client's `after=` that follows the accept finds it.
    Likewise an admin change (`server.realtime.admin_events`) applied by this worker after the checks
    read the database and before the join: `generation` tells, and the socket checks again.
    """
    reason = None
    if refusal is None and not ctx.fanout.available:  # this worker lost Redis: it could not deliver
        refusal = fanout.UNAVAILABLE
    if refusal is None:
        socket_id = f"{ctx.worker_id}:{next(_socket_numbers)}"
        if not await ctx.shared.socket_acquire(claims["user_id"], socket_id, ctx.limits.max_sockets_per_user,
                                               ctx.clock()):
            refusal, reason = TRY_AGAIN_LATER, "Too many open sockets for this user."
    if refusal is not None:
        await websocket.accept()
        return await websocket.close(refusal, reason)
    user_id = claims["user_id"]
    conn = Connection(websocket, conversation_id, user_id, session_id=claims["sid"], socket_id=socket_id)
    ctx.hub.join(conn)
    try:
        if ctx.admin_watch.generation != generation:
            late_refusal = await admin_events.refusal(ctx, conn)
            if late_refusal is not None:
                await websocket.accept()
                return await websocket.close(late_refusal)
        await websocket.accept()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(conn.run_writer)
            tasks.start_soon(_read_frames, ctx, conn)
            tasks.start_soon(_close_when_expired, ctx, conn, claims["exp"])
            await conn.finished.wait()
            tasks.cancel_scope.cancel()
    finally:
        ctx.hub.leave(conn)
        await asyncio.shield(ctx.shared.socket_release(user_id, socket_id))
    # Returning without a close frame after abort() makes the server drop the TCP link: 1006.


async def _read_frames(ctx: AppContext, conn: Connection) -> None:
    budget = TokenBucket(ctx.limits.frame_burst, ctx.limits.frame_rate, ctx.limits.frame_burst, ctx.clock())
    typing = ws_frames.TypingThrottle(ctx.limits.typing_interval)
    flush: asyncio.TimerHandle | None = None

    relays: set[asyncio.Task] = set()

    def relay(event: dict) -> None:
        task = asyncio.ensure_future(_relay_typing(ctx, conn, event))
        relays.add(task)
        task.add_done_callback(relays.discard)

    def relay_pending() -> None:
        event = typing.flush(ctx.clock())
        if event is not None and not conn.closing:
            relay(event)

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
            elif isinstance(action, ws_frames.Focus):
                if conn.conversation_id is None:  # only an inbox leaves a conversation out
                    conn.focus = action.conversation_id
            elif isinstance(action, ws_frames.ToOthers) and conn.conversation_id is not None:
                now_event, due = typing.offer(action.event, ctx.clock())
                if now_event is not None:
                    relay(now_event)
                if due is not None:
                    flush = asyncio.get_running_loop().call_later(due, relay_pending)
    except Exception:  # the socket went away under us
        return
    finally:
        if flush is not None:
            flush.cancel()
        conn.finished.set()


async def _relay_typing(ctx: AppContext, conn: Connection, event: dict) -> None:
    """To the conversation's other sockets on every worker.

    Each socket already relays at most one indicator per `typing_interval` (and its last one
    after it: `ws_frames.TypingThrottle`); `ctx.shared.typing_gate` adds a budget per user and
    conversation over all their sockets on all workers, half that interval, which an honest
    client's one socket never meets, and which caps a user who opens many.

    The database is asked too (one read by primary key, at most a few a second per socket):
    a conversation archived or an account disabled by `serve.py` relays nothing more, even in
    the second before this worker closes the socket (`server.realtime.admin_events`)."""
    interval = ctx.limits.typing_interval / 2
    wait = await ctx.shared.typing_gate(conn.conversation_id, conn.user_id, interval, ctx.clock())
    if (wait is None and not conn.closing
            and await ctx.store.may_relay_typing(conn.conversation_id, conn.user_id)):
        await ctx.fanout.publish(Envelope("T", json.dumps(event), conversation_id=conn.conversation_id,
                                          typer_id=conn.user_id))


async def _close_when_expired(ctx: AppContext, conn: Connection, exp: float) -> None:
    await asyncio.sleep(max(0.0, exp - ctx.clock()))
    conn.close(AUTH_FAILED)


ROUTES = [
    WebSocketRoute("/ws/messaging/{conversation_id:id}/", messaging_socket),
    WebSocketRoute("/ws/messaging/{conversation_id:id}", messaging_socket),
]
INBOX_ROUTES = [
    WebSocketRoute("/ws/inbox/", inbox_socket),
    WebSocketRoute("/ws/inbox", inbox_socket),
]
