"""Search (issue 22, item 6): the query's rules, one search box's state, and the local fallback.

Theory of operation. The trainer types; every keystroke is `typed(text, now)`, and the search
waits `DEBOUNCE_S` of quiet (`next_wakeup()`, then `tick(now)`) or an Enter (`submit(now)`)
before it asks. What it asks is a `SearchRequest`; the adapter runs it (the server's
`GET .../search/` when the backend offers it, else `search_loaded` over the messages the page
holds) and hands the answer back with `answered(request, data)` or `failed(request)`. Only the
answer to the newest request counts: one typed over (or scoped over) is dropped, so a slow
answer for "ru" never replaces the results for "run". "More results" is `more()`: the same
query, `before` the oldest result shown.

    search = SearchBox()
    search.typed("run", now)               # -> None (waiting); search.next_wakeup() == now + 0.3
    request = search.tick(now + 0.3)       # SearchRequest(seq=1, q="run", conversation_id=None, ...)
    search.answered(request, {"results": [...], "has_more": True})   # True: taken
    search.more()                          # SearchRequest(..., before=<the oldest result's id>)

The query's rules are CONTRACT "Search"'s: trimmed, 2 to 200 characters; the text is compared
after NFKC and case folding, as serve.py compares it (server/search_text.py), so "STRASSE"
finds "Straße" in the browser too.
"""
from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200
DEBOUNCE_S = 0.3  # quiet after the last keystroke before a search goes out
PAGE_SIZE = 20


def fold(text: str) -> str:
    """Text as search compares it (NFKC, then casefold), as the server folds it."""
    return unicodedata.normalize("NFKC", text).casefold()


def clean_query(text: Any) -> Optional[str]:
    """The query to send (trimmed), or None when it is not one (CONTRACT: 2 to 200 characters)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    return text if MIN_QUERY_CHARS <= len(text) <= MAX_QUERY_CHARS else None


def query_hint(text: Any) -> str:
    """Why a typed text does not search yet: "" when it does (or when nothing is typed)."""
    trimmed = text.strip() if isinstance(text, str) else ""
    if not trimmed:
        return ""
    if len(trimmed) < MIN_QUERY_CHARS:
        return f"Type at least {MIN_QUERY_CHARS} characters to search."
    if len(trimmed) > MAX_QUERY_CHARS:
        return f"A search can be at most {MAX_QUERY_CHARS} characters."
    return ""


class Status(enum.Enum):
    IDLE = "idle"        # nothing to search (empty, too short or too long: see query_hint)
    WAITING = "waiting"  # typed; the debounce runs
    LOADING = "loading"  # a request is out
    RESULTS = "results"  # at least one result
    EMPTY = "empty"      # answered: nothing matches
    FAILED = "failed"    # the request failed (the results shown so far, if any, stay)


@dataclass(frozen=True)
class SearchRequest:
    seq: int
    q: str
    conversation_id: Optional[int]
    before: Optional[int] = None
    limit: int = PAGE_SIZE


def parse_answer(data: Any) -> Tuple[List[Dict[str, Any]], bool]:
    """(messages, has_more) from a search answer; rows without an int id or a text are dropped."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ValueError("not a search answer")
    rows = [m for m in data["results"] if isinstance(m, dict) and type(m.get("id")) is int
            and type(m.get("conversation_id")) is int and isinstance(m.get("content"), str)]
    return rows, data.get("has_more") is True


class SearchBox:
    """One search box's state: the typed text, its scope, the debounce and the answers."""

    def __init__(self, debounce_s: float = DEBOUNCE_S) -> None:
        self.debounce_s = debounce_s
        self.text = ""
        self.conversation_id: Optional[int] = None  # None: every conversation
        self.status = Status.IDLE
        self.results: List[Dict[str, Any]] = []
        self.has_more = False
        self.query: Optional[str] = None  # the query the results answer
        self._deadline: Optional[float] = None
        self._seq = 0
        self._in_flight: Optional[SearchRequest] = None

    # ----- inputs ------------------------------------------------------------------------

    def typed(self, text: str, now: float) -> None:
        self.text = text if isinstance(text, str) else ""
        self._restart(now)

    def scoped(self, conversation_id: Optional[int], now: float) -> None:
        """Search one conversation (its id) or all of them (None); a changed scope asks again."""
        if conversation_id == self.conversation_id:
            return
        self.conversation_id = conversation_id
        self._restart(now)

    def submit(self, now: float) -> Optional[SearchRequest]:
        """Enter: ask now (unless the same query's answer is already in or on its way)."""
        q = clean_query(self.text)
        if q is None:
            return None
        if self._in_flight is None and self._deadline is None and self.query == q \
                and self.status in (Status.RESULTS, Status.EMPTY):
            return None
        return self._ask(q, before=None)

    def tick(self, now: float) -> Optional[SearchRequest]:
        if self._deadline is None or now < self._deadline:
            return None
        q = clean_query(self.text)
        return self._ask(q, before=None) if q is not None else None

    def next_wakeup(self) -> Optional[float]:
        return self._deadline

    def more(self) -> Optional[SearchRequest]:
        """The next page of the same query, older than the oldest result shown."""
        if not self.has_more or self._in_flight is not None or not self.results or self.query is None:
            return None
        return self._ask(self.query, before=min(m["id"] for m in self.results))

    def answered(self, request: SearchRequest, data: Any) -> bool:
        """Take an answer; False when it answers an older request (dropped) or is malformed."""
        if request != self._in_flight:
            return False
        self._in_flight = None
        try:
            rows, has_more = parse_answer(data)
        except ValueError:
            self.status = Status.FAILED
            return False
        if request.before is None:
            self.results = rows
        else:
            known = {m["id"] for m in self.results}
            self.results = self.results + [m for m in rows if m["id"] not in known]
        self.has_more = has_more
        self.query = request.q
        self.status = Status.RESULTS if self.results else Status.EMPTY
        return True

    def failed(self, request: SearchRequest) -> bool:
        if request != self._in_flight:
            return False
        self._in_flight = None
        self.status = Status.FAILED
        return True

    def again(self) -> Optional[SearchRequest]:
        """Where searches are answered changed (the backend's capabilities came in after the
        box was used): the query shown, or on its way, is asked again from the start; an
        empty box, or one still waiting for quiet (its tick asks anyway), asks nothing."""
        q = clean_query(self.text)
        if q is None or self._deadline is not None:
            return None
        return self._ask(q, before=None)

    def clear(self) -> None:
        self.text = ""
        self._restart(0.0)

    # ----- state -------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._in_flight is not None

    @property
    def loading_more(self) -> bool:
        return self._in_flight is not None and self._in_flight.before is not None

    def _restart(self, now: float) -> None:
        """The text or scope changed: whatever is out is stale; wait for quiet, or go idle."""
        self._in_flight = None
        if clean_query(self.text) is None:
            self._deadline = None
            self.status = Status.IDLE
            self.results, self.has_more, self.query = [], False, None
        else:
            self._deadline = now + self.debounce_s
            self.status = Status.WAITING

    def _ask(self, q: str, before: Optional[int]) -> SearchRequest:
        self._deadline = None
        self._seq += 1
        self._in_flight = SearchRequest(self._seq, q, self.conversation_id, before=before)
        if before is None:
            self.status = Status.LOADING
        return self._in_flight


def search_loaded(logs: Iterable[Tuple[int, Iterable[Dict[str, Any]]]], q: str, *,
                  conversation_id: Optional[int] = None, limit: int = PAGE_SIZE,
                  before: Optional[int] = None) -> Dict[str, Any]:
    """The local fallback (a backend without `search`): the loaded messages whose text holds
    `q`, folded as the server folds it, newest (highest id) first, in the server's shape.
    `logs`: (conversation id, its messages) pairs; deleted messages never match."""
    key = fold(q.strip())
    found = []
    for cid, messages in logs:
        if conversation_id is not None and cid != conversation_id:
            continue
        for message in messages:
            mid = message.get("id")
            content = message.get("content")
            if type(mid) is not int or not isinstance(content, str) or message.get("deleted"):
                continue
            if before is not None and mid >= before:
                continue
            if key and key in fold(content):
                found.append(message)
    found.sort(key=lambda m: m["id"], reverse=True)
    return {"results": found[:limit], "has_more": len(found) > limit}
