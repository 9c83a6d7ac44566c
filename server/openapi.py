"""The REST contract (CONTRACT.md) as an OpenAPI 3.1 document, served at GET /api/openapi.json.

Theory of operation: the document is data, written by hand next to the routes it describes,
and says every status a call can answer with. Two tests keep it true:
tests/server/test_openapi_doc.py (its paths and methods are exactly the app's /api/ routes,
it is valid OpenAPI, real answers fit its schemas) and tests/server/test_openapi_fuzz.py
(schemathesis against a live serve.py: no 500, and every status, content type and body as
documented). A new /api/ route, status or field therefore fails a test until it is written here.

Left out on purpose: the test-only /__faults/ routes, the static site, /media/, /healthz and
the WebSockets (OpenAPI does not describe a socket's frames; CONTRACT.md does). The 405 with
`Allow` that every path answers to a method it does not serve is not repeated per call.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.auth import MAX_EMAIL_CHARS, MAX_PASSWORD_CHARS
from server.messaging import DEFAULT_LIMIT, MAX_CONTENT_CHARS, MAX_LIMIT
from server.path_ids import MAX_ID
from server.saved_replies import MAX_PER_USER as MAX_SAVED_REPLIES, MAX_TITLE_CHARS
from server.search import MAX_QUERY_CHARS, MIN_QUERY_CHARS

OPENAPI_PATH = "/api/openapi.json"
_REF = "#/components/schemas/"
# Some character that Python's str.strip() keeps: a message of spaces only is empty (a 400).
NOT_BLANK = "[^\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
_UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _ref(name: str) -> dict:
    return {"$ref": _REF + name}


def _object(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    """A closed object: a field the server adds without writing it here fails the tests."""
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional], "additionalProperties": False}


_STRING = {"type": "string"}
_ISO = {"type": "string", "format": "date-time"}
_ISO_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_ID = {"type": "integer", "minimum": 1}
_COUNT = {"type": "integer", "minimum": 0}

SCHEMAS = {
    "Error": _object({"detail": _STRING}),
    "User": _object({"id": _ID, "first_name": _STRING, "last_name": _STRING,
                     "profile_image": {"type": ["string", "null"]}}),
    "Me": _object({"id": _ID, "first_name": _STRING, "last_name": _STRING,
                   "profile_image": {"type": ["string", "null"]}, "email": _STRING,
                   "role": {"type": "string", "enum": ["TRAINER", "TRAINEE"]}}),
    "TokenPair": _object({"access": _STRING, "refresh": _STRING}),
    # CONTRACT: 200 {"access"}, which may also carry a rotated "refresh" (serve.py always rotates).
    "RefreshedTokens": _object({"access": _STRING, "refresh": _STRING}, optional=("refresh",)),
    "Empty": {"type": "object", "maxProperties": 0},
    "Conversation": _object({
        "id": _ID, "trainer": _ref("User"), "trainee": _ref("User"), "last_message_at": _ISO_OR_NULL,
        "last_message_preview": {"type": ["string", "null"]}, "unread_count": _COUNT,
        "is_archived": {"type": "boolean"}, "created_at": _ISO}),
    "Message": _object({
        "id": _ID, "conversation_id": _ID, "sender": _ref("User"), "content": _STRING,
        "image": {"type": ["string", "null"], "description": "an absolute or root-relative URL"},
        "is_read": {"type": "boolean"}, "read_at": _ISO_OR_NULL, "created_at": _ISO,
        "edited_at": _ISO_OR_NULL,
        "deleted": {"type": "boolean", "description": "a deleted message keeps its id; its content is empty, "
                                                      "its image null"},
        # Not in CONTRACT's shape: the sender's own idempotency key, null when none was sent.
        "client_message_id": {"type": ["string", "null"]}}),
    "MessagePage": _object({"results": {"type": "array", "items": _ref("Message")}, "has_more": {"type": "boolean"}}),
    "MarkedRead": _object({"marked_read": _COUNT}),
    "UnreadCount": _object({"unread_count": _COUNT}),
    "Credentials": {"type": "object", "required": ["email", "password"], "properties": {
        "email": {"type": "string", "minLength": 1, "maxLength": MAX_EMAIL_CHARS},
        "password": {"type": "string", "minLength": 1, "maxLength": MAX_PASSWORD_CHARS}}},
    "RefreshToken": {"type": "object", "required": ["refresh"], "properties": {
        "refresh": {"type": "string", "minLength": 1}}},
    "Draft": {"type": "object", "required": ["content"], "properties": {
        "content": {"type": "string", "maxLength": MAX_CONTENT_CHARS, "pattern": NOT_BLANK,
                    "description": "plain text, not only spaces"},
        "client_message_id": {"type": "string", "pattern": _UUID_PATTERN,
                              "description": "a UUID made once per message: a repeat returns the stored one (200)"}}},
    "Capabilities": _object({name: {"type": "boolean"} for name in ("edit", "delete", "saved_replies", "search")}),
    "MessageEdit": {"type": "object", "required": ["content"], "properties": {
        "content": {"type": "string", "maxLength": MAX_CONTENT_CHARS, "pattern": NOT_BLANK,
                    "description": "plain text, not only spaces (a message with an image may also take \"\")"}}},
    "SavedReply": _object({"id": _ID, "title": _STRING, "content": _STRING, "updated_at": _ISO}),
    "SavedReplyNew": {"type": "object", "required": ["title", "content"], "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARS, "pattern": NOT_BLANK},
        "content": {"type": "string", "minLength": 1, "maxLength": MAX_CONTENT_CHARS, "pattern": NOT_BLANK}}},
    "SavedReplyChange": {"type": "object", "minProperties": 1, "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARS, "pattern": NOT_BLANK},
        "content": {"type": "string", "minLength": 1, "maxLength": MAX_CONTENT_CHARS, "pattern": NOT_BLANK}},
        "description": "title, content or both; a field left out keeps its value"},
    "DraftWithImage": {"type": "object", "properties": {
        "content": {"type": "string", "maxLength": MAX_CONTENT_CHARS},
        "client_message_id": {"type": "string", "pattern": _UUID_PATTERN},
        "image": {"type": "string", "format": "binary",
                  "description": "PNG, JPEG, GIF or WebP, at most 5 MB"}},
        # Text, an image, or both.
        "anyOf": [{"required": ["image"]},
                  {"required": ["content"], "properties": {"content": {"pattern": NOT_BLANK}}}]},
}

_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "required": True,
                                 "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
_CHALLENGE = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
_WHY = {
    400: "malformed or invalid input",
    401: "no, a bad or an expired token",
    403: "not allowed",
    404: "no such conversation",
    413: "body too large",
    415: "the body is not declared application/json",
    429: "a rate limit or quota: wait Retry-After seconds",
    503: "too many logins at once: wait Retry-After seconds",
}


def _error(status: int, why: str | None = None) -> dict:
    response: dict = {"description": why or _WHY[status],
                      "content": {"application/json": {"schema": _ref("Error")}}}
    if status in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


def _bearer_refused() -> dict:
    """The 401 of a call that needs the Bearer token (the token calls' 401s carry no challenge)."""
    return {**_error(401), "headers": _CHALLENGE}


def _ok(schema_name: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}


def _json_body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema_name)}}}


def _operation(summary: str, responses: dict, *, public: bool = False, **more) -> dict:
    operation = {"summary": summary, **more, "responses": {str(code): answer for code, answer in responses.items()}}
    if public:
        operation["security"] = []  # no Bearer token needed
    return operation


_TOKEN_ERRORS = {400: _error(400), 403: _error(403, "an Origin that is not ours nor allowed"),
                 413: _error(413), 415: _error(415)}
_CONVERSATION_ID = {"name": "conversation_id", "in": "path", "required": True,
                    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}
_MESSAGE_ID = {"name": "message_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}
_REPLY_ID = {"name": "reply_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}
_NOT_YOURS = {403: _error(403, "not a participant"), 404: _error(404)}


def _page_parameter(name: str, minimum: int, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "integer", "minimum": minimum, "maximum": MAX_ID}}


PATHS = {
    "/api/auth/jwt/create/": {"post": _operation(
        "Log in: a new session's access and refresh tokens", public=True, requestBody=_json_body("Credentials"),
        responses={200: _ok("TokenPair"), **_TOKEN_ERRORS, 401: _error(401, "wrong email or password"),
                   429: _error(429, "too many failed logins for this email from this address"),
                   503: _error(503)})},
    "/api/auth/jwt/refresh/": {"post": _operation(
        "A new access token and a rotated refresh token", public=True, requestBody=_json_body("RefreshToken"),
        responses={200: _ok("RefreshedTokens"), **_TOKEN_ERRORS,
                   401: _error(401, "a bad, expired, revoked or reused refresh token"),
                   429: _error(429, "too many refreshes of this session")})},
    "/api/auth/jwt/blacklist/": {"post": _operation(
        "Log out: that refresh token's session ends now", public=True, requestBody=_json_body("RefreshToken"),
        responses={200: _ok("Empty"), **_TOKEN_ERRORS, 401: _error(401, "a bad or expired refresh token")})},
    "/api/auth/users/me/": {"get": _operation(
        "The logged-in user", responses={200: _ok("Me"), 401: _bearer_refused()})},
    "/api/messaging/conversations/": {"get": _operation(
        "The user's conversations, newest last_message_at first", responses={
            200: {"description": "OK", "content": {"application/json": {
                "schema": {"type": "array", "items": _ref("Conversation")}}}},
            401: _bearer_refused()})},
    "/api/messaging/conversations/{conversation_id}/messages/": {"get": _operation(
        "A page of a conversation's messages, ascending by id",
        parameters=[_CONVERSATION_ID,
                    _page_parameter("limit", 1, f"default {DEFAULT_LIMIT}; over {MAX_LIMIT} counts as {MAX_LIMIT}"),
                    _page_parameter("before", 0, "the messages just older than this id (not with after)"),
                    _page_parameter("after", 0, "the messages newer than this id (not with before)")],
        responses={200: _ok("MessagePage"), 400: _error(400, "a bad limit, before or after, or both of them"),
                   401: _bearer_refused(), **_NOT_YOURS})},
    "/api/messaging/conversations/{conversation_id}/send/": {"post": _operation(
        "Send a message (text, an image, or both)", parameters=[_CONVERSATION_ID],
        requestBody={"required": True, "content": {
            "application/json": {"schema": _ref("Draft")},
            "multipart/form-data": {"schema": _ref("DraftWithImage"), "encoding": {
                "image": {"contentType": "image/png, image/jpeg, image/gif, image/webp"}}},
            "application/x-www-form-urlencoded": {"schema": _ref("Draft")}}},
        responses={201: _ok("Message", "Sent"),
                   200: _ok("Message", "A repeated client_message_id: the message already stored"),
                   400: _error(400, "no text and no image, text too long, not an image, a bad client_message_id"),
                   401: _bearer_refused(), 403: _error(403, "not a participant, or an archived conversation"),
                   404: _error(404), 413: _error(413, "an image over 5 MB, or a body too large"),
                   429: _error(429, "too many messages, or the daily upload quota")})},
    "/api/messaging/conversations/{conversation_id}/read/": {"post": _operation(
        "Mark the other party's messages read", parameters=[_CONVERSATION_ID],
        responses={200: _ok("MarkedRead"), 401: _bearer_refused(), **_NOT_YOURS})},
    "/api/messaging/capabilities/": {"get": _operation(
        "The optional features this server offers (CONTRACT: all of them)",
        responses={200: _ok("Capabilities"), 401: _bearer_refused()})},
    "/api/messaging/messages/{message_id}/": {
        "patch": _operation(
            "Edit one's own message, within 15 minutes of sending it", parameters=[_MESSAGE_ID],
            requestBody=_json_body("MessageEdit"),
            responses={200: _ok("Message", "The edited message, with edited_at"),
                       400: _error(400, "content missing, too long, or blank on a message without an image"),
                       401: _bearer_refused(),
                       403: _error(403, "not the sender, an archived conversation, past the 15 minutes, "
                                        "or a deleted message"),
                       404: _error(404, "no such message"), 413: _error(413),
                       429: _error(429, "too many messages and edits")}),
        "delete": _operation(
            "Delete one's own message, within 48 hours of sending it (again: 204, nothing changes)",
            parameters=[_MESSAGE_ID],
            responses={204: {"description": "Deleted: history keeps it as deleted, its image is gone"},
                       401: _bearer_refused(),
                       403: _error(403, "not the sender, an archived conversation, or past the 48 hours"),
                       404: _error(404, "no such message")})},
    "/api/messaging/saved-replies/": {
        "get": _operation("The user's saved replies, by title (case-insensitive)", responses={
            200: {"description": "OK", "content": {"application/json": {
                "schema": {"type": "array", "items": _ref("SavedReply")}}}},
            401: _bearer_refused()}),
        "post": _operation(
            f"Save a reply (at most {MAX_SAVED_REPLIES} per user)", requestBody=_json_body("SavedReplyNew"),
            responses={201: _ok("SavedReply", "Saved"),
                       400: _error(400, f"a missing, blank or too long field, or {MAX_SAVED_REPLIES} already"),
                       401: _bearer_refused(), 413: _error(413)})},
    "/api/messaging/saved-replies/{reply_id}/": {
        "patch": _operation(
            "Change a saved reply's title or content", parameters=[_REPLY_ID],
            requestBody=_json_body("SavedReplyChange"),
            responses={200: _ok("SavedReply"), 400: _error(400, "no field, or a blank or too long one"),
                       401: _bearer_refused(), 404: _error(404, "no such saved reply of this user"),
                       413: _error(413)}),
        "delete": _operation(
            "Delete a saved reply", parameters=[_REPLY_ID],
            responses={204: {"description": "Deleted"}, 401: _bearer_refused(),
                       404: _error(404, "no such saved reply of this user")})},
    "/api/messaging/search/": {"get": _operation(
        "The user's messages containing q (case-insensitive), newest first",
        parameters=[{"name": "q", "in": "query", "required": True,
                     "description": f"{MIN_QUERY_CHARS} to {MAX_QUERY_CHARS} characters once trimmed",
                     "schema": {"type": "string", "minLength": MIN_QUERY_CHARS, "maxLength": MAX_QUERY_CHARS}},
                    {"name": "conversation_id", "in": "query", "required": False,
                     "description": "only this conversation", "schema": {"type": "integer", "minimum": 0,
                                                                         "maximum": MAX_ID}},
                    _page_parameter("limit", 1, f"default {DEFAULT_LIMIT}; over {MAX_LIMIT} counts as {MAX_LIMIT}"),
                    _page_parameter("before", 0, "the matches just older than this message id")],
        responses={200: _ok("MessagePage", "Newest first"),
                   400: _error(400, "q missing, too short or too long; a bad limit, before or conversation_id"),
                   401: _bearer_refused(), 403: _error(403, "conversation_id is not the user's"),
                   404: _error(404, "no such conversation"), 429: _error(429, "too many searches")})},
    "/api/messaging/unread-count/": {"get": _operation(
        "Unread messages over all the user's conversations",
        responses={200: _ok("UnreadCount"), 401: _bearer_refused()})},
    OPENAPI_PATH: {"get": _operation(
        "This document", public=True,
        responses={200: {"description": "OpenAPI 3.1",
                         "content": {"application/json": {"schema": {"type": "object"}}}}})},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Coachline messaging API", "version": "1.0.0",
             "description": "The REST half of CONTRACT.md; the WebSockets are described there. "
                            "A method a path does not serve is answered 405 with Allow."},
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    "security": [{"bearer": []}],
}


async def openapi_document(request: Request) -> JSONResponse:
    # The same for everyone and changes only with a deploy: shared caches may keep it.
    return JSONResponse(DOCUMENT, headers={"Cache-Control": "public, max-age=3600"})


ROUTES = [Route(OPENAPI_PATH, openapi_document, methods=["GET"])]
