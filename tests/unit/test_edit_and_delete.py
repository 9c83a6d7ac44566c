"""Issue 22.3, fix mistakes: the windows (15 minutes to edit, 48 hours to delete) at their
edges, the Up arrow's message, what an edit may say, the frames (message_updated /
message_deleted, malformed ones calm), the log changing held messages in place, and the
session keeping cached logs and the list's preview right."""
import json
from datetime import datetime, timezone

import pytest

from core.api_client import ApiError, NetworkError
from core.capabilities import NO_CAPABILITIES, Capabilities
from core.message_actions import (
    DELETED_TEXT, EMPTY_EDIT, action_failure_text, allowed_actions, edit_refusal, last_editable_id,
    may_change_later, preview_follows,
)
from core.message_log import MessageLog, with_changed, with_deleted
from core.models import parse_message
from core.session import Fetch, Session
from core.ws_events import (
    MessageDeleted, MessageUpdated, classify_inbox_frame, classify_server_frame,
)
from query_cache import CONVERSATIONS_KEY, QueryCache, messages_key

ME = {"id": 1, "first_name": "Coach", "last_name": "C", "profile_image": None}
ALEX = {"id": 2, "first_name": "Alex", "last_name": "R", "profile_image": None}
SENT = "2026-12-07T10:00:00.000000Z"
T_SENT = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc).timestamp()
BOTH = Capabilities(edit=True, delete=True)


def msg(mid, sender=ME, at=SENT, content=None, cid=7, **extra):
    return dict({"id": mid, "conversation_id": cid, "sender": sender, "content": content or f"m{mid}",
                 "image": None, "is_read": False, "read_at": None, "created_at": at}, **extra)


# ----- the windows, at their edges ------------------------------------------------------------------

@pytest.mark.parametrize("age, expected", [
    (0, ("edit", "delete")),
    (15 * 60, ("edit", "delete")),          # exactly 15 minutes: still on time
    (15 * 60 + 0.001, ("delete",)),
    (48 * 3600, ("delete",)),               # exactly 48 hours: still on time
    (48 * 3600 + 0.001, ()),
])
def test_edit_within_15_minutes_and_delete_within_48_hours(age, expected):
    assert allowed_actions(msg(5), ME["id"], BOTH, T_SENT + age) == expected


def test_only_ones_own_live_message_with_the_capability_gets_a_menu():
    now = T_SENT + 60
    assert allowed_actions(msg(5, sender=ALEX), ME["id"], BOTH, now) == ()
    assert allowed_actions(msg(5, deleted=True), ME["id"], BOTH, now) == ()
    assert allowed_actions(msg(5), ME["id"], BOTH, now, archived=True) == ()
    assert allowed_actions(msg(5), ME["id"], NO_CAPABILITIES, now) == ()
    assert allowed_actions(msg(5), ME["id"], Capabilities(delete=True), now) == ("delete",)
    assert allowed_actions(msg(5), ME["id"], Capabilities(edit=True), now) == ("edit",)
    assert allowed_actions(msg(5, at="not a time"), ME["id"], BOTH, now) == ()
    assert allowed_actions(None, ME["id"], BOTH, now) == ()


def test_a_node_keeps_its_menu_button_only_while_the_longest_window_is_open():
    assert may_change_later(msg(5), T_SENT + 48 * 3600)
    assert not may_change_later(msg(5), T_SENT + 48 * 3600 + 1)
    assert not may_change_later(msg(5, deleted=True), T_SENT)


def test_up_arrow_edits_the_newest_own_message_still_editable():
    newest_first = [msg(9, sender=ALEX, at="2026-12-07T10:05:00Z"), msg(8, at="2026-12-07T10:04:00Z"),
                    msg(7, at="2026-12-07T10:03:00Z")]
    now = T_SENT + 5 * 60
    assert last_editable_id(newest_first, ME["id"], BOTH, now) == 8
    assert last_editable_id([msg(8, deleted=True)] + newest_first[2:], ME["id"], BOTH, now) == 7
    assert last_editable_id(newest_first, ME["id"], Capabilities(delete=True), now) is None
    assert last_editable_id(newest_first, ME["id"], BOTH, now, archived=True) is None
    # 15 minutes after the newest own one, nothing is editable (and older ones are not looked at).
    assert last_editable_id(newest_first, ME["id"], BOTH, T_SENT + 4 * 60 + 15 * 60 + 1) is None


def test_an_edit_may_not_empty_a_text_message_but_may_an_image_message():
    assert edit_refusal("  ", has_image=False) == EMPTY_EDIT
    assert edit_refusal("", has_image=True) is None
    assert edit_refusal("fixed", has_image=False) is None
    too_long = edit_refusal("x" * 2001, has_image=False)
    assert too_long.startswith("Not saved: the message is 2,001 characters") and "save again" in too_long


def test_a_refusal_says_the_servers_reason_calmly():
    detail = "A message can be edited only within 15 minutes of sending it."
    assert action_failure_text(ApiError(403, detail), "save the change") == f"Could not save the change: {detail}"
    assert "cannot be reached" in action_failure_text(NetworkError("x"), "delete the message")
    assert action_failure_text(ApiError(500, ""), "delete the message") == "Could not delete the message. Try again."


# ----- frames --------------------------------------------------------------------------------------

def test_message_updated_and_deleted_frames_on_the_chat_socket():
    edited = msg(5, edited_at="2026-12-07T10:01:00Z", content="fixed")
    event, why = classify_server_frame(json.dumps({"type": "message_updated", "message": edited}), 7)
    assert why == "" and isinstance(event, MessageUpdated)
    assert event.message["content"] == "fixed" and event.message["edited_at"] == "2026-12-07T10:01:00Z"
    event, _ = classify_server_frame(json.dumps({"type": "message_deleted", "conversation_id": 7, "message_id": 5}), 7)
    assert event == MessageDeleted(7, 5)


@pytest.mark.parametrize("frame, why", [
    ({"type": "message_updated"}, "message_updated without a valid message"),
    ({"type": "message_updated", "message": {"id": "5"}}, "message_updated without a valid message"),
    ({"type": "message_deleted", "conversation_id": 7}, "message_deleted with a bad conversation_id or message_id"),
    ({"type": "message_deleted", "conversation_id": 7, "message_id": True},
     "message_deleted with a bad conversation_id or message_id"),
    ({"type": "message_deleted", "conversation_id": 8, "message_id": 5}, "message_deleted for another conversation"),
    ({"type": "message_updated", "message": msg(5, cid=8)}, "message_updated for another conversation"),
])
def test_malformed_or_foreign_edit_frames_are_ignored_calmly(frame, why):
    assert classify_server_frame(json.dumps(frame), 7) == (None, why)


def test_the_inbox_carries_edits_of_any_conversation_even_the_carried_one():
    event, _ = classify_inbox_frame(json.dumps({"type": "message_updated", "message": msg(5, cid=9)}), carried=9)
    assert isinstance(event, MessageUpdated) and event.message["conversation_id"] == 9
    event, _ = classify_inbox_frame(json.dumps({"type": "message_deleted", "conversation_id": 9, "message_id": 5}))
    assert event == MessageDeleted(9, 5)


def test_a_deleted_message_from_the_wire_has_no_words_and_no_image_whatever_it_carries():
    parsed = parse_message(msg(5, deleted=True, content="secret", image="/media/x.png"))
    assert parsed["deleted"] is True and parsed["content"] == "" and parsed["image"] is None
    assert "deleted" not in parse_message(msg(5, deleted="yes"))
    assert "edited_at" not in parse_message(msg(5, edited_at=5))


# ----- the log ---------------------------------------------------------------------------------------

def test_an_edit_changes_a_held_message_in_place_and_reports_it_as_updated():
    log = MessageLog([msg(5), msg(6)], conversation_id=7)
    seen = log.revision
    assert log.change_held(msg(5, content="fixed", edited_at="2026-12-07T10:01:00Z"))
    changes = log.changes_since(seen)
    assert changes.updated_ids == (5,) and changes.added_ids == ()
    assert log.get(5)["content"] == "fixed"
    assert not log.change_held(msg(99, content="not loaded"))  # left for its page to bring
    assert 99 not in log


def test_an_edit_keeps_the_read_state_already_known():
    log = MessageLog([msg(5, is_read=True, read_at="2026-12-07T10:00:30Z")])
    log.change_held(msg(5, content="fixed"))  # the frame's copy may be older on is_read
    assert log.get(5)["is_read"] is True and log.get(5)["read_at"] == "2026-12-07T10:00:30Z"


def test_a_delete_blanks_the_message_and_only_moves_forward():
    log = MessageLog([msg(5, image="/media/a.png")], conversation_id=7)
    assert log.mark_deleted(5)
    assert log.get(5)["deleted"] and log.get(5)["content"] == "" and log.get(5)["image"] is None
    assert not log.mark_deleted(5) and not log.mark_deleted(42)
    revision = log.revision
    # A page fetched before the delete, or a late edit frame, does not bring the words back.
    log.merge([msg(5, content="m5")])
    assert not log.change_held(msg(5, content="late edit", edited_at="x"))
    assert log.get(5)["deleted"] and log.revision == revision


def test_a_page_that_missed_the_frames_updates_what_is_held():
    log = MessageLog([msg(5), msg(6)], conversation_id=7)
    seen = log.revision
    added, updated = log.merge([msg(5, content="fixed", edited_at="2026-12-07T10:01:00Z"),
                                parse_message(msg(6, deleted=True))])
    assert added == [] and updated == [5, 6]
    assert log.changes_since(seen).updated_ids == (5, 6)


def test_updaters_leave_a_missing_log_missing():
    cache = QueryCache()
    cache.set_query_data(messages_key(7), with_changed(msg(5)))
    cache.set_query_data(messages_key(7), with_deleted(5))
    assert cache.get_query_data(messages_key(7)) is None


# ----- the session: cached logs and the list's preview ----------------------------------------------

def row(cid, at=SENT, preview="m5"):
    return {"id": cid, "trainer": ME, "trainee": ALEX, "unread_count": 0, "last_message_preview": preview,
            "last_message_at": at, "is_archived": False, "created_at": None}


def session_with(rows):
    cache = QueryCache()
    session = Session(cache, ME, T_SENT)
    session.conversations_loaded(rows, T_SENT, chat_visible=False)
    return session, cache


def preview_of(cache, cid):
    return next(c["last_message_preview"] for c in cache.get_query_data(CONVERSATIONS_KEY) if c["id"] == cid)


def test_an_edit_of_the_last_message_changes_the_preview_and_an_older_one_does_not():
    session, cache = session_with([row(7)])
    cache.set_query_data(messages_key(7), MessageLog([msg(4, at="2026-12-07T09:00:00Z"), msg(5)], conversation_id=7))
    assert session.inbox_events([MessageUpdated(msg(4, at="2026-12-07T09:00:00Z", content="older fixed"))],
                                T_SENT, chat_visible=False) == []
    assert preview_of(cache, 7) == "m5"
    assert cache.get_query_data(messages_key(7)).get(4)["content"] == "older fixed"
    session.inbox_events([MessageUpdated(msg(5, content="last fixed", edited_at=SENT))], T_SENT, chat_visible=False)
    assert preview_of(cache, 7) == "last fixed"


def test_a_delete_of_the_last_message_says_so_in_the_list_and_in_the_held_log():
    session, cache = session_with([row(7)])
    cache.set_query_data(messages_key(7), MessageLog([msg(5)], conversation_id=7))
    assert session.inbox_events([MessageDeleted(7, 5)], T_SENT, chat_visible=False) == []
    assert preview_of(cache, 7) == DELETED_TEXT
    assert cache.get_query_data(messages_key(7)).get(5)["deleted"] is True


def test_a_delete_of_a_message_no_log_holds_asks_for_the_list_once():
    session, cache = session_with([row(7)])
    assert session.inbox_events([MessageDeleted(7, 5)], T_SENT, chat_visible=False) == [Fetch(CONVERSATIONS_KEY)]
    assert preview_of(cache, 7) == "m5"  # unknown here: the list's answer will say
    assert session.inbox_events([MessageDeleted(99, 5)], T_SENT, chat_visible=False) == []  # not ours to show


def test_preview_follows_compares_times_not_spellings_and_keeps_the_list_when_nothing_changes():
    rows = [row(7, at="2026-12-07T10:00:00+00:00")]
    assert preview_follows(rows, msg(5, content="new"))[0]["last_message_preview"] == "new"
    assert preview_follows(rows, msg(5, at="2026-12-07T10:00:01Z")) is rows
    assert preview_follows(rows, msg(5, content="m5")) is rows
    photo = msg(5, content="", image="/media/a.png")
    photo["content"] = ""
    assert preview_follows(rows, photo)[0]["last_message_preview"] == "Photo"


# ----- the open chat's own socket --------------------------------------------------------------------

def test_the_chat_socket_changes_the_open_conversations_messages_in_place():
    from core.open_conversation import OpenConversation
    cache = QueryCache()
    conversation = {"id": 7, "trainer": ME, "trainee": ALEX, "unread_count": 0, "is_archived": False}
    chat = OpenConversation(cache, conversation, ME)
    fetch = chat.open(T_SENT)[-1]
    chat.page_loaded(fetch, {"results": [msg(5), msg(6)], "has_more": False}, T_SENT)
    log = cache.get_query_data(messages_key(7))
    seen = log.revision
    assert chat.socket_events([MessageUpdated(msg(5, content="fixed", edited_at=SENT)), MessageDeleted(7, 6)],
                              T_SENT) == []
    assert log.get(5)["content"] == "fixed" and log.get(6)["deleted"] is True
    assert log.changes_since(seen).updated_ids == (5, 6)
    assert len(log) == 2  # nothing added
