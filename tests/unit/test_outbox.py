"""Optimistic sends: shown at once, confirmed once, retried without duplicates."""
import json

import pytest

from core.message_log import MessageLog
from core.outbox import NOT_SENT_AFTER_RELOAD, Outbox, PendingMessage, SendStatus

ME = 1
ALEX = 2
CID = 7


def server_message(mid, content, sender=ME, cmid=None, image=None):
    message = {
        "id": mid,
        "conversation_id": CID,
        "sender": {"id": sender, "first_name": "C", "last_name": "C", "profile_image": None},
        "content": content,
        "image": image,
        "is_read": False,
        "read_at": None,
        "created_at": "2024-03-01T12:00:00Z",
    }
    if cmid is not None:
        message["client_message_id"] = cmid
    return message


def cmids(box):
    return [entry.client_message_id for entry in box.pending()]


# -- add -------------------------------------------------------------------------------


def test_a_sent_message_shows_at_once_as_pending():
    box = Outbox(CID)
    entry = box.add("See you at 6", "c-1", now=100.0)
    assert entry == PendingMessage(
        client_message_id="c-1", conversation_id=CID, content="See you at 6", created_at=100.0
    )
    assert entry.status is SendStatus.PENDING
    assert box.pending() == [entry]


def test_pending_lists_entries_in_the_order_written():
    box = Outbox(CID)
    box.add("a", "c-1", 1.0)
    box.add("b", "c-2", 2.0)
    box.add("c", "c-3", 3.0)
    assert cmids(box) == ["c-1", "c-2", "c-3"]


def test_the_same_client_message_id_cannot_be_added_twice():
    box = Outbox(CID)
    box.add("a", "c-1", 1.0)
    with pytest.raises(ValueError):
        box.add("a", "c-1", 2.0)


# -- resolve: answer or socket, whichever comes first, never twice ----------------------


def test_edge6_socket_first_then_send_answer_resolves_once():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    assert box.resolve(server_message(41, "hi", cmid="c-1"), ME) == "c-1"
    assert box.pending() == []
    assert box.resolve(server_message(41, "hi", cmid="c-1"), ME) is None


def test_edge6_send_answer_first_then_socket_resolves_once_without_echoed_id():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    assert box.resolve(server_message(41, "hi"), ME, client_message_id="c-1") == "c-1"
    # the socket's copy of 41 carries no client_message_id; it must not eat anything else
    box.add("hi", "c-2", 2.0)
    assert box.resolve(server_message(41, "hi"), ME) is None
    assert cmids(box) == ["c-2"]


def test_a_hint_never_lets_the_other_partys_message_confirm_ours():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    assert box.resolve(server_message(40, "yo", sender=ALEX), ME, client_message_id="c-1") is None
    assert box.resolve(server_message(41, "hi"), ME, client_message_id="c-1") == "c-1"


def test_without_an_echoed_id_the_oldest_entry_with_the_same_content_is_resolved():
    box = Outbox(CID)
    box.add("ok", "c-1", 1.0)
    box.add("other", "c-2", 2.0)
    box.add("ok", "c-3", 3.0)
    assert box.resolve(server_message(50, "ok"), ME) == "c-1"
    assert box.resolve(server_message(51, "ok"), ME) == "c-3"
    assert cmids(box) == ["c-2"]


def test_content_match_ignores_whitespace_the_server_trimmed():
    box = Outbox(CID)
    box.add("  hi there \n", "c-1", 1.0)
    assert box.resolve(server_message(50, "hi there"), ME) == "c-1"


def test_content_match_needs_the_sender_to_be_me():
    box = Outbox(CID)
    box.add("ok", "c-1", 1.0)
    assert box.resolve(server_message(50, "ok", sender=ALEX), ME) is None
    assert cmids(box) == ["c-1"]


def test_content_match_needs_the_same_image_ness():
    box = Outbox(CID)
    box.add("", "c-img", 1.0, image_name="squat.jpg")
    box.add("", "c-txt", 2.0)
    assert box.resolve(server_message(50, "", image="/media/squat.jpg"), ME) == "c-img"
    assert cmids(box) == ["c-txt"]


def test_content_match_skips_messages_older_than_the_entry():
    box = Outbox(CID)
    box.add("ok", "c-1", 1.0, after_id=100)
    assert box.resolve(server_message(90, "ok"), ME) is None  # last week's "ok"
    assert box.resolve(server_message(101, "ok"), ME) == "c-1"


def test_an_echoed_id_that_is_not_ours_resolves_nothing():
    box = Outbox(CID)
    box.add("ok", "c-1", 1.0)
    assert box.resolve(server_message(50, "ok", cmid="other-tab"), ME) is None
    assert cmids(box) == ["c-1"]


def test_a_failed_message_the_server_stored_after_all_is_resolved():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    box.mark_failed("c-1", "timeout")
    assert box.resolve(server_message(41, "hi", cmid="c-1"), ME) == "c-1"
    assert box.retry("c-1") is None


def test_confirmed_client_message_id_cannot_be_reused():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    box.resolve(server_message(41, "hi", cmid="c-1"), ME)
    with pytest.raises(ValueError):
        box.add("hi", "c-1", 2.0)


# -- failure and retry -------------------------------------------------------------------


def test_a_failed_send_stays_visible_as_failed_with_its_detail():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    entry = box.mark_failed("c-1", "Network error")
    assert (entry.status, entry.error) == (SendStatus.FAILED, "Network error")
    assert box.pending() == [entry]


def test_a_failure_reported_after_the_socket_delivered_the_message_is_ignored():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    box.resolve(server_message(41, "hi", cmid="c-1"), ME)
    assert box.mark_failed("c-1", "connection reset") is None
    assert box.pending() == []


def test_retry_reuses_the_client_message_id_and_is_pending_again():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    box.mark_failed("c-1", "boom")
    again = box.retry("c-1")
    assert (again.client_message_id, again.status, again.error, again.attempts) == (
        "c-1",
        SendStatus.PENDING,
        None,
        2,
    )
    assert cmids(box) == ["c-1"]


def test_a_double_tap_on_retry_sends_only_once():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    box.mark_failed("c-1", "boom")
    assert box.retry("c-1") is not None
    assert box.retry("c-1") is None


def test_retrying_a_resolved_or_unknown_message_returns_none():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    box.resolve(server_message(41, "hi", cmid="c-1"), ME)
    assert box.retry("c-1") is None
    assert box.retry("nope") is None


def test_discard_removes_a_failed_message_but_not_one_in_flight():
    box = Outbox(CID)
    box.add("a", "c-1", 1.0)
    box.add("b", "c-2", 2.0)
    box.mark_failed("c-1", "boom")
    assert box.discard("c-1").client_message_id == "c-1"
    assert box.discard("c-2") is None
    assert cmids(box) == ["c-2"]


# -- surviving a reload ------------------------------------------------------------------


def test_reload_brings_every_unsent_message_back_as_not_sent():
    box = Outbox(CID)
    box.add("first", "c-1", 1.0, after_id=10)
    box.add("second", "c-2", 2.0)
    box.mark_failed("c-2", "boom")
    restored = Outbox.from_json(box.to_json())
    assert restored.conversation_id == CID
    assert cmids(restored) == ["c-1", "c-2"]
    assert [e.status for e in restored.pending()] == [SendStatus.FAILED, SendStatus.FAILED]
    assert [e.error for e in restored.pending()] == [NOT_SENT_AFTER_RELOAD] * 2
    first = restored.get("c-1")
    assert (first.content, first.created_at, first.after_id, first.restored) == ("first", 1.0, 10, True)


def test_reload_never_sends_by_itself_and_a_retry_sends_it_exactly_once():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    restored = Outbox.from_json(box.to_json())
    assert [e for e in restored.pending() if e.status is SendStatus.PENDING] == []
    resend = restored.retry("c-1")
    assert resend.client_message_id == "c-1"
    assert restored.retry("c-1") is None


def test_reload_reconcile_drops_messages_the_server_stored_before_the_reload():
    box = Outbox(CID)
    box.add("stored", "c-1", 1.0, after_id=10)
    box.add("lost", "c-2", 2.0, after_id=10)
    restored = Outbox.from_json(box.to_json())
    page = [server_message(9, "lost"), server_message(11, "stored"), server_message(12, "hi", sender=ALEX)]
    assert restored.reconcile(page, ME) == ["c-1"]
    assert cmids(restored) == ["c-2"]


def test_an_image_entry_restored_after_reload_is_flagged_for_the_adapter():
    box = Outbox(CID)
    box.add("", "c-1", 1.0, image_name="squat.jpg")
    restored = Outbox.from_json(box.to_json()).get("c-1")
    assert (restored.image_name, restored.restored) == ("squat.jpg", True)


def test_to_json_is_plain_json_with_string_statuses():
    box = Outbox(CID)
    box.add("hi", "c-1", 1.0)
    data = json.loads(box.to_json())
    assert data["conversation_id"] == CID
    assert data["entries"][0]["status"] == "pending"
    assert data["entries"][0]["client_message_id"] == "c-1"


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"entries": []}', '{"conversation_id": 7, "entries": [{}]}'])
def test_corrupt_storage_raises_value_error(text):
    with pytest.raises(ValueError):
        Outbox.from_json(text)


def test_outbox_and_log_together_show_a_sent_message_once():
    """The view shows log messages plus outbox entries; a send must never appear twice."""
    log = MessageLog(conversation_id=CID)
    box = Outbox(CID)

    def shown():
        return [m["content"] for m in log] + [e.content for e in box.pending()]

    box.add("hi", "c-1", 1.0, after_id=log.last_id)
    assert shown() == ["hi"]
    delivered = server_message(41, "hi")  # socket first, no echoed id
    log.merge([delivered])
    box.resolve(delivered, ME)
    assert shown() == ["hi"]
    answer = server_message(41, "hi")  # then the HTTP answer
    log.merge([answer])
    box.resolve(answer, ME, client_message_id="c-1")
    assert shown() == ["hi"]
