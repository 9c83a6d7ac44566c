"""The link's heartbeat (core/heartbeat.py, AC-7) and a planned restart's grace
(core/planned_restart.py), on their own; the connection machine's tests cover them in use."""
from core.constants import PING_INTERVAL, PONG_TIMEOUT, RESTART_GRACE
from core.heartbeat import Heartbeat
from core.planned_restart import PlannedRestart

T0 = 1_700_000_000.0


def started():
    beat = Heartbeat()
    beat.start(T0)
    return beat


def test_the_first_ping_is_due_an_interval_after_the_open():
    beat = started()
    assert not beat.ping_due(T0 + PING_INTERVAL - 0.001)
    assert beat.ping_due(T0 + PING_INTERVAL)
    assert beat.dead_because(T0 + PING_INTERVAL, visible=True) is None


def test_a_pong_missing_past_its_deadline_kills_the_link_and_a_pong_in_time_keeps_it():
    beat = started()
    beat.sent(T0 + PING_INTERVAL)
    assert beat.awaiting_pong and not beat.ping_due(T0 + 2 * PING_INTERVAL)
    assert beat.dead_because(T0 + PING_INTERVAL + PONG_TIMEOUT - 0.001, visible=True) is None
    assert beat.dead_because(T0 + PING_INTERVAL + PONG_TIMEOUT, visible=True) == "no pong within 5 s"
    beat.pong()
    assert not beat.awaiting_pong and beat.dead_because(T0 + PING_INTERVAL + PONG_TIMEOUT, visible=True) is None


def test_a_stalled_timer_is_death_while_visible_and_only_a_late_ping_while_hidden():
    late = T0 + PING_INTERVAL + PONG_TIMEOUT
    assert started().dead_because(late, visible=True) == "heartbeat timer stalled (the machine was asleep)"
    hidden = started()
    assert hidden.dead_because(late, visible=False) is None and hidden.ping_due(late)


def test_stopped_it_asks_for_nothing():
    beat = started()
    beat.stop()
    assert beat.deadlines() == (None, None) and not beat.ping_due(T0 + 10 * PING_INTERVAL)


def test_a_restart_grace_lasts_its_time_and_one_begins_at_most_once_per_grace():
    restart = PlannedRestart()
    assert not restart.active(T0)
    assert restart.begin(T0) and restart.active(T0 + RESTART_GRACE - 0.001)
    assert not restart.begin(T0 + RESTART_GRACE - 0.001)  # a fast loop is not let in
    assert not restart.active(T0 + RESTART_GRACE)
    assert restart.begin(T0 + RESTART_GRACE)
    restart.end()
    assert not restart.active(T0 + RESTART_GRACE)
