"""Fault controls under `/__faults/`, installed only with `--faults` (otherwise those paths 404).

They let browser tests break the link on purpose: close or drop sockets, refuse or silence
new ones, expire tokens, fail refreshes, lose send answers; and set up isolated
conversations. JSON in, JSON out; a malformed control is a 400 like any other input, and
like the auth routes they take JSON only and no foreign Origin.

Production handlers carry no test hooks: `create_app(faults=True)` wraps the app in
`FaultWrapper` (an ASGI layer that refuses handshakes, fails refreshes and loses send answers
from the outside) and gives the context a `FaultyHub` (which can hold back a broadcast and
makes new sockets silent). Without `--faults` neither exists. The controls act on the worker
that answers them (a test of several workers runs each on its own port).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import messaging
from server.data import seed
from server.auth import ctx_of
from server.errors import ApiError, bad_request
from server.realtime.hub import MAX_BACKLOG, Connection, Hub
from server.passwords import hash_public_password
from server.request_body import guard_json_post
from server.request_body import read_json_object as _read_json_object
from server.timefmt import iso_utc
from server.realtime.ws import AUTH_FAILED

OK = {"ok": True}


@dataclass
class FaultState:
    """The switches behind the controls. All off unless a test turns one on."""
    refuse_handshakes: bool = False
    silent: bool = False
    refresh_fails: bool = False
    lost_answers_left: int = 0
    lost_answers_broadcast: bool = True

    def reset(self) -> None:
        self.refuse_handshakes = False
        self.silent = False
        self.refresh_fails = False
        self.lost_answers_left = 0
        self.lost_answers_broadcast = True


_hold_broadcasts: contextvars.ContextVar[bool] = contextvars.ContextVar("hold_broadcasts", default=False)


class FaultyHub(Hub):
    """The hub, plus: new sockets join silent while `silent` is on; a send whose answer the
    `lose_send_answers` fault loses may also lose its broadcast."""

    def __init__(self, state: FaultState) -> None:
        super().__init__()
        self.state = state

    def join(self, conn: Connection) -> None:
        conn.silent = conn.silent or self.state.silent
        super().join(conn)

    def broadcast_text(self, conversation_id: int, text: str) -> None:
        if not _hold_broadcasts.get():
            super().broadcast_text(conversation_id, text)

    def notify_inboxes_text(self, user_ids: tuple[int, ...], text: str, conversation_id: int | None = None) -> None:
        if not _hold_broadcasts.get():
            super().notify_inboxes_text(user_ids, text, conversation_id)

    def silence(self) -> None:
        """Every open socket goes silent (and stays so: a dead link does not come back)."""
        for conn in self.connections():
            conn.silent = True


_REFRESH_PATH = "/api/auth/jwt/refresh/"
_SEND_SUFFIX = "/send/"


class FaultWrapper:
    """The ASGI layer `--faults` puts around the app."""

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "websocket" and path.startswith("/ws/"):
            return await self._socket(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "POST":
            if path == _REFRESH_PATH and self.state.refresh_fails:
                return await _json(send, 401, {"detail": "Token is invalid or expired"})
            if path.startswith("/api/messaging/") and path.endswith(_SEND_SUFFIX) and self.state.lost_answers_left > 0:
                return await self._lose_answer(scope, receive, send)
        await self.app(scope, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.state.refuse_handshakes:
            await receive()  # websocket.connect
            return await send({"type": "websocket.close", "code": 1000})
        if not self.state.silent:
            return await self.app(scope, receive, send)
        # Opened while silent: even a refusal (bad token, not a participant) says nothing;
        # the link just stays open until the peer gives up.
        accepted = held = False

        async def quiet_send(message: Message) -> None:
            nonlocal accepted, held
            accepted = accepted or message["type"] == "websocket.accept"
            if accepted and message["type"] == "websocket.close" and message.get("code") not in (1001, 1012):  # a shutdown still closes
                held = True
                return
            await send(message)

        await self.app(scope, receive, quiet_send)
        if held:
            while (await receive())["type"] != "websocket.disconnect":
                pass

    async def _lose_answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the send; if it stored a message, answer 504 instead of its answer."""
        started: list[Message] = []
        token = _hold_broadcasts.set(not self.state.lost_answers_broadcast)

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.append(message)
                if message["status"] in (200, 201):
                    self.state.lost_answers_left -= 1
                    return
            elif started and started[0]["status"] in (200, 201):
                return
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            _hold_broadcasts.reset(token)
        if started and started[0]["status"] in (200, 201):
            await _json(send, 504, {"detail": "gateway timeout"})


async def _json(send: Send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def state_of(request: Request) -> FaultState:
    return request.app.state.faults


async def read_json_object(request: Request) -> dict:
    guard_json_post(request, ctx_of(request).allowed_origins)
    return await _read_json_object(request)


def _bool(data: dict, name: str, default: bool | None = None) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false.")
    return value


def _int(data: dict, name: str, default: int | None = None, *, minimum: int = 0) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= messaging.MAX_ID:
        raise bad_request(f"{name} must be an integer >= {minimum}.")
    return value


def _str(data: dict, name: str, default: str | None = None) -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name} must be a non-empty string.")
    return value.strip()


async def close(request: Request) -> JSONResponse:
    """{"conversation_id": int|null, "code": int}: close those sockets; 1006 drops them with no frame."""
    ctx = ctx_of(request)
    data = await read_json_object(request)
    conversation_id = data.get("conversation_id")
    if conversation_id is not None:
        conversation_id = _int(data, "conversation_id", minimum=1)
    code = _int(data, "code", minimum=1000)
    if code != 1006 and not (code in (1000, 1001, 1011, 1012, 1013) or 3000 <= code <= 4999):
        raise bad_request("code must be 1000, 1001, 1006, 1011, 1012, 1013 or 3000-4999.")
    return JSONResponse({"closed": ctx.hub.close(conversation_id, code)})


async def refuse(request: Request) -> JSONResponse:
    """{"on": bool}: reject new handshakes before accept (the browser sees 1006)."""
    state_of(request).refuse_handshakes = _bool(await read_json_object(request), "on")
    return JSONResponse(OK)


async def silent(request: Request) -> JSONResponse:
    """{"on": bool}: open and new sockets stop sending and ignore input, without closing.

    Sockets silenced while it was on stay silent (a dead link does not come back); "off"
    only lets new sockets work again.
    """
    ctx = ctx_of(request)
    state_of(request).silent = _bool(await read_json_object(request), "on")
    if state_of(request).silent:
        ctx.hub.silence()
    return JSONResponse(OK)


async def expire_tokens(request: Request) -> JSONResponse:
    """{"close_sockets"?: bool = true}: all access tokens issued so far stop working.

    Open sockets were opened with such tokens, so they are closed with 4001 unless
    close_sockets is false. Refresh tokens keep working and issue valid access tokens.
    """
    ctx = ctx_of(request)
    close_sockets = _bool(await read_json_object(request), "close_sockets", True)
    ctx.tokens.revoke_access_before(ctx.clock())
    closed = ctx.hub.close(None, AUTH_FAILED) if close_sockets else 0
    return JSONResponse({"ok": True, "closed": closed})


async def refresh(request: Request) -> JSONResponse:
    """{"fail": bool}: the refresh endpoint answers 401."""
    state_of(request).refresh_fails = _bool(await read_json_object(request), "fail")
    return JSONResponse(OK)


async def lose_send_answers(request: Request) -> JSONResponse:
    """{"count": int, "broadcast": bool}: the next `count` sends are stored but answered 504."""
    data = await read_json_object(request)
    state_of(request).lost_answers_left = _int(data, "count")
    state_of(request).lost_answers_broadcast = _bool(data, "broadcast", True)
    return JSONResponse(OK)


async def sockets(request: Request) -> JSONResponse:
    """{"open": {"<conversation_id>": n}, "total": n}."""
    counts = ctx_of(request).hub.open_counts()
    return JSONResponse({"open": {str(cid): n for cid, n in sorted(counts.items())}, "total": sum(counts.values())})


async def reset(request: Request) -> JSONResponse:
    """{}: every fault off and the login limiter cleared (revoked tokens stay revoked)."""
    ctx = ctx_of(request)
    await read_json_object(request)
    state_of(request).reset()
    await ctx.shared.login_clear()
    return JSONResponse(OK)


async def conversation(request: Request) -> JSONResponse:
    """{"trainer_email", "trainee_email", "messages"?, "archived"?, "first_name"?, "last_name"?}.

    Creates a NEW conversation (a missing trainee is created with password
    "<localpart>-pass") and answers the Conversation JSON as the trainer sees it.
    """
    ctx = ctx_of(request)
    data = await read_json_object(request)
    trainer = await ctx.store.user_by_email(_str(data, "trainer_email"))
    if trainer is None or trainer["role"] != "TRAINER":
        raise bad_request("trainer_email must name an existing trainer.")
    trainee_email = _str(data, "trainee_email")
    if "@" not in trainee_email:
        raise bad_request("trainee_email must be an email address.")
    count = _int(data, "messages", 0)
    if count > 5000:
        raise bad_request("messages must be at most 5000.")
    archived = _bool(data, "archived", False)
    local = trainee_email.split("@", 1)[0]
    first = _str(data, "first_name", local.capitalize())
    last = _str(data, "last_name", "Trainee")
    now = ctx.clock()
    async with ctx.store.transaction() as store:
        trainee = await store.user_by_email(trainee_email)
        if trainee is None:
            # The password is public (seed.password_for): ~1 ms, upgraded at its first login.
            password_hash = hash_public_password(seed.password_for(trainee_email))
            trainee_id = await store.create_user(trainee_email, password_hash, first, last, "TRAINEE")
        elif trainee["role"] != "TRAINEE":
            raise bad_request("trainee_email names a trainer.")
        else:
            trainee_id = trainee["id"]
        conversation_id = await store.create_conversation(trainer["id"], trainee_id, archived,
                                                          iso_utc(now - (count + 1) * seed.MINUTE))
        await seed.seed_history(store, conversation_id, trainer["id"], trainee_id, count, now)
    return JSONResponse(await messaging.conversation_view(ctx, conversation_id, trainer["id"]), status_code=201)


async def send_as(request: Request) -> JSONResponse:
    """{"email", "conversation_id", "content"}: send as that user through the real send path."""
    ctx = ctx_of(request)
    data = await read_json_object(request)
    user = await ctx.store.user_by_email(_str(data, "email"))
    if user is None:
        raise ApiError(404, "No such user.")
    conversation_id = _int(data, "conversation_id", minimum=1)
    await messaging.sendable_conversation(ctx, conversation_id, user["id"])
    draft = messaging.make_draft(data.get("content"), data.get("client_message_id"))
    message, created = await messaging.deliver(ctx, conversation_id, user["id"], draft)
    return JSONResponse(message, status_code=201 if created else 200)


async def burst(request: Request) -> JSONResponse:
    """{"email", "conversation_id", "count", "interval_ms"?: 0}: `count` messages from that
    user through the real send path, for the benchmarks (bench/run.py).

    With interval 0 they go as fast as the server can store them and the sockets take
    them (it waits while a socket's backlog is half full rather than overflow it); else one
    every interval_ms. Each content is "bench <i> <unix time just before the send>", so a
    page can tell the server-send-to-DOM latency. Answers {"sent": n, "last_id": id}.
    """
    ctx = ctx_of(request)
    data = await read_json_object(request)
    user = await ctx.store.user_by_email(_str(data, "email"))
    if user is None:
        raise ApiError(404, "No such user.")
    conversation_id = _int(data, "conversation_id", minimum=1)
    count = _int(data, "count", minimum=1)
    if count > 10_000:
        raise bad_request("count must be at most 10000.")
    interval = _int(data, "interval_ms", 0) / 1000
    await messaging.sendable_conversation(ctx, conversation_id, user["id"])
    last_id = None
    for i in range(count):
        draft = messaging.make_draft(f"bench {i} {time.time():.6f}", None)
        message, _ = await messaging.deliver(ctx, conversation_id, user["id"], draft)
        last_id = message["id"]
        if interval:
            await asyncio.sleep(interval)
        else:
            await asyncio.sleep(0)
            while any(conn.backlog() > MAX_BACKLOG // 2 for conn in ctx.hub.connections(conversation_id)):
                await asyncio.sleep(0.001)
    return JSONResponse({"sent": count, "last_id": last_id})


_CONTROLS = {
    "close": (close, "POST"),
    "refuse": (refuse, "POST"),
    "silent": (silent, "POST"),
    "expire_tokens": (expire_tokens, "POST"),
    "refresh": (refresh, "POST"),
    "lose_send_answers": (lose_send_answers, "POST"),
    "sockets": (sockets, "GET"),
    "reset": (reset, "POST"),
    "conversation": (conversation, "POST"),
    "send_as": (send_as, "POST"),
    "burst": (burst, "POST"),
}
ROUTES = [
    Route(f"/__faults/{name}{slash}", endpoint, methods=[method])
    for name, (endpoint, method) in _CONTROLS.items()
    for slash in ("", "/")
]
