"""Saved replies (issue 22, point 5): the limits, the filter, the `/query`, the browser's
store (its format, corrupt and foreign data) and the one interface over both back ends."""
import asyncio
import json

import pytest

from core.api_client import ApiError, NetworkError
from core.capabilities import NO_CAPABILITIES, Capabilities
from core.saved_replies import (
    BOOK_VERSION, GONE, MAX_CONTENT_CHARS, MAX_REPLIES, MAX_TITLE_CHARS, NO_LINK, TOO_MANY, ReplyBook,
    ReplyRefused, SavedReplies, SavedReply, book_key, decode_book, encode_book, matching, parse_replies,
    reply_problem, slash_query)

NOW = "2026-12-07T06:00:00Z"


class Storage:
    def __init__(self, items=None, refuse=False):
        self.items = dict(items or {})
        self.refuse = refuse

    def get_item(self, key):
        return self.items.get(key)

    def set_item(self, key, value):
        if self.refuse:
            raise RuntimeError("QuotaExceededError")
        self.items[key] = value


def run(coro):
    return asyncio.run(coro)


# ----- the limits, the same as the server's -------------------------------------------------------

@pytest.mark.parametrize("title, content", [
    ("a", "b"),
    ("t" * MAX_TITLE_CHARS, "c" * MAX_CONTENT_CHARS),
    ("  Welcome ", "Hi there"),
])
def test_a_title_and_text_within_the_limits_may_be_saved(title, content):
    assert reply_problem(title, content) is None


@pytest.mark.parametrize("title, content, words", [
    ("", "text", "title"),
    ("   ", "text", "title"),
    (None, "text", "title"),
    ("t" * (MAX_TITLE_CHARS + 1), "text", "81 characters; at most 80"),
    ("Title", "", "text"),
    ("Title", " \n\t", "text"),
    ("Title", 42, "text"),
    ("Title", "c" * (MAX_CONTENT_CHARS + 1), "2,001 characters; at most 2,000"),
])
def test_a_title_or_text_out_of_the_limits_is_refused_in_words(title, content, words):
    assert words in reply_problem(title, content)


# ----- the filter ------------------------------------------------------------------------------

REPLIES = [SavedReply(1, "welcome", "Glad you're here"), SavedReply(2, "Form check", "Send a video of your squat"),
           SavedReply(3, "Rest day", "Take it easy today, WELCOME the rest")]


def test_the_filter_looks_in_title_and_text_in_any_case_ordered_by_title():
    assert [r.id for r in matching(REPLIES, "WELC")] == [3, 1]  # "Rest day" before "welcome"
    assert [r.id for r in matching(REPLIES, "squat")] == [2]
    assert [r.id for r in matching(REPLIES, "")] == [2, 3, 1]
    assert matching(REPLIES, "nothing like it") == []


# ----- the `/query` ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, caret, expected", [
    ("/", 1, (0, "")),
    ("/wel", 4, (0, "wel")),
    ("Hi /wel", 7, (3, "wel")),
    ("Hi\n/", 4, (3, "")),
    ("/wel rest", 4, (0, "wel")),       # the caret decides, not the end of the text
    ("and/or", 6, None),                # a `/` inside a word
    ("1/2", 3, None),
    ("/wel come", 9, None),             # a space ended the query: the `/` stays as typed
    ("no slash", 8, None),
    ("", 0, None),
    ("/x", 5, None),                    # a caret beyond the text
])
def test_a_slash_query_opens_the_text_or_follows_whitespace(text, caret, expected):
    assert slash_query(text, caret) == expected


# ----- the browser's store ---------------------------------------------------------------------------

def test_the_book_is_versioned_json_under_a_key_naming_the_user():
    storage = Storage()
    book = ReplyBook(storage, 7, lambda: NOW)
    book.add("Welcome", "Hi!")
    stored = json.loads(storage.items["coachline.saved_replies.7"])
    assert stored == {"version": BOOK_VERSION,
                      "replies": [{"id": 1, "title": "Welcome", "content": "Hi!", "updated_at": NOW}]}
    assert ReplyBook(storage, 8, lambda: NOW).load() == []  # another user sees none of it


def test_adding_changing_and_removing_in_the_book():
    book = ReplyBook(Storage(), 7, lambda: NOW)
    first = book.add("b title", "one")
    second = book.add("A title", "two")
    assert (first.id, second.id) == (1, 2)
    assert [r.title for r in book.load()] == ["A title", "b title"]
    book.change(1, "c title", "three")
    assert book.load()[1] == SavedReply(1, "c title", "three", NOW)
    book.remove(2)
    assert [r.id for r in book.load()] == [1]
    with pytest.raises(ReplyRefused, match="no longer exists"):
        book.change(2, "x", "y")


def test_the_book_holds_at_most_200():
    storage = Storage({"coachline.saved_replies.7": encode_book(
        [SavedReply(i, f"t{i}", "c") for i in range(1, MAX_REPLIES + 1)])})
    book = ReplyBook(storage, 7, lambda: NOW)
    with pytest.raises(ReplyRefused, match="At most 200"):
        book.add("one more", "c")
    assert len(book.load()) == MAX_REPLIES


def test_a_refusing_storage_is_said_calmly():
    book = ReplyBook(Storage(refuse=True), 7, lambda: NOW)
    with pytest.raises(ReplyRefused, match="would not keep"):
        book.add("Welcome", "Hi")


@pytest.mark.parametrize("stored", [
    None, "", "not json", "[1, 2]", "null", '"text"', "{}",
    json.dumps({"version": 2, "replies": []}),
    json.dumps({"version": "1", "replies": []}),
    json.dumps({"version": 1, "replies": "lots"}),
    "[" * 100_000,
])
def test_a_corrupt_or_foreign_book_reads_as_none(stored):
    assert decode_book(stored) == []


def test_the_invalid_entries_of_a_readable_book_are_left_out():
    stored = json.dumps({"version": 1, "replies": [
        {"id": 1, "title": "ok", "content": "fine"},
        {"id": 1, "title": "same id", "content": "again"},
        {"id": True, "title": "bool id", "content": "x"},
        {"id": 0, "title": "zero", "content": "x"},
        {"id": 3, "title": "", "content": "x"},
        {"id": 4, "title": "t" * 81, "content": "x"},
        {"id": 5, "title": "no text"},
        {"id": 6, "title": "<script>", "content": "<b>kept as text</b>", "updated_at": 12},
        "a string", None, [],
    ]})
    assert decode_book(stored) == [SavedReply(6, "<script>", "<b>kept as text</b>", ""),
                                   SavedReply(1, "ok", "fine", "")]


def test_no_key_without_a_user_id():
    assert book_key(None) is None and book_key(0) is None and book_key(True) is None
    book = ReplyBook(Storage(), None, lambda: NOW)
    assert book.load() == []
    with pytest.raises(ReplyRefused):
        book.add("a", "b")


def test_a_server_list_is_read_tolerantly():
    assert parse_replies({"detail": "x"}) == []
    assert parse_replies([{"id": 2, "title": "b", "content": "x"}, {"id": "1"},
                          {"id": 1, "title": "A", "content": "y", "updated_at": NOW}]) == [
        SavedReply(1, "A", "y", NOW), SavedReply(2, "b", "x", "")]


# ----- one interface over both back ends ----------------------------------------------------------------

class FakeApi:
    def __init__(self):
        self.rows = {}
        self.calls = []
        self.fail = None

    async def saved_replies(self):
        self.calls.append("GET")
        if self.fail:
            raise self.fail
        return [dict(id=i, **row) for i, row in self.rows.items()]

    async def add_saved_reply(self, title, content):
        self.calls.append(("POST", title, content))
        if self.fail:
            raise self.fail
        new_id = max(self.rows, default=0) + 1
        self.rows[new_id] = {"title": title, "content": content, "updated_at": NOW}

    async def change_saved_reply(self, reply_id, title=None, content=None):
        self.calls.append(("PATCH", reply_id, title, content))
        if reply_id not in self.rows:
            raise ApiError(404, "Not found.")
        self.rows[reply_id] = {"title": title, "content": content, "updated_at": NOW}

    async def delete_saved_reply(self, reply_id):
        self.calls.append(("DELETE", reply_id))
        self.rows.pop(reply_id)


def on_server():
    api = FakeApi()
    return SavedReplies(api, ReplyBook(Storage(), 7, lambda: NOW), lambda: Capabilities(saved_replies=True)), api


def test_with_the_capability_every_change_goes_to_the_server_and_the_list_follows():
    replies, api = on_server()
    assert run(replies.add("Welcome", "Hi")) is None
    assert run(replies.change(1, "Welcome back", "Hi again")) is None
    assert [(r.title, r.content) for r in replies.replies] == [("Welcome back", "Hi again")]
    assert run(replies.remove(1)) is None
    assert replies.replies == []
    assert api.calls == [("POST", "Welcome", "Hi"), "GET", ("PATCH", 1, "Welcome back", "Hi again"), "GET",
                         ("DELETE", 1), "GET"]
    assert replies.book.load() == []  # nothing went to the browser


def test_an_invalid_reply_is_refused_before_any_call():
    replies, api = on_server()
    assert run(replies.add("", "Hi")) == "Give the reply a title."
    assert run(replies.change(1, "t", "")) == "Write the reply's text."
    assert api.calls == []


def test_the_servers_refusal_is_said_as_it_says_it():
    replies, api = on_server()
    api.fail = ApiError(400, "At most 200 saved replies: delete one first.")
    assert run(replies.add("one more", "c")) == "At most 200 saved replies: delete one first."


def test_a_reply_deleted_elsewhere_is_said_and_leaves_the_list():
    replies, api = on_server()
    run(replies.add("Welcome", "Hi"))
    api.rows.clear()
    assert run(replies.change(1, "Welcome", "Hello")) == GONE
    assert replies.replies == []


def test_no_link_keeps_the_last_list_and_says_so():
    replies, api = on_server()
    run(replies.add("Welcome", "Hi"))
    api.fail = NetworkError("TypeError")
    assert run(replies.refresh()) == NO_LINK
    assert [r.title for r in replies.replies] == ["Welcome"]


def test_without_the_capability_the_browser_keeps_them_and_the_server_is_never_called():
    api = FakeApi()
    storage = Storage()
    replies = SavedReplies(api, ReplyBook(storage, 7, lambda: NOW), lambda: NO_CAPABILITIES)
    assert run(replies.add("Welcome", "Hi")) is None
    assert run(replies.change(1, "Welcome", "Hello")) is None
    assert run(replies.change(9, "Gone", "x")) == GONE
    assert api.calls == []
    again = SavedReplies(api, ReplyBook(storage, 7, lambda: NOW), lambda: NO_CAPABILITIES)
    run(again.refresh())
    assert [(r.title, r.content) for r in again.replies] == [("Welcome", "Hello")]
    assert [r.id for r in again.matching("hell")] == [1] and again.find(1).title == "Welcome"


def test_the_browser_store_refuses_the_201st_in_words():
    storage = Storage({"coachline.saved_replies.7": encode_book(
        [SavedReply(i, f"t{i}", "c") for i in range(1, MAX_REPLIES + 1)])})
    replies = SavedReplies(FakeApi(), ReplyBook(storage, 7, lambda: NOW), lambda: NO_CAPABILITIES)
    run(replies.refresh())
    assert run(replies.add("one more", "c")) == TOO_MANY
