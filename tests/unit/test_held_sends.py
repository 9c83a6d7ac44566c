"""Held sends of conversations that are not open (issue 13 point 2): they go when the server
answers again, in order, one at a time, once each, with the open chat's hold rules."""
import json

import pytest

from core.api_client import ApiError, NetworkError
from core.held_sends import HeldSends, MessageSent, PostHeld, stored_conversation_id
from core.open_conversation import (NOT_SENT, UNREADABLE_ANSWER, OpenConversation, PostMessage,
                                    StoreOutbox, outbox_storage_key)
from core.outbox import HOLD_DELAYS, IMAGE_LOST_ON_RELOAD, Outbox, SendStatus
from core.ws_events import InboxReadReceipt, NewMessage
from query_cache import QueryCache, messages_key

ME = {"id": 1, "first_name": "Coach", "last_name": "C", "role": "trainer"}
ALEX = 2
A, B = 7, 8
T0 = 1_000.0


def conversation(cid=A):
    return {"id": cid, "participants": [ME, {"id": ALEX, "first_name": "Alex", "last_name": "A"}],
            "last_message": None, "unread_count": 0, "is_archived": False,
            "updated_at": "2024-03-01T12:00:00Z"}


def msg(mid, content, sender=1, cmid=None, cid=A):
    return {"id": mid, "conversation_id": cid,
            "sender": {"id": sender, "first_name": "C", "last_name": "C", "profile_image": None},
            "content": content, "image": None, "is_read": False, "read_at": None,
            "created_at": "2024-03-01T12:00:00Z", "client_message_id": cmid}


def stored(*texts, cid=A, held=True, failed=None):
    """What the open chat left in storage: entries c-1, c-2 ... held (or one refused)."""
    box = Outbox(cid)
    for n, text in enumerate(texts, start=1):
        box.add(text, f"c-{n}", T0 + n)
    if held:
        box.take_next(T0)
        box.hold("c-1", T0)
    if failed:
        box.mark_failed(failed, "Refused.")
    return box.to_json()


def posts(effects):
    return [(e.conversation_id, e.client_message_id) for e in effects if isinstance(e, PostHeld)]


def restored(*texts, cid=A):
    held = HeldSends(ME["id"])
    assert held.restore({cid: stored(*texts, cid=cid)}, T0) == []
    return held


# ----- nothing goes before the server answers; then oldest first, one at a time ----------------


def test_restored_held_sends_wait_for_the_server_then_go_oldest_first_one_at_a_time():
    held = restored("one", "two")
    assert held.next_wakeup() is None  # no probe of its own: waits to hear the server
    assert held.tick(T0 + 600) == []
    first = held.server_heard(T0 + 10)
    assert first == [PostHeld(A, "c-1", "one", None)]
    assert held.server_heard(T0 + 11) == []  # one in flight: nothing more
    answered = held.send_answered(A, "c-1", msg(50, "one", cmid="c-1"), T0 + 12)
    assert answered[0] == MessageSent(A, msg(50, "one", cmid="c-1"))
    stored_now = json.loads(answered[1].text)
    assert answered[1].key == outbox_storage_key(1, A)
    assert [e["client_message_id"] for e in stored_now["entries"]] == ["c-2"]
    assert answered[2:] == [PostHeld(A, "c-2", "two", None)]
    done = held.send_answered(A, "c-2", msg(51, "two", cmid="c-2"), T0 + 13)
    assert done == [MessageSent(A, msg(51, "two", cmid="c-2")), StoreOutbox(outbox_storage_key(1, A), None)]
    assert held.conversations() == []


def test_each_conversation_sends_its_own_in_order_and_a_repeat_answer_sends_nothing_twice():
    held = HeldSends(ME["id"])
    held.restore({A: stored("a1", "a2", cid=A), B: stored("b1", cid=B)}, T0)
    assert sorted(posts(held.server_heard(T0))) == [(A, "c-1"), (B, "c-1")]
    assert posts(held.send_answered(A, "c-1", msg(60, "a1", cmid="c-1"), T0)) == [(A, "c-2")]
    # The same answer again (the server's copy of c-1 a second time) posts nothing.
    assert posts(held.send_answered(A, "c-1", msg(60, "a1", cmid="c-1"), T0)) == []


# ----- the open chat's hold rules --------------------------------------------------------------


@pytest.mark.parametrize("error", [NetworkError("TypeError"), ApiError(503, "Down"), TimeoutError()])
def test_no_answer_or_a_5xx_keeps_it_held_and_probes_on_the_outbox_backoff(error):
    held = restored("one", "two")
    held.server_heard(T0)
    effects = held.send_failed(A, "c-1", error, T0)
    assert posts(effects) == []
    assert [e.status for e in held.outbox(A).pending()] == [SendStatus.HELD, SendStatus.HELD]
    assert held.next_wakeup() == T0 + HOLD_DELAYS[0]
    assert held.tick(T0 + HOLD_DELAYS[0] - 0.1) == []
    assert posts(held.tick(T0 + HOLD_DELAYS[0])) == [(A, "c-1")]  # the oldest, same id
    held.send_failed(A, "c-1", error, T0 + HOLD_DELAYS[0])
    assert held.next_wakeup() == T0 + HOLD_DELAYS[0] + HOLD_DELAYS[1]


def test_a_refusal_is_stored_failed_with_the_servers_reason_and_the_next_one_goes():
    held = restored("too long", "fine")
    held.server_heard(T0)
    effects = held.send_failed(A, "c-1", ApiError(400, "Content is too long."), T0)
    entries = json.loads(effects[0].text)["entries"]
    assert (entries[0]["status"], entries[0]["error"]) == ("failed", "Content is too long.")
    assert posts(effects) == [(A, "c-2")]
    held.send_answered(A, "c-2", msg(70, "fine", cmid="c-2"), T0)
    # The refused one stays in storage; opening the conversation shows "Not sent: <reason>" + Retry.
    box, _ = held.take(A)
    chat = OpenConversation(QueryCache(), conversation(), ME, handed=(box, {}))
    [entry] = chat.outbox.pending()
    assert (entry.status, entry.error) == (SendStatus.FAILED, "Content is too long.")
    assert chat.retry("c-1", T0)[-1] == PostMessage("c-1", "too long", None)


def test_a_refusal_without_a_detail_says_not_sent_and_an_unreadable_2xx_says_so():
    held = restored("one", "two")
    held.server_heard(T0)
    held.send_failed(A, "c-1", ApiError(403, ""), T0)
    assert held.outbox(A).get("c-1").error == NOT_SENT
    held.send_answered(A, "c-2", {"not": "a message"}, T0)
    assert held.outbox(A).get("c-2").error == UNREADABLE_ANSWER


# ----- one owner at a time: the open chat takes, closing gives back ------------------------------


def test_opening_the_conversation_takes_its_entries_and_the_answer_in_flight_goes_to_the_chat():
    held = restored("one", "two")
    held.server_heard(T0)  # c-1 in flight here
    handed = held.take(A)
    assert held.conversations() == [] and held.server_heard(T0) == [] and held.take(A) is None
    cache = QueryCache()
    chat = OpenConversation(cache, conversation(), ME, handed=handed)
    first = chat.open(T0)[-1]
    # The server is heard, but c-1 is still in flight: the chat posts nothing (no second c-1).
    heard = chat.page_loaded(first, {"results": [], "has_more": False}, T0)
    heard += chat.socket_state("connected", None, T0)
    heard += chat.tick(T0 + 60)
    assert [e for e in heard if isinstance(e, PostMessage)] == []
    assert [e.client_message_id for e in chat.outbox.pending()] == ["c-1", "c-2"]
    effects = chat.send_answered("c-1", msg(80, "one", cmid="c-1"), T0)
    assert [e for e in effects if isinstance(e, PostMessage)] == [PostMessage("c-2", "two", None)]
    assert cache.get_query_data(messages_key(A)).ids() == (80,)


def test_closing_the_conversation_gives_its_entries_back_with_the_one_in_flight_and_its_file():
    held = HeldSends(ME["id"])
    chat = OpenConversation(QueryCache(), conversation(), ME)
    chat.open(T0)
    photo = object()
    chat.send("", "c-1", T0, image_name="squat.jpg", attachment=photo)
    chat.send("later", "c-2", T0)
    chat.close(T0)
    assert held.give_back(*chat.hand_over(), T0) == []  # c-1 is still in flight
    # Its answer now comes here; the next goes from here, with nothing sent twice.
    effects = held.send_answered(A, "c-1", msg(90, "", cmid="c-1"), T0)
    assert posts(effects) == [(A, "c-2")]
    assert isinstance(effects[0], MessageSent)


def test_a_held_file_travels_with_its_outbox_and_goes_with_the_resend():
    held = HeldSends(ME["id"])
    chat = OpenConversation(QueryCache(), conversation(), ME)
    chat.open(T0)
    photo = object()
    chat.send("", "c-1", T0, image_name="squat.jpg", attachment=photo)
    chat.send_failed("c-1", NetworkError("TypeError"), T0)
    chat.close(T0)
    held.give_back(*chat.hand_over(), T0)
    assert held.server_heard(T0 + 1) == [PostHeld(A, "c-1", "", photo)]


def test_an_image_send_restored_after_a_reload_stays_failed_with_the_reason_and_is_not_posted():
    box = Outbox(A)
    box.add("", "c-1", T0, image_name="squat.jpg")
    held = HeldSends(ME["id"])
    held.restore({A: box.to_json()}, T0)
    assert held.server_heard(T0) == []
    assert held.outbox(A).get("c-1").error == IMAGE_LOST_ON_RELOAD


def test_storage_that_is_not_an_outbox_or_names_another_conversation_is_ignored():
    held = HeldSends(ME["id"])
    held.restore({A: "{not json", B: stored("x", cid=A)}, T0)
    assert held.conversations() == [] and held.server_heard(T0) == []


@pytest.mark.parametrize("key, expected", [
    ("outbox:1:7", 7), ("outbox:2:7", None), ("outbox:1:", None), ("outbox:1:7x", None),
    ("outbox:1:٣", None), ("draft:1:7", None), (None, None)])
def test_only_my_outbox_keys_name_a_conversation(key, expected):
    assert stored_conversation_id(key, 1) == expected


# ----- the inbox feeds the open chat while its own socket is down --------------------------------


def test_the_inbox_brings_the_open_chats_messages_and_ticks_only_while_its_socket_is_down():
    cache = QueryCache()
    chat = OpenConversation(cache, conversation(), ME)
    first = chat.open(T0)[-1]
    chat.page_loaded(first, {"results": [msg(1, "mine")], "has_more": False}, T0)
    other = msg(2, "from Alex", sender=ALEX)
    elsewhere = msg(3, "other chat", sender=ALEX, cid=B)
    chat.socket_state("reconnecting", None, T0)
    chat.inbox_events([NewMessage(other), NewMessage(elsewhere), InboxReadReceipt(B, ALEX, "2024-03-01T12:01:00Z")], T0)
    log = cache.get_query_data(messages_key(A))
    assert log.ids() == (1, 2) and log.get(1)["is_read"] is False  # the other chat's receipt: not ours
    chat.inbox_events([InboxReadReceipt(A, ALEX, "2024-03-01T12:01:00Z")], T0)
    assert cache.get_query_data(messages_key(A)).get(1)["is_read"] is True
    chat.socket_state("connected", None, T0)
    assert chat.inbox_events([NewMessage(msg(4, "live", sender=ALEX))], T0) == []
    assert cache.get_query_data(messages_key(A)).ids() == (1, 2)
