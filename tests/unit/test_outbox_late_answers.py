"""The outbox when answers come late, twice or out of order, at the exact edges of its
timing (the probe backoff as an exact list, a tick just before the retry time), and at its
memory cap of server ids already confirmed."""
from core.outbox import HOLD_DELAYS, RESOLVED_MEMORY, Outbox, SendStatus

ME = 1
CID = 7
T0 = 1_000.0


def mine(mid, content, cmid=None):
    message = {"id": mid, "conversation_id": CID, "content": content, "image": None,
               "sender": {"id": ME, "first_name": "C", "last_name": "C", "profile_image": None}}
    if cmid is not None:
        message["client_message_id"] = cmid
    return message


def box_with(*cmids):
    box = Outbox(CID)
    for n, cmid in enumerate(cmids):
        box.add(f"text {cmid}", cmid, T0 + n)
    return box


def held_box():
    """c-1 posted and unanswered: the box waits for the link."""
    box = box_with("c-1", "c-2")
    box.take_next(T0)
    box.hold("c-1", T0)
    return box


# ----- the probe's backoff and its exact edges --------------------------------------------------


def test_the_probe_waits_2_4_8_16_then_30_s_for_good():
    box, now, waits = box_with("c-1"), T0, []
    box.take_next(now)
    for _ in range(8):
        box.hold("c-1", now)
        waits.append(box.retry_at - now)
        now = box.retry_at
        assert box.take_next(now).client_message_id == "c-1"
    assert waits == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert list(HOLD_DELAYS) == waits[:5]


def test_a_tick_1_ms_before_the_retry_time_sends_nothing_and_at_it_the_oldest_goes():
    box = held_box()
    assert box.next_wakeup() == T0 + 2.0
    assert box.take_next(T0 + 2.0 - 0.001) is None
    probe = box.take_next(T0 + 2.0)
    assert (probe.client_message_id, probe.status) == ("c-1", SendStatus.PENDING)
    assert box.next_wakeup() is None  # the probe is in flight: its outcome sets the next
    assert box.take_next(T0 + 100) is None


def test_the_first_answer_after_a_hold_starts_the_backoff_again_at_2_s():
    box = held_box()
    box.take_next(T0 + 2)
    box.hold("c-1", T0 + 2)  # second miss: 4 s
    assert box.retry_at == T0 + 6
    box.take_next(T0 + 6)
    box.resolve(mine(50, "text c-1", cmid="c-1"), ME)  # answered: the link works
    assert (box.holding, box.retry_at, box.next_wakeup()) == (False, None, None)
    box.take_next(T0 + 7)  # c-2 goes, and gets no answer
    box.hold("c-2", T0 + 7)
    assert box.retry_at == T0 + 9


# ----- answers that come late, twice or out of order -------------------------------------------


def test_no_answer_for_a_message_the_socket_already_confirmed_changes_nothing():
    box = box_with("c-1")
    box.take_next(T0)
    box.resolve(mine(50, "text c-1", cmid="c-1"), ME)  # the socket first
    assert box.hold("c-1", T0) is None
    assert (box.holding, box.retry_at, box.in_flight) == (False, None, None)


def test_a_refusal_without_a_reason_still_marks_the_message_failed():
    box = box_with("c-1")
    box.take_next(T0)
    failed = box.mark_failed("c-1", None)
    assert (failed.status, failed.error) == (SendStatus.FAILED, None)


def test_a_second_refusal_with_another_reason_shows_the_newer_reason():
    box = box_with("c-1")
    box.take_next(T0)
    box.mark_failed("c-1", "Too long.")
    again = box.mark_failed("c-1", "Not allowed.")
    assert box.get("c-1").error == again.error == "Not allowed."


def test_a_held_message_that_is_then_refused_loses_its_clock_mark():
    box = held_box()
    assert box.get("c-2").held_since == T0
    box.mark_failed("c-2", "Refused.")
    assert box.get("c-2").held_since is None and box.get("c-2").to_dict()["held_since"] is None


def test_a_message_retried_while_the_link_is_down_waits_held_with_the_others():
    box = box_with("c-1", "c-2")
    box.take_next(T0)
    box.mark_failed("c-1", "Refused.")
    box.take_next(T0)
    box.hold("c-2", T0)  # the link went down
    again = box.retry("c-1")
    assert (again.status, again.error, again.attempts) == (SendStatus.HELD, None, 2)
    assert box.take_next(T0 + 1) is None  # not before the probe time


def test_a_message_written_while_the_link_is_down_is_held_from_the_moment_it_was_written():
    box = held_box()
    entry = box.add("later", "c-3", T0 + 5)
    assert (entry.status, entry.held_since) == (SendStatus.HELD, T0 + 5)


def test_link_up_makes_held_messages_due_at_once():
    box = held_box()
    assert box.link_up(T0 + 0.5) is True
    assert box.next_wakeup() == T0 + 0.5
    assert box.take_next(T0 + 0.5).client_message_id == "c-1"


# ----- the memory of confirmed server ids: exactly RESOLVED_MEMORY -------------------------------


def confirmed(count):
    """A box that confirmed server ids 1..count (each a sent 'same'), then one more 'same' sent."""
    box = Outbox(CID)
    for mid in range(1, count + 1):
        box.add("same", f"c-{mid}", T0)
        box.resolve(mine(mid, "same"), ME)
    box.add("same", "c-new", T0)
    return box


def test_a_redelivered_message_among_the_last_500_confirmed_confirms_nothing_new():
    box = confirmed(RESOLVED_MEMORY)
    assert box.resolve(mine(1, "same"), ME) is None  # id 1 is remembered
    assert [e.client_message_id for e in box.pending()] == ["c-new"]


def test_the_501st_confirmation_forgets_the_oldest_id():
    box = confirmed(RESOLVED_MEMORY + 1)
    assert box.resolve(mine(2, "same"), ME) is None  # still remembered
    assert box.resolve(mine(1, "same"), ME) == "c-new"  # forgotten: matched by content again
