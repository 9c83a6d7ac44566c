"""Held sends of closed conversations when answers come late, twice, or for a send that is no
longer the one in flight; and probes of several conversations falling due in one tick."""
import json

from core.api_client import ApiError, NetworkError
from core.held_sends import HeldSends, MessageSent, PostHeld
from core.open_conversation import UNREADABLE_ANSWER, StoreOutbox, outbox_storage_key
from core.outbox import HOLD_DELAYS, Outbox

ME = 1
A, B = 7, 8
T0 = 1_000.0


def msg(mid, content, cmid=None, cid=A):
    message = {"id": mid, "conversation_id": cid,
               "sender": {"id": ME, "first_name": "C", "last_name": "C", "profile_image": None},
               "content": content, "image": None, "is_read": False, "read_at": None,
               "created_at": "2024-03-01T12:00:00Z"}
    if cmid is not None:
        message["client_message_id"] = cmid
    return message


def held_outbox(*texts, cid=A):
    """What storage kept of a conversation whose sends got no answer: c-1, c-2 ... held."""
    box = Outbox(cid)
    for n, text in enumerate(texts, start=1):
        box.add(text, f"c-{n}", T0 + n)
    box.take_next(T0)
    box.hold("c-1", T0)
    return box.to_json()


def sending(*texts):
    """HeldSends with the server answering again: c-1 is in flight."""
    held = HeldSends(ME)
    held.restore({A: held_outbox(*texts)}, T0)
    assert held.server_heard(T0) == [PostHeld(A, "c-1", texts[0], None)]
    return held


def test_probes_of_two_conversations_due_in_the_same_tick_both_go_and_store_nothing():
    held = HeldSends(ME)
    held.restore({A: held_outbox("a"), B: held_outbox("b", cid=B)}, T0)
    held.server_heard(T0)
    held.send_failed(A, "c-1", NetworkError("offline"), T0)
    held.send_failed(B, "c-1", NetworkError("offline"), T0)
    due = T0 + HOLD_DELAYS[0]
    assert held.tick(due - 0.001) == []
    assert sorted(held.tick(due), key=lambda e: e.conversation_id) == [
        PostHeld(A, "c-1", "a", None), PostHeld(B, "c-1", "b", None)]


def test_an_answer_without_the_echoed_id_confirms_the_send_it_answers():
    held = sending("hello")
    answer = msg(50, "hello")  # a server that does not echo client_message_id
    assert held.send_answered(A, "c-1", answer, T0) == [
        MessageSent(A, answer), StoreOutbox(outbox_storage_key(ME, A), None)]
    assert held.conversations() == []


def test_an_answer_confirms_its_own_send_not_an_older_refused_one_that_says_the_same():
    held = sending("ok", "ok")
    held.send_failed(A, "c-1", ApiError(400, "Refused."), T0)  # c-1 refused; c-2 goes
    effects = held.send_answered(A, "c-2", msg(51, "ok"), T0)
    assert MessageSent(A, msg(51, "ok")) in effects
    assert [e.client_message_id for e in held.outbox(A).pending()] == ["c-1"]


def test_an_unreadable_2xx_is_stored_as_refused_and_the_next_one_goes():
    held = sending("one", "two")
    effects = held.send_answered(A, "c-1", {"not": "a message"}, T0)
    stored = json.loads(effects[0].text)["entries"]
    assert [(e["client_message_id"], e["status"], e["error"]) for e in stored] == [
        ("c-1", "failed", UNREADABLE_ANSWER), ("c-2", "pending", None)]
    assert effects[1:] == [PostHeld(A, "c-2", "two", None)]


def test_an_unreadable_2xx_for_a_send_already_settled_does_nothing():
    held = sending("one", "two")
    held.send_answered(A, "c-1", msg(50, "one", cmid="c-1"), T0)  # c-2 now in flight
    assert held.send_answered(A, "c-1", {"not": "a message"}, T0) == []


def test_a_repeated_answer_while_the_outbox_waits_for_the_link_posts_and_stores_nothing():
    held = sending("one", "two")
    held.send_answered(A, "c-1", msg(50, "one", cmid="c-1"), T0)  # c-2 goes
    held.send_failed(A, "c-2", NetworkError("offline"), T0 + 1)  # and gets no answer: held
    assert held.send_answered(A, "c-1", msg(50, "one", cmid="c-1"), T0 + 1.5) == []
    assert held.next_wakeup() == T0 + 1 + HOLD_DELAYS[0]

