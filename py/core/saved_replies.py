"""Saved replies (issue 22, point 5): a trainer's own canned texts, kept on the server when it
offers them (CONTRACT "Saved replies") and in this browser, per user, when it does not.

    replies = SavedReplies(api, ReplyBook(storage, user_id, now_iso), capabilities=lambda: caps)
    problem = await replies.refresh()            # None, or a calm sentence to show
    problem = await replies.add("Welcome", "Hi! Glad you're here.")
    replies.matching("wel")                      # title or content, any case, by title
    slash_query("Hi /wel", 7)                    # (3, "wel"): the `/query` before the caret

Theory of operation: one list (`replies.replies`) mirrors the chosen back end. Every change
is checked here first against the server's limits (title 1 to 80, content 1 to 2,000, not
blank, at most 200), so both back ends refuse the same things with the same words; the
server's own refusal (its 400 at 200 replies, a 404 for a reply deleted elsewhere) is shown
as it says it. Nothing here raises for bad data: a corrupt or foreign browser entry reads as
no replies, and an odd server row is left out.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from core.api_client import ApiError, NetworkError

MAX_TITLE_CHARS = 80
MAX_CONTENT_CHARS = 2000
MAX_REPLIES = 200
BOOK_VERSION = 1
PREFIX = "coachline.saved_replies."

NO_LINK = "No connection: the saved replies could not be reached. Try again."
TOO_MANY = f"At most {MAX_REPLIES} saved replies: delete one first."
GONE = "That saved reply no longer exists."


@dataclass(frozen=True)
class SavedReply:
    id: int
    title: str
    content: str
    updated_at: str = ""


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def reply_problem(title: Any, content: Any) -> Optional[str]:
    """What is wrong with a title and content, in words; None when both may be saved."""
    if not isinstance(title, str) or not title.strip():
        return "Give the reply a title."
    if len(title) > MAX_TITLE_CHARS:
        return f"The title is {len(title)} characters; at most {MAX_TITLE_CHARS}."
    if not isinstance(content, str) or not content.strip():
        return "Write the reply's text."
    if len(content) > MAX_CONTENT_CHARS:
        return f"The text is {len(content):,} characters; at most {MAX_CONTENT_CHARS:,}."
    return None


def parse_reply(data: Any) -> Optional[SavedReply]:
    """A reply from JSON (the server's or the browser's), or None for anything else."""
    if not isinstance(data, dict) or not _is_id(data.get("id")):
        return None
    title, content = data.get("title"), data.get("content")
    if reply_problem(title, content) is not None:
        return None
    updated = data.get("updated_at")
    return SavedReply(data["id"], title, content, updated if isinstance(updated, str) else "")


def by_title(replies) -> list[SavedReply]:
    return sorted(replies, key=lambda reply: (reply.title.casefold(), reply.id))


def parse_replies(data: Any) -> list[SavedReply]:
    """A list answer: the valid replies, once each, ordered by title."""
    if not isinstance(data, list):
        return []
    seen, replies = set(), []
    for item in data:
        reply = parse_reply(item)
        if reply is not None and reply.id not in seen:
            seen.add(reply.id)
            replies.append(reply)
    return by_title(replies[:MAX_REPLIES])


def matching(replies, query: str) -> list[SavedReply]:
    """The replies whose title or content holds the query (any case), ordered by title."""
    needle = (query or "").strip().casefold()
    return by_title(r for r in replies if needle in r.title.casefold() or needle in r.content.casefold())


def slash_query(text: str, caret: int) -> Optional[tuple[int, str]]:
    """The `/query` that ends at the caret: where its `/` is and the text after it.

    The `/` must open the text or follow whitespace (a date "1/2" or "and/or" is no query), and
    the query holds no whitespace: a space ends it, so a `/` that chose nothing stays as typed.
    """
    if not isinstance(text, str) or not isinstance(caret, int) or not 0 < caret <= len(text):
        return None
    start = text.rfind("/", 0, caret)
    if start < 0 or (start > 0 and not text[start - 1].isspace()):
        return None
    query = text[start + 1:caret]
    if any(ch.isspace() for ch in query):
        return None
    return start, query


# ----- the browser's store -------------------------------------------------------------------

def book_key(user_id: Any) -> Optional[str]:
    return f"{PREFIX}{user_id}" if _is_id(user_id) else None


def encode_book(replies) -> str:
    return json.dumps({"version": BOOK_VERSION, "replies": [
        {"id": r.id, "title": r.title, "content": r.content, "updated_at": r.updated_at} for r in replies]})


def decode_book(text: Any) -> list[SavedReply]:
    """The stored replies; anything unreadable (not JSON, another version, another app's
    shape) reads as none, and the invalid entries of a readable book are left out."""
    if not isinstance(text, str):
        return []
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict) or data.get("version") != BOOK_VERSION:
        return []
    return parse_replies(data.get("replies"))


class ReplyRefused(Exception):
    """A change the store will not make; its text is shown as it is."""


class ReplyBook:
    """One user's saved replies in browser storage (get_item/set_item, as core/drafts.py's)."""

    def __init__(self, storage, user_id: int, now_iso: Callable[[], str]) -> None:
        self._storage = storage
        self._key = book_key(user_id)
        self._now_iso = now_iso

    def load(self) -> list[SavedReply]:
        if self._key is None:
            return []
        try:
            return decode_book(self._storage.get_item(self._key))
        except Exception:  # storage off: none kept
            return []

    def _save(self, replies) -> list[SavedReply]:
        if self._key is None:
            raise ReplyRefused("Saved replies cannot be kept in this browser.")
        replies = by_title(replies)
        try:
            self._storage.set_item(self._key, encode_book(replies))
        except Exception:
            raise ReplyRefused("This browser would not keep the reply (its storage is full or off).") from None
        return replies

    def add(self, title: str, content: str) -> SavedReply:
        replies = self.load()
        if len(replies) >= MAX_REPLIES:
            raise ReplyRefused(TOO_MANY)
        reply = SavedReply(max((r.id for r in replies), default=0) + 1, title, content, self._now_iso())
        self._save(replies + [reply])
        return reply

    def change(self, reply_id: int, title: str, content: str) -> SavedReply:
        replies = self.load()
        if not any(r.id == reply_id for r in replies):
            raise ReplyRefused(GONE)
        reply = SavedReply(reply_id, title, content, self._now_iso())
        self._save([reply if r.id == reply_id else r for r in replies])
        return reply

    def remove(self, reply_id: int) -> None:
        self._save([r for r in self.load() if r.id != reply_id])


# ----- one interface over both ------------------------------------------------------------------

def _said(exc: Exception) -> str:
    if isinstance(exc, ReplyRefused):
        return str(exc)
    if isinstance(exc, ApiError):
        return GONE if exc.status == 404 else exc.detail
    if isinstance(exc, NetworkError):
        return NO_LINK
    return "The saved replies could not be changed. Try again."


class SavedReplies:
    """The signed-in user's saved replies, on the server when it offers them (read when used:
    the capabilities answer may come after the page opened), else in the browser."""

    def __init__(self, api, book: ReplyBook, capabilities: Callable[[], Any]) -> None:
        self.api = api
        self.book = book
        self.capabilities = capabilities
        self.replies: list[SavedReply] = []

    @property
    def on_server(self) -> bool:
        return bool(getattr(self.capabilities(), "saved_replies", False))

    def matching(self, query: str) -> list[SavedReply]:
        return matching(self.replies, query)

    def find(self, reply_id: int) -> Optional[SavedReply]:
        return next((r for r in self.replies if r.id == reply_id), None)

    async def refresh(self) -> Optional[str]:
        """The list again from its store; on a failure the last one stays shown."""
        if not self.on_server:
            self.replies = self.book.load()
            return None
        try:
            self.replies = parse_replies(await self.api.saved_replies())
        except Exception as exc:
            return _said(exc)
        return None

    async def add(self, title: str, content: str) -> Optional[str]:
        problem = reply_problem(title, content)
        if problem is not None:
            return problem
        return await self._change(lambda: self.api.add_saved_reply(title, content),
                                  lambda: self.book.add(title, content))

    async def change(self, reply_id: int, title: str, content: str) -> Optional[str]:
        problem = reply_problem(title, content)
        if problem is not None:
            return problem
        return await self._change(lambda: self.api.change_saved_reply(reply_id, title=title, content=content),
                                  lambda: self.book.change(reply_id, title, content))

    async def remove(self, reply_id: int) -> Optional[str]:
        return await self._change(lambda: self.api.delete_saved_reply(reply_id),
                                  lambda: self.book.remove(reply_id))

    async def _change(self, on_server, in_browser) -> Optional[str]:
        try:
            if self.on_server:
                await on_server()
            else:
                in_browser()
        except Exception as exc:
            problem = _said(exc)
            await self.refresh()  # a reply deleted elsewhere leaves the list too
            return problem
        await self.refresh()
        return None
