"""Reading request bodies defensively: bounded size, malformed input is a 400, never a 500."""

from __future__ import annotations

import json
import re
from starlette.requests import Request

from server.errors import ApiError, bad_request
from server.origins import origin_allowed

JSON_BODY_LIMIT = 256 * 1024
LONE_SURROGATE = "Text must be valid Unicode (a lone surrogate is not)."


def declared_length(request: Request) -> int | None:
    """The Content-Length as a number, or None when absent or not one."""
    declared = request.headers.get("content-length")
    # ASCII digits only (`isdigit()` takes "²"), and a length too long to be a size is
    # capped without int() (which refuses over 4,300 digits).
    if declared is None or not re.fullmatch(r"[0-9]+", declared):
        return None
    return 10**19 if len(declared) > 19 else int(declared)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is known to exceed `limit` bytes."""
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise ApiError(413, "Request body is too large.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "Request body is too large.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request, limit: int = JSON_BODY_LIMIT) -> dict:
    body = await read_body(request, limit)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError, UnicodeDecodeError and an integer over Python's
        # 4,300-digit conversion limit (a plain ValueError, which used to be a 500).
        raise bad_request("JSON parse error - Malformed JSON body.") from None
    if not isinstance(data, dict):
        raise bad_request("The body must be a JSON object.")
    if has_lone_surrogate(data):
        # JSON may spell one ("\\ud800"); it is not text and cannot be stored or sent on.
        raise bad_request(LONE_SURROGATE)
    return data


def has_lone_surrogate(value: object) -> bool:
    stack = [value]  # a loop, not recursion: a body may nest hundreds deep
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def guard_json_post(request: Request, allowed_origins: frozenset[str]) -> None:
    """For routes a foreign page must not reach: the body must be declared JSON (a browser
    sends that cross-site only after a CORS preflight, which we answer only for allowed
    origins) and an Origin, when there is one, must be ours or an allowed one."""
    if not origin_allowed(request.headers.get("origin"), request.headers.get("host"), request.url.scheme,
                          allowed_origins):
        raise ApiError(403, "Origin not allowed.")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(415, f'Unsupported media type "{content_type}" in request.')


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith(_FORM_TYPES)


def string_field(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{name} is required and must be a string.")
    return value
