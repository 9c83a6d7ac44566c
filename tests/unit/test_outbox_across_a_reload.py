"""The outbox across a reload, field by field, and the content match's rules when several
entries say the same thing or none does."""
import json

import pytest

from core.outbox import Outbox, SendStatus

ME = 1
CID = 7
T0 = 1_000.0


def mine(mid, content, sender=None):
    return {"id": mid, "conversation_id": CID, "content": content, "image": None,
            "sender": sender if sender is not None else {"id": ME}}


def stored(**entry):
    base = {"client_message_id": "c-1", "content": "hi", "created_at": T0}
    return json.dumps({"conversation_id": CID, "entries": [dict(base, **entry)]})


def test_a_stored_entry_keeps_its_conversation_attempts_and_the_time_it_was_first_held():
    box = Outbox(CID)
    box.add("hi", "c-1", T0)
    box.take_next(T0)
    box.mark_failed("c-1", "Refused.")
    box.retry("c-1")
    box.take_next(T0 + 1)
    box.hold("c-1", T0 + 1)
    saved = json.loads(box.to_json())["entries"][0]
    assert (saved["conversation_id"], saved["attempts"], saved["held_since"], saved["restored"]) == (CID, 2, T0 + 1, False)
    back = Outbox.from_json(box.to_json()).get("c-1")
    assert (back.conversation_id, back.attempts, back.held_since, back.restored) == (CID, 2, T0 + 1, True)


def test_an_entry_stored_without_attempts_counts_one():
    assert Outbox.from_json(stored(status="held")).get("c-1").attempts == 1


def test_a_held_entry_comes_back_without_any_stored_error_and_a_refused_one_without_an_empty_reason():
    assert Outbox.from_json(stored(status="held", error="old")).get("c-1").error is None
    refused = Outbox.from_json(stored(status="failed", error="")).get("c-1")
    assert (refused.status, refused.error) == (SendStatus.FAILED, None)


def test_a_refused_entry_comes_back_without_a_clock_mark():
    assert Outbox.from_json(stored(status="failed", error="No.", held_since=T0)).get("c-1").held_since is None


def test_storage_that_is_not_an_outbox_says_so():
    with pytest.raises(ValueError, match="^not a stored outbox: "):
        Outbox.from_json('{"entries": []}')


def test_a_client_message_id_used_twice_is_refused_with_the_reason():
    box = Outbox(CID)
    box.add("hi", "c-1", T0)
    with pytest.raises(ValueError, match="^client_message_id already used$"):
        box.add("again", "c-1", T0)


def test_the_content_match_looks_past_entries_that_say_something_else():
    box = Outbox(CID)
    box.add("first", "c-1", T0)
    box.add("second", "c-2", T0)
    assert box.resolve(mine(50, "second"), ME) == "c-2"


def test_the_content_match_looks_past_an_entry_written_after_the_message_and_at_its_id():
    box = Outbox(CID)
    box.add("same", "c-1", T0, after_id=60)
    box.add("same", "c-2", T0)
    assert box.resolve(mine(60, "same"), ME) == "c-2"  # id 60 is not newer than c-1's after_id


def test_a_message_whose_sender_is_not_an_object_confirms_nothing():
    box = Outbox(CID)
    box.add("hi", "c-1", T0)
    assert box.resolve(mine(50, "hi", sender=5), ME) is None


def test_a_probe_keeps_the_time_its_entries_were_first_held_and_the_answer_clears_it():
    box = Outbox(CID)
    box.add("one", "c-1", T0)
    box.add("two", "c-2", T0)
    box.take_next(T0)
    box.hold("c-1", T0)
    probe = box.take_next(T0 + 2)
    assert box.retry_at is None  # the probe is the try
    box.hold("c-1", T0 + 2)
    assert [e.held_since for e in box.pending()] == [T0, T0]
    assert probe.held_since == T0
    box.take_next(T0 + 6)
    box.link_up(T0 + 6.5)  # the server answers something while the probe is in flight
    assert box.next_wakeup() is None
    box.resolve({**mine(51, "one"), "client_message_id": "c-1"}, ME)
    assert [(e.status, e.held_since) for e in box.pending()] == [(SendStatus.PENDING, None)]
    assert box.next_wakeup() is None
