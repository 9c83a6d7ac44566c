"""A planned server restart (close 1012, serve.py's SIGTERM): the page reconnects at once,
spends no backoff attempt, and shows no banner while the restart's grace lasts.

Same fake browser and fake clock as test_ws_hook.py (`World`): no sockets, no sleeps.
"""
import pytest

from core.banner import OutageTracker, banner_for
from core.constants import RESTART_GRACE, RESTART_RETRY_DELAY
from test_ws_hook import S, World, connected_world
from ws_hook import FailReason, GapFill, OpenSocket, RequestToken, StateChanged

SERVICE_RESTART = 1012
RESTART = FailReason.RESTART


def banners(world, until, step=0.25):
    """The banner a page would show at each `step` up to `until` (seconds after T0), fed by
    every StateChanged of the world's timeline up to that moment (core/banner.py)."""
    shown = []
    changes = [(t, a) for t, a in world.timeline if isinstance(a, StateChanged)]
    tracker, state, reason, fed = OutageTracker(), "connected", None, 0
    t = 0.0
    while t <= until:
        while fed < len(changes) and changes[fed][0] <= t:
            _, change = changes[fed]
            state, reason = change.state.value, change.reason.value if change.reason else None
            tracker.on_state(state, changes[fed][0] + 1_700_000_000.0)
            fed += 1
        shown.append((t, banner_for(state, reason, tracker.since, t + 1_700_000_000.0)))
        t = round(t + step, 6)
    return shown


def test_1012_reconnects_at_once_without_a_backoff_step():
    w = connected_world()
    w.at(40)
    w.close(SERVICE_RESTART)
    assert w.times(RequestToken) == [0, 40]  # the token request and the open: at once
    assert w.times(OpenSocket) == [0, 40]
    assert w.states()[-2:] == [(40, S.CONNECTING, RESTART), (40, S.CONNECTED, None)]
    assert w.m.attempt == 0
    assert w.times(GapFill) == [40]  # what the restart's moments missed is fetched once


def test_other_server_closes_still_back_off():
    w = connected_world()
    w.at(40)
    w.close(1001)
    assert w.times(OpenSocket) == [0]
    assert w.states()[-1] == (40, S.DISCONNECTED, None)
    w.at(41)
    assert w.times(OpenSocket) == [0, 41]


def test_while_the_new_server_starts_it_retries_every_half_second_and_spends_no_attempt():
    w = connected_world()
    w.at(40)
    w.server = "refuse"  # the old process is gone, the new one not listening yet
    w.close(SERVICE_RESTART)
    w.at(42.9)
    w.server = "accept"
    w.at(43)
    opens = w.times(OpenSocket)
    assert opens[:3] == [0, 40, 40 + RESTART_RETRY_DELAY]
    assert opens[-1] == 43
    assert all(round(b - a, 6) == RESTART_RETRY_DELAY for a, b in zip(opens[1:], opens[2:]))
    assert {reason for _, state, reason in w.states()[2:-1]} == {RESTART}  # after the first link
    assert w.states()[-1] == (43, S.CONNECTED, None)
    assert w.m.attempt == 0


def test_no_banner_during_a_planned_restart():
    w = connected_world()
    w.at(40)
    w.server = "refuse"
    w.close(SERVICE_RESTART)
    w.at(47.9)
    w.server = "accept"
    w.at(50)
    assert w.states()[-1] == (48, S.CONNECTED, None)
    assert [t for t, shown in banners(w, 50) if shown is not None] == []


def test_the_same_outage_after_1006_shows_the_banner():
    """The check above can fail: an unplanned close with the same timing does show it."""
    w = connected_world()
    w.at(40)
    w.server = "refuse"
    w.close(1006)
    w.at(47.9)
    w.server = "accept"
    w.at(64)
    assert ("reconnecting" in {shown for _, shown in banners(w, 64)})


def test_past_the_grace_it_is_an_ordinary_outage_backoff_and_banner_at_once():
    w = connected_world()
    w.at(40)
    w.server = "refuse"
    w.close(SERVICE_RESTART)
    end = 40 + RESTART_GRACE
    w.at(end + 1 + 2 + 0.5)
    opens = w.times(OpenSocket)
    during = [t for t in opens if 40 <= t < end]
    after = [t for t in opens if t >= end]
    assert len(during) == int(RESTART_GRACE / RESTART_RETRY_DELAY)
    assert after == [end, end + 1, end + 1 + 2]  # the usual 1, 2, 4... s from the first try past it
    assert w.m.attempt == 3
    shown = dict(banners(w, end + 3))
    assert shown[end - 0.25] is None
    assert shown[end] == "reconnecting"  # the outage began at 40: far past the banner's grace


def test_a_server_that_accepts_and_closes_1012_at_once_gets_one_fast_retry_then_backoff():
    w = World(server="accept_then_close")
    w.close_code = SERVICE_RESTART
    w.start()
    w.at(3)
    assert w.times(OpenSocket) == [0, 0, 1, 3]
    assert w.m.attempt == 3


def test_one_fast_path_per_grace():
    w = connected_world()
    w.at(40)
    w.close(SERVICE_RESTART)
    w.at(50)
    w.close(SERVICE_RESTART)  # a second restart 10 s later: the ordinary backoff
    w.at(51)
    w.at(40 + RESTART_GRACE + 10)
    w.close(SERVICE_RESTART)  # past the grace: at once again
    assert w.times(OpenSocket) == [0, 40, 51, 40 + RESTART_GRACE + 10]


@pytest.mark.parametrize("code", [4001, 4003])
def test_auth_and_forbidden_during_the_restart_keep_their_rules(code):
    w = connected_world()
    w.at(40)
    w.server = "accept_then_close"
    w.close_code = code
    w.close(SERVICE_RESTART)
    w.at(45)
    if code == 4003:
        assert w.states()[-1] == (40, S.FAILED, FailReason.FORBIDDEN)
    else:
        assert w.times(RequestToken, force_refresh=True) == [40]
        assert w.states()[-1] == (40, S.FAILED, FailReason.AUTH)


def test_stop_during_the_restart_ends_it():
    w = connected_world()
    w.at(40)
    w.server = "refuse"
    w.close(SERVICE_RESTART)
    w.stop()
    w.at(60)
    assert w.times(OpenSocket)[-1] == 40
    assert w.m.next_wakeup() is None
