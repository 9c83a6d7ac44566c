"""Polling that follows the connection: AC-9, AC-13, AC-26, AC-27."""
import math

from core.polling import PollScheduler

MESSAGES = ("messages", 7)
CONVERSATIONS = ("conversations",)
UNREAD = ("unread_count",)


def simulate(scheduler, until, events=None):
    """Drive the scheduler like the adapter's timer would; returns [(key, second)].

    ``events`` maps a second to a function(scheduler, second), applied before
    any poll due at that same second.
    """
    events = dict(events or {})
    requests = []
    while True:
        poll_at = scheduler.next_wakeup()
        event_at = min(events) if events else math.inf
        poll_at = math.inf if poll_at is None else poll_at
        at = min(poll_at, event_at)
        if at > until:
            return requests
        if event_at <= poll_at:
            events.pop(event_at)(scheduler, event_at)
            continue
        requests.extend((key, at) for key in scheduler.due(at))


def times(requests, key):
    return [at for k, at in requests if k == key]


def connected(scheduler, now):
    scheduler.set_realtime(True, now)


def fallen_back(scheduler, now):
    scheduler.set_realtime(False, now)


# -- five simulated minutes ----------------------------------------------------------


def test_ac13_ac26_ac27_five_minutes_connected():
    scheduler = PollScheduler(0, realtime=True, open_conversation_id=7)
    requests = simulate(scheduler, 300)
    assert times(requests, MESSAGES) == []
    assert times(requests, CONVERSATIONS) == [60, 120, 180, 240, 300]
    assert times(requests, UNREAD) == [60, 120, 180, 240, 300]
    assert requests[:2] == [(CONVERSATIONS, 60), (UNREAD, 60)]
    assert len(requests) == 10


def test_ac9_five_minutes_not_connected():
    scheduler = PollScheduler(0, open_conversation_id=7)
    requests = simulate(scheduler, 300)
    assert times(requests, MESSAGES) == list(range(5, 301, 5))
    assert len(times(requests, MESSAGES)) == 60
    assert times(requests, CONVERSATIONS) == list(range(15, 301, 15))
    assert len(times(requests, CONVERSATIONS)) == 20
    assert times(requests, UNREAD) == list(range(30, 301, 30))
    assert len(times(requests, UNREAD)) == 10
    assert requests[:4] == [(MESSAGES, 5), (MESSAGES, 10), (MESSAGES, 15), (CONVERSATIONS, 15)]


def test_ac9_connection_lost_halfway_resumes_fast_polling_at_once():
    scheduler = PollScheduler(0, realtime=True, open_conversation_id=7)
    requests = simulate(scheduler, 300, {150: fallen_back})
    # messages: last fetched at 0, so 0 + 5 is long overdue -> due at 150 itself
    assert times(requests, MESSAGES) == list(range(150, 301, 5))
    # conversations: last polled at 120; 120 + 15 = 135 is overdue -> 150
    assert times(requests, CONVERSATIONS) == [60, 120] + list(range(150, 301, 15))
    # unread: last polled at 120; 120 + 30 = 150
    assert times(requests, UNREAD) == [60, 120] + list(range(150, 301, 30))


def test_ac13_connected_halfway_stops_message_polling_and_stretches_the_rest():
    scheduler = PollScheduler(0, open_conversation_id=7)
    requests = simulate(scheduler, 300, {150: connected})
    assert times(requests, MESSAGES) == list(range(5, 150, 5))
    # conversations last polled at 135: next at 135 + 60
    assert times(requests, CONVERSATIONS) == list(range(15, 150, 15)) + [195, 255]
    # unread last polled at 120: next at 120 + 60
    assert times(requests, UNREAD) == [30, 60, 90, 120, 180, 240, 300]


# -- rules one at a time --------------------------------------------------------------


def test_first_polls_come_one_interval_after_start():
    scheduler = PollScheduler(1000.0, open_conversation_id=7)
    assert scheduler.next_wakeup() == 1005.0
    assert scheduler.due(1004.9) == []
    assert scheduler.due(1005.0) == [MESSAGES]


def test_due_marks_keys_polled_so_they_are_not_due_twice():
    scheduler = PollScheduler(0, open_conversation_id=7)
    assert scheduler.due(30) == [MESSAGES, CONVERSATIONS, UNREAD]
    assert scheduler.due(30) == []
    assert scheduler.next_wakeup() == 35


def test_a_late_wakeup_polls_each_key_once_not_a_burst():
    scheduler = PollScheduler(0, open_conversation_id=7)
    assert scheduler.due(100) == [MESSAGES, CONVERSATIONS, UNREAD]
    assert scheduler.next_wakeup() == 105


def test_interval_change_counts_from_the_last_poll_when_not_overdue():
    scheduler = PollScheduler(0, realtime=True, open_conversation_id=7)
    assert scheduler.due(60) == [CONVERSATIONS, UNREAD]
    scheduler.set_realtime(False, 70)
    # messages overdue (last fetched at 0) -> now; conversations 60 + 15; unread 60 + 30
    assert scheduler.due(70) == [MESSAGES]
    assert scheduler.next_wakeup() == 75
    assert scheduler.due(75) == [MESSAGES, CONVERSATIONS]
    assert scheduler.due(90) == [MESSAGES, CONVERSATIONS, UNREAD]


def test_setting_the_same_realtime_state_changes_nothing():
    scheduler = PollScheduler(0, open_conversation_id=7)
    scheduler.set_realtime(False, 3)
    assert scheduler.next_wakeup() == 5


def test_ac13_messages_are_not_polled_while_connected_even_when_a_conversation_opens():
    scheduler = PollScheduler(0, realtime=True)
    scheduler.set_open_conversation(7, 10)
    assert scheduler.next_wakeup() == 60
    assert scheduler.due(60) == [CONVERSATIONS, UNREAD]


def test_no_message_polling_without_an_open_conversation():
    scheduler = PollScheduler(0)
    requests = simulate(scheduler, 60)
    assert [key for key, _ in requests if key[0] == "messages"] == []


def test_opening_another_conversation_polls_the_new_one_from_its_opening():
    scheduler = PollScheduler(0, open_conversation_id=7)
    scheduler.set_open_conversation(8, 12)
    assert scheduler.open_conversation_id == 8
    assert scheduler.due(15) == [CONVERSATIONS]
    assert scheduler.due(17) == [("messages", 8)]


def test_closing_the_conversation_stops_its_polling():
    scheduler = PollScheduler(0, open_conversation_id=7)
    scheduler.set_open_conversation(None, 1)
    assert scheduler.next_wakeup() == 15
    assert scheduler.due(15) == [CONVERSATIONS]


def test_mark_fetched_resets_that_keys_timer():
    scheduler = PollScheduler(0, open_conversation_id=7)
    scheduler.mark_fetched(CONVERSATIONS, 10)  # e.g. a refetch after a send
    assert scheduler.due(15) == [MESSAGES]
    assert scheduler.due(25) == [MESSAGES, CONVERSATIONS]


def test_edge7_catch_up_fetch_while_connected_resets_the_fallback_timer():
    scheduler = PollScheduler(0, realtime=True, open_conversation_id=7)
    scheduler.mark_fetched(MESSAGES, 100)  # the single refetch on reconnect
    scheduler.set_realtime(False, 102)
    assert scheduler.due(102) == [CONVERSATIONS, UNREAD]  # both overdue since 60
    assert scheduler.next_wakeup() == 105


def test_mark_fetched_of_an_untracked_key_is_ignored():
    scheduler = PollScheduler(0)
    scheduler.mark_fetched(("messages", 99), 3)
    scheduler.mark_fetched(("me",), 3)
    assert scheduler.due(15) == [CONVERSATIONS]
