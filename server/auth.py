"""Login, refresh and "who am I" (CONTRACT "Auth"), plus the Bearer check every API call makes."""

from __future__ import annotations

import functools
import math
import sqlite3

import anyio

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.context import AppContext
from server.errors import ApiError
from server.passwords import hash_password, verify_password
from server.request_body import read_json_object, string_field
from server.serializers import me_json
from server.tokens import ACCESS, REFRESH, TokenError

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


def ctx_of(request: Request) -> AppContext:
    return request.app.state.ctx


def authenticated_user(request: Request) -> sqlite3.Row:
    """The user behind `Authorization: Bearer <access>`, else 401 (SimpleJWT wording)."""
    ctx = ctx_of(request)
    header = request.headers.get("authorization")
    if not header:
        raise ApiError(401, "Authentication credentials were not provided.", _BEARER_CHALLENGE)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Authentication credentials were not provided.", _BEARER_CHALLENGE)
    return user_for_token(ctx, token.strip(), ACCESS)


def user_for_token(ctx: AppContext, token: str, token_type: str) -> sqlite3.Row:
    try:
        claims = ctx.tokens.claims(token, token_type)
    except TokenError as exc:
        raise ApiError(401, f"Given token not valid for any token type: {exc}", _BEARER_CHALLENGE) from None
    user = ctx.store.user_by_id(claims["user_id"])
    if user is None:
        raise ApiError(401, "User not found.", _BEARER_CHALLENGE)
    return user


async def create_tokens(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    data = await read_json_object(request)
    email = string_field(data, "email").strip()
    password = string_field(data, "password")
    now = ctx.clock()
    key = (request.client.host if request.client else "", email.lower())
    wait = ctx.login_limiter.retry_after(key, now)
    if wait is not None:
        raise ApiError(429, "Too many failed login attempts. Try again later.",
                       {"Retry-After": str(max(1, math.ceil(wait)))})
    user = ctx.store.user_by_email(email)
    # Hash even for an unknown email, so the answer time does not tell which emails exist.
    stored = user["password_hash"] if user is not None else _unknown_user_hash()
    matches = await anyio.to_thread.run_sync(verify_password, password, stored)
    if user is None or not matches:
        ctx.login_limiter.record_failure(key, now)
        raise ApiError(401, "No active account found with the given credentials")
    return JSONResponse(ctx.tokens.issue_pair(user["id"]))


@functools.cache
def _unknown_user_hash() -> str:
    return hash_password("no such user")


async def refresh_tokens(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    data = await read_json_object(request)
    token = string_field(data, "refresh")
    if ctx.faults.refresh_fails:
        raise ApiError(401, "Token is invalid or expired")
    user = user_for_token(ctx, token, REFRESH)
    # Rotation, as SimpleJWT's ROTATE_REFRESH_TOKENS: a fresh refresh rides along.
    return JSONResponse(ctx.tokens.issue_pair(user["id"]))


async def me(request: Request) -> JSONResponse:
    return JSONResponse(me_json(authenticated_user(request)))


ROUTES = [
    Route("/api/auth/jwt/create/", create_tokens, methods=["POST"]),
    Route("/api/auth/jwt/refresh/", refresh_tokens, methods=["POST"]),
    Route("/api/auth/users/me/", me, methods=["GET"]),
]
