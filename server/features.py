"""The optional features CONTRACT.md announces (`GET /api/messaging/capabilities/`) and the
routes of the ones this server offers: all of them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server import message_edits, saved_replies, search
from server.auth import authenticated_user

CAPABILITIES = {"edit": True, "delete": True, "saved_replies": True, "search": True}


async def capabilities(request: Request) -> JSONResponse:
    await authenticated_user(request)  # like every other call: 401 without a valid token
    return JSONResponse(CAPABILITIES)


ROUTES = [
    Route("/api/messaging/capabilities/", capabilities, methods=["GET"]),
    *message_edits.ROUTES,
    *saved_replies.ROUTES,
    *search.ROUTES,
]
