"""API errors: raise `ApiError(status, detail)` anywhere; the app answers `{"detail": ...}`."""

from __future__ import annotations

import logging
import math

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

log = logging.getLogger("server.errors")


class ApiError(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def bad_request(detail: str) -> ApiError:
    return ApiError(400, detail)


def too_many(detail: str, wait: float) -> ApiError:
    """429 with Retry-After: the whole seconds until one more is allowed (at least 1)."""
    return ApiError(429, detail, {"Retry-After": str(max(1, math.ceil(wait)))})


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _client_gone(request: Request, exc: Exception) -> JSONResponse:
    # The client closed (or was cut: too slow, or a planned stop's drain ended) before its
    # request was whole: nobody reads this answer, and it is no server error.
    log.info("client gone before its request was complete: %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Request incomplete."}, status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The path only: a query string may carry a token.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


EXCEPTION_HANDLERS = {ApiError: _api_error, HTTPException: _http_exception, ClientDisconnect: _client_gone,
                      Exception: _unexpected}
