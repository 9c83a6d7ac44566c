"""Login, refresh, logout and "who am I" (CONTRACT "Auth"), plus the Bearer check every API call makes.

The three POST routes take JSON only, and from a browser only from our own origin or an
allowed one (`guard_json_post`): a form or `text/plain` POST from another site (which a
browser sends without asking) could otherwise lock a user out or log them in elsewhere.

A login counts its failures and picks its hashing lane by `server.login_limits` (per
account, per address group, per server, or per known device); a successful one sets the
known-device cookie (`server.device_tokens`), which the client never has to handle.
Refreshes are limited per address group here and per session in `server.sessions`.
"""

from __future__ import annotations

import functools
import math

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.context import AppContext
from server.data.db import Row
from server.device_tokens import COOKIE_PATH, DeviceTokens
from server.errors import ApiError, bad_request
from server.realtime.fanout import Envelope
from server.hashing import DEVICE, OPEN, HashingPool
from server.login_limits import address_group, device_counts, untrusted_counts
from server.passwords import MAX_PASSWORD_CHARS, hash_password, needs_rehash, verify_password
from server.request_body import guard_json_post, read_json_object, string_field
from server.serializers import me_json
from server.sessions import RefreshLimited, ReuseDetected
from server.tokens import ACCESS, TokenError

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}
MAX_EMAIL_CHARS = 254  # RFC 5321's longest path
SESSION_REVOKED = 4001  # sockets of a revoked session close as with a bad token


def ctx_of(request: Request) -> AppContext:
    return request.app.state.ctx


async def authenticated_user(request: Request) -> Row:
    """The user behind `Authorization: Bearer <access>`, else 401 (SimpleJWT wording)."""
    ctx = ctx_of(request)
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(401, "Authentication credentials were not provided.", _BEARER_CHALLENGE)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Authentication credentials were not provided.", _BEARER_CHALLENGE)
    return await user_for_token(ctx, token.strip(), ACCESS)


async def user_for_token(ctx: AppContext, token: str, token_type: str) -> Row:
    try:
        claims = await ctx.sessions.claims(token, token_type)
    except TokenError as exc:
        raise ApiError(401, f"Given token not valid for any token type: {exc}", _BEARER_CHALLENGE) from None
    user = await ctx.store.user_by_id(claims["user_id"])
    if user is None:
        raise ApiError(401, "User not found.", _BEARER_CHALLENGE)
    return user


async def create_tokens(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    data = await guarded_json(request)
    email = string_field(data, "email").strip()
    password = string_field(data, "password")
    if len(email) > MAX_EMAIL_CHARS or len(password) > MAX_PASSWORD_CHARS:
        raise bad_request(f"email must be at most {MAX_EMAIL_CHARS} and password at most "
                          f"{MAX_PASSWORD_CHARS} characters.")
    if "\x00" in email:  # PostgreSQL cannot even look it up (a 500 there); no account has one
        raise bad_request("email must not contain NUL characters.")
    now = ctx.clock()
    address = address_group(request.client.host if request.client else None)
    user = await ctx.store.user_by_email(email)
    device = None
    if user is not None:
        device = ctx.devices.device_of(request.cookies.get(DeviceTokens.cookie_name(user["id"])), user["id"], now)
    # Counted as a failure before the hash is awaited, so parallel guesses meet the limits too
    # (on every worker: `ctx.shared` counts in Redis when there is one).
    counts = (device_counts(device, user["id"], ctx.limits) if device is not None
              else untrusted_counts(email, address, ctx.limits))
    wait, reservation = await ctx.shared.login_reserve(counts, now)
    if wait is not None and device is not None:
        device = None  # a known device that used up its own failures is just another client (OWASP)
        counts = untrusted_counts(email, address, ctx.limits)
        wait, reservation = await ctx.shared.login_reserve(counts, now)
    if wait is not None:
        raise ApiError(429, "Too many failed login attempts. Try again later.",
                       {"Retry-After": str(max(1, math.ceil(wait)))})
    # Hash even for an unknown email, so the answer time does not tell which emails exist.
    stored = user["password_hash"] if user is not None else _unknown_user_hash()
    lane, client = (DEVICE, f"user {user['id']}") if device is not None else (OPEN, address)
    try:
        matches = await ctx.hashing.run(verify_password, password, stored, lane=lane, client=client)
    except HashingPool.Busy:
        await ctx.shared.login_release(counts, reservation)  # not an attempt: it was never checked
        raise ApiError(503, "Too many logins at once. Try again in a moment.", {"Retry-After": "1"}) from None
    if user is None or not matches or user["disabled_at"] is not None:  # a disabled account: as a bad password
        raise ApiError(401, "No active account found with the given credentials")
    await ctx.shared.login_release(counts, reservation)
    if ctx.rehash_passwords and needs_rehash(stored):
        try:
            new_hash = await ctx.hashing.run(hash_password, password, lane=lane, client=client)
            await ctx.store.set_password_hash(user["id"], new_hash)
        except HashingPool.Busy:
            pass  # upgraded at a later login
    response = JSONResponse(await ctx.sessions.open(user["id"]))
    remember_device(response, request, ctx, user["id"], device, now)
    return response


def remember_device(response: JSONResponse, request: Request, ctx: AppContext, user_id: int,
                    device: str | None, now: float) -> None:
    """This browser is a known device of `user_id` for `device_token_ttl` from now (the
    same device id again when it already was one)."""
    response.set_cookie(DeviceTokens.cookie_name(user_id), ctx.devices.issue(user_id, now, device),
                        max_age=int(ctx.limits.device_token_ttl), path=COOKIE_PATH, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


@functools.cache
def _unknown_user_hash() -> str:
    return hash_password("no such user")


async def refresh_tokens(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    data = await guarded_json(request)
    wait = await ctx.shared.refresh_take(address_group(request.client.host if request.client else None), ctx.clock())
    if wait is not None:  # every attempt counts, good or bad: each may cost a database write
        raise ApiError(429, "Too many token refreshes. Try again later.",
                       {"Retry-After": str(max(1, math.ceil(wait)))})
    try:
        # Rotation, as SimpleJWT's ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION.
        pair = await ctx.sessions.rotate(string_field(data, "refresh"))
    except ReuseDetected as exc:
        await close_session_sockets(ctx, exc.session_id)
        raise ApiError(401, "Token is invalid or expired") from None
    except RefreshLimited as exc:
        raise ApiError(429, "Too many token refreshes. Try again later.",
                       {"Retry-After": str(max(1, math.ceil(exc.wait)))}) from None
    except TokenError:
        raise ApiError(401, "Token is invalid or expired") from None
    return JSONResponse(pair)


async def blacklist(request: Request) -> JSONResponse:
    """CONTRACT's optional logout: that refresh token's whole session ends now."""
    ctx = ctx_of(request)
    data = await guarded_json(request)
    try:
        session_id = await ctx.sessions.revoke(string_field(data, "refresh"))
    except TokenError:
        raise ApiError(401, "Token is invalid or expired") from None
    await close_session_sockets(ctx, session_id)
    return JSONResponse({})


async def close_session_sockets(ctx: AppContext, session_id: str) -> None:
    """The revoked session's sockets close, on every worker."""
    await ctx.fanout.publish(Envelope("S", session_id=session_id, code=SESSION_REVOKED))


async def guarded_json(request: Request) -> dict:
    guard_json_post(request, ctx_of(request).allowed_origins)
    return await read_json_object(request)


async def me(request: Request) -> JSONResponse:
    return JSONResponse(me_json(await authenticated_user(request)))


ROUTES = [
    Route("/api/auth/jwt/create/", create_tokens, methods=["POST"]),
    Route("/api/auth/jwt/refresh/", refresh_tokens, methods=["POST"]),
    Route("/api/auth/jwt/blacklist/", blacklist, methods=["POST"]),
    Route("/api/auth/users/me/", me, methods=["GET"]),
]
