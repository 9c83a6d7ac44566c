"""AC-28 mark-read calls: immediate for a lone message, coalesced in a stream."""
import pytest

from core.read_marker import ReadMarker


def test_a_lone_message_is_marked_read_at_once():
    marker = ReadMarker(interval=1.0)
    assert marker.request(100.0) is True
    assert marker.in_flight


def test_requests_while_a_call_is_in_flight_become_one_trailing_call():
    marker = ReadMarker(interval=1.0)
    assert marker.request(100.0)
    assert marker.request(100.1) is False
    assert marker.request(100.2) is False
    # The call comes back after the interval: the trailing call starts at once.
    assert marker.finished(101.5) is True
    assert marker.finished(101.7) is False  # nothing waited after that


def test_a_stream_makes_one_call_per_interval():
    marker = ReadMarker(interval=1.0)
    starts = []
    t = 100.0
    in_flight_until = None
    # 20 messages a second for 3 seconds; each call takes 30 ms.
    while t < 103.0:
        if in_flight_until is not None and t >= in_flight_until:
            in_flight_until = None
            if marker.finished(t):
                starts.append(round(t, 2))
                in_flight_until = t + 0.03
        wake = marker.next_wakeup()
        if wake is not None and t >= wake and marker.tick(t):
            starts.append(round(t, 2))
            in_flight_until = t + 0.03
        if marker.request(t):
            starts.append(round(t, 2))
            in_flight_until = t + 0.03
        t = round(t + 0.05, 2)
    assert starts == [100.0, 101.0, 102.0]


def test_next_wakeup_is_the_end_of_the_interval_only_when_something_waits():
    marker = ReadMarker(interval=1.0)
    assert marker.next_wakeup() is None
    marker.request(100.0)
    marker.request(100.3)
    assert marker.next_wakeup() is None        # in flight: finished() decides
    assert marker.finished(100.1) is False     # came back early: wait for the interval
    assert marker.next_wakeup() == 101.0
    assert marker.tick(100.9) is False
    assert marker.tick(101.0) is True
    assert marker.next_wakeup() is None


def test_a_failed_call_still_lets_the_next_one_go():
    marker = ReadMarker(interval=1.0)
    marker.request(100.0)
    marker.finished(100.2)  # failed: the owner reports it the same way
    assert marker.request(101.2) is True


def test_cancel_forgets_a_waiting_request():
    marker = ReadMarker(interval=1.0)
    marker.request(100.0)
    marker.finished(100.1)
    marker.request(100.2)
    marker.cancel()
    assert marker.next_wakeup() is None
    assert marker.tick(102.0) is False


def test_zero_interval_only_coalesces_while_in_flight():
    marker = ReadMarker(interval=0.0)
    assert marker.request(1.0)
    assert not marker.request(1.0)
    assert marker.finished(1.0)


def test_negative_interval_is_refused():
    with pytest.raises(ValueError):
        ReadMarker(interval=-1)
