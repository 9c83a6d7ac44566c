"""The messaging REST API (CONTRACT.md) over an injected transport.

Theory of operation
-------------------
The browser adapter supplies ``transport(method, url, headers, body)``, an
async function that performs one HTTP request and returns ``(status, data)``
where ``data`` is the parsed JSON answer or None. ``body`` is None, a JSON
string, or an opaque form object (a browser ``FormData`` for an image send)
that is handed through untouched.

Every call except login and refresh carries ``Authorization: Bearer``. A 401
means: refresh once, retry once (CONTRACT "Auth"); a second 401, or a refresh
the server rejects, ends the session (``SessionExpired``). Other non-2xx
answers raise ``ApiError(status, detail)``; a transport that raises becomes
``NetworkError``. Answers are returned as parsed; callers validate shapes.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import urlencode

from core import constants as paths
from core.capabilities import NO_CAPABILITIES, Capabilities, parse_capabilities
from core.tokens import AuthFailed, SessionExpired, TokenManager

Transport = Callable[[str, str, dict, Any], Awaitable[tuple]]

MAX_PAGE = 200  # CONTRACT: limit defaults to 50, at most 200

_CALM_DETAIL = {
    400: "The request was not accepted.",
    401: "Please log in again.",
    403: "You do not have access to this.",
    404: "Not found.",
    413: "The file is too large.",
    429: "Too many requests. Please wait a moment.",
}
_SERVER_DETAIL = "The server had a problem. Please try again."
_MAX_DETAIL_LEN = 300


class ApiError(Exception):
    """The server answered with a non-2xx status (other than a handled 401)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class NetworkError(Exception):
    """The request never got an answer (offline, DNS, CORS, aborted)."""


def error_detail(status: int, data: Any) -> str:
    """A short human text for an error answer: the server's, else a calm default."""
    text = None
    if isinstance(data, dict):
        detail = data.get("detail")
        if isinstance(detail, str) and detail.strip():
            text = detail.strip()
        else:
            # DRF field errors: {"content": ["This field may not be blank."]}
            for value in data.values():
                if isinstance(value, list) and value and isinstance(value[0], str):
                    text = value[0].strip() or None
                    if text:
                        break
    if text is None:
        if status >= 500:
            text = _SERVER_DETAIL
        else:
            text = _CALM_DETAIL.get(status, f"Something went wrong ({status}).")
    if len(text) > _MAX_DETAIL_LEN:
        text = text[: _MAX_DETAIL_LEN - 3] + "..."
    return text


OFFLINE_TEXT = "Offline: will retry."


def error_text(error: BaseException, fallback: Optional[str]) -> Optional[str]:
    """What to tell the user about a failed call: a calm text, or None for nothing.

    A session that ended says nothing here (the login screen says it); an error answer
    says the server's detail; no answer at all says the app is offline and will retry.
    """
    if isinstance(error, SessionExpired):
        return None
    if isinstance(error, ApiError):
        return error.detail if isinstance(error.detail, str) and error.detail else fallback
    if isinstance(error, NetworkError):
        return OFFLINE_TEXT
    return fallback


def _id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative int")
    return value


def json_body(text: str) -> Any:
    """An answer's body as the transports hand it over: parsed JSON, or None when it is
    empty or not JSON (the status then says what happened)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


async def _call(transport: Transport, method: str, url: str, headers: dict, body: Any):
    try:
        answer = await transport(method, url, headers, body)
    except Exception as exc:  # CancelledError is a BaseException and passes through
        raise NetworkError(type(exc).__name__) from exc
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        raise NetworkError("transport returned no (status, data) pair")
    status, data = answer
    if isinstance(status, bool) or not isinstance(status, int):
        raise NetworkError("transport returned no status")
    return status, data


def make_refresh_call(api_base: str, transport: Transport) -> Callable[[str], Awaitable[dict]]:
    """The ``refresh_call`` for ``TokenManager``: POST the refresh token.

    400/401, or a 2xx answer without an access token, raise ``AuthFailed``
    (the session is over). Other statuses raise ``ApiError`` and a failing
    transport ``NetworkError``, which leave the session alone.
    """
    url = paths.api_url(api_base, paths.auth_refresh_path())

    async def refresh_call(refresh_token: str) -> dict:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        body = json.dumps({"refresh": refresh_token})
        status, data = await _call(transport, "POST", url, headers, body)
        if status in (400, 401):
            raise AuthFailed(f"refresh answered {status}")
        if not 200 <= status < 300:
            raise ApiError(status, error_detail(status, data))
        if not isinstance(data, dict) or not isinstance(data.get("access"), str):
            raise AuthFailed("refresh answer carried no access token")
        return data

    return refresh_call


class ApiClient:
    """Messaging REST calls with bearer auth and one refresh-and-retry on 401.

        api = ApiClient("", transport, tokens)
        await api.login("coach@example.com", "coach-pass")
        page = await api.messages(1, limit=50)      # {"results": [...], "has_more": ...}
        msg = await api.send(1, "hi", client_message_id=str(uuid4()))
    """

    def __init__(self, api_base: str, transport: Transport, tokens: TokenManager) -> None:
        self.api_base = (api_base or "").rstrip("/")
        self._transport = transport
        self._tokens = tokens

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Any = None,
        query: Optional[dict] = None,
        auth: bool = True,
    ) -> Any:
        """One API call; returns the parsed answer of a 2xx status.

        ``json_body`` is serialised to JSON; ``form`` (exclusive with it) is
        passed to the transport untouched. ``query`` values that are None are
        left out. Raises ``ApiError``, ``NetworkError`` or ``SessionExpired``.
        """
        if json_body is not None and form is not None:
            raise ValueError("give json_body or form, not both")
        url = paths.api_url(self.api_base, path)
        if query:
            pairs = [(k, v) for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urlencode(pairs)
        headers = {"Accept": "application/json"}
        body = form
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(json_body)

        if not auth:
            status, data = await _call(self._transport, method, url, dict(headers), body)
            return self._result(status, data)

        access = await self._tokens.get_access_token()
        status, data = await self._send_with(access, method, url, headers, body)
        if status == 401:
            # CONTRACT: a 401 means refresh once, retry once.
            access = await self._tokens.token_after_rejection(access)
            status, data = await self._send_with(access, method, url, headers, body)
            if status == 401:
                self._tokens.end_session()
                raise SessionExpired("the server rejected a freshly refreshed token")
        return self._result(status, data)

    async def _send_with(self, access: str, method: str, url: str, headers: dict, body: Any):
        with_auth = dict(headers)
        with_auth["Authorization"] = "Bearer " + access
        return await _call(self._transport, method, url, with_auth, body)

    @staticmethod
    def _result(status: int, data: Any) -> Any:
        if 200 <= status < 300:
            return data
        raise ApiError(status, error_detail(status, data))

    # --- auth ---------------------------------------------------------------

    async def login(self, email: str, password: str) -> None:
        """Exchange credentials for a token pair and store it (no bearer sent).

        Wrong credentials raise ``ApiError(401, <server detail>)``.
        """
        data = await self.request(
            "POST", paths.auth_create_path(), json_body={"email": email, "password": password}, auth=False
        )
        access = data.get("access") if isinstance(data, dict) else None
        refresh = data.get("refresh") if isinstance(data, dict) else None
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise ApiError(502, "The server answered the login in an unexpected way.")
        self._tokens.set_tokens(access, refresh)

    def logout(self) -> Optional[str]:
        """Forget the tokens at once; returns the refresh token to pass to ``revoke``."""
        return self._tokens.clear()

    async def revoke(self, refresh: Optional[str]) -> bool:
        """CONTRACT's optional ``POST /api/auth/jwt/blacklist/``: end that session at the server.

        Called after ``logout`` (the page is already logged out, whatever this answers). A
        backend without the endpoint (404/405), a refused token or no network all leave it at
        that: returns whether the server confirmed. No bearer: the refresh token is the proof.
        """
        if not refresh:
            return False
        try:
            await self.request("POST", paths.auth_blacklist_path(), json_body={"refresh": refresh}, auth=False)
        except (ApiError, NetworkError):
            return False
        return True

    async def me(self) -> Any:
        """``GET /api/auth/users/me/``: the User plus ``email`` and ``role``."""
        return await self.request("GET", paths.auth_me_path())

    # --- messaging ------------------------------------------------------------

    async def conversations(self) -> Any:
        """``[Conversation]``, newest ``last_message_at`` first."""
        return await self.request("GET", paths.conversations_path())

    async def messages(
        self,
        cid: int,
        limit: int = 50,
        before: Optional[int] = None,
        after: Optional[int] = None,
    ) -> Any:
        """``{"results": [Message], "has_more": bool}``, ascending by id.

        ``before``: the page just older than that id; ``after``: newer ones.
        ``limit`` is clamped to 1..200.
        """
        if before is not None and after is not None:
            raise ValueError("give before or after, not both")
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ValueError("limit must be an int")
        query = {
            "limit": max(1, min(MAX_PAGE, limit)),
            "before": None if before is None else _id(before, "before"),
            "after": None if after is None else _id(after, "after"),
        }
        return await self.request("GET", paths.messages_path(cid), query=query)

    async def send(
        self,
        cid: int,
        content: str,
        client_message_id: Optional[str] = None,
        form: Any = None,
    ) -> Any:
        """Send a message; returns the stored ``Message`` (201, or 200 on a repeat).

        With ``form`` (a multipart body the adapter built with ``content``,
        ``image`` and ``client_message_id``) ``content`` and
        ``client_message_id`` are ignored here and the form goes as is.
        """
        path = paths.send_path(cid)
        if form is not None:
            return await self.request("POST", path, form=form)
        body: dict = {"content": content}
        if client_message_id is not None:
            body["client_message_id"] = client_message_id
        return await self.request("POST", path, json_body=body)

    async def mark_read(self, cid: int) -> Any:
        """``{"marked_read": n}``: the other party's messages become read."""
        return await self.request("POST", paths.read_path(cid))

    async def unread_count(self) -> Any:
        """``{"unread_count": n}`` over all the user's conversations."""
        return await self.request("GET", paths.unread_count_path())

    # --- optional features (CONTRACT "Optional features, announced") -------------------------

    async def capabilities(self) -> "Capabilities":
        """What this backend offers beyond the spec. A backend without the call (404, 405)
        offers nothing; other failures raise as usual, so the caller may ask again later."""
        try:
            data = await self.request("GET", paths.capabilities_path())
        except ApiError as exc:
            if exc.status in (404, 405):
                return NO_CAPABILITIES
            raise
        return parse_capabilities(data)

    async def edit_message(self, message_id: int, content: str) -> Any:
        """``PATCH`` one's own message: the stored ``Message`` with ``edited_at``."""
        return await self.request("PATCH", paths.message_path(_id(message_id, "message_id")),
                                  json_body={"content": content})

    async def delete_message(self, message_id: int) -> None:
        """``DELETE`` one's own message (204)."""
        await self.request("DELETE", paths.message_path(_id(message_id, "message_id")))

    async def saved_replies(self) -> Any:
        """``[SavedReply]`` by title."""
        return await self.request("GET", paths.saved_replies_path())

    async def add_saved_reply(self, title: str, content: str) -> Any:
        return await self.request("POST", paths.saved_replies_path(),
                                  json_body={"title": title, "content": content})

    async def change_saved_reply(self, reply_id: int, title: Optional[str] = None,
                                 content: Optional[str] = None) -> Any:
        body = {k: v for k, v in (("title", title), ("content", content)) if v is not None}
        return await self.request("PATCH", paths.saved_replies_path(_id(reply_id, "reply_id")), json_body=body)

    async def delete_saved_reply(self, reply_id: int) -> None:
        await self.request("DELETE", paths.saved_replies_path(_id(reply_id, "reply_id")))

    async def search(self, q: str, conversation_id: Optional[int] = None, limit: int = 50,
                     before: Optional[int] = None) -> Any:
        """``{"results": [Message], "has_more": bool}``, newest first."""
        query = {
            "q": q,
            "conversation_id": None if conversation_id is None else _id(conversation_id, "conversation_id"),
            "limit": max(1, min(MAX_PAGE, limit)),
            "before": None if before is None else _id(before, "before"),
        }
        return await self.request("GET", paths.search_path(), query=query)
