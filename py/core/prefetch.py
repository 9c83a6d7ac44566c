"""Answers fetched before Python was up, handed to the REST client.

While Pyodide boots, a few lines of page JavaScript (static/early.js) start the calls a
logged-in trainer's first screen needs (who am I, conversations, unread count), with the
stored access token. They decide nothing: this transport answers a request from one of
those answers only when it is the very same request (GET, same URL, same Authorization
header), once, and only when an HTTP answer arrived. Anything else (a network failure, a
refreshed token, another URL) goes to the real transport, so every rule (401 -> refresh
and retry, error texts, shapes) stays in api_client.py and nothing can be lost.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional

from core.api_client import json_body

# take(url, authorization) -> an awaitable of (status, body text) or None, or None when
# nothing was fetched for that request. Each answer can be taken once.
Take = Callable[[str, str], Optional[Awaitable[Optional[tuple]]]]


def parse_answer(answer: Any) -> Optional[tuple]:
    """(status, parsed JSON or None) from (status, text); None for anything that is not an
    HTTP answer (the early fetch failed)."""
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return None
    status, text = answer
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return None
    if not isinstance(text, str):
        return None
    return status, json_body(text)


class PrefetchedTransport:
    """A transport (see api_client.Transport) that first looks for an early answer."""

    def __init__(self, transport: Callable[..., Awaitable[tuple]], take: Take) -> None:
        self._transport = transport
        self._take = take
        self.used = 0  # answers served from the early fetches (for tests and the bench)

    async def __call__(self, method: str, url: str, headers: dict, body: Any) -> tuple:
        if method == "GET" and body is None:
            pending = self._take(url, str(headers.get("Authorization") or ""))
            if pending is not None:
                answer = parse_answer(await pending)
                if answer is not None:
                    self.used += 1
                    return answer
        return await self._transport(method, url, headers, body)
