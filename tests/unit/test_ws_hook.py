"""The WebSocket connection machine (SPEC AC-1..AC-10, edge cases 1-7 and 10-12, error table).

No sockets, no timers, no sleeps: a fake clock and a scripted fake adapter (`World`) drive
`ConnectionMachine` and the tests assert the exact actions and the exact times they happen.
"""
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.ws_events import NewMessage, ReadReceipt, TypingIndicator
from ws_hook import (
    ALLOWED_TRANSITIONS, CloseSocket, ConnectionMachine, ConnectionState, Dispatch, FailReason,
    GapFill, Log, OpenSocket, RequestToken, SendFrame, StateChanged,
)

S = ConnectionState
T0 = 1_700_000_000.0  # wall-clock seconds; tests speak in seconds after T0
CID = 1
PING = '{"type": "ping"}'
PONG = '{"type": "pong"}'


def url_for(token):
    return f"wss://example.test/ws/messaging/{CID}/?token={token}"


def nolog(actions):
    return [a for a in actions if not isinstance(a, Log)]


def sender(uid=2):
    return {"id": uid, "first_name": "Alex", "last_name": "Runner", "profile_image": None}


def message(mid=10, cid=CID):
    return {"id": mid, "conversation_id": cid, "sender": sender(), "content": "hi", "image": None,
            "is_read": False, "read_at": None, "created_at": "2024-01-01T10:00:00Z"}


class World:
    """A fake browser adapter on a fake clock: carries out every action the machine returns
    and answers the way the scripted token manager and server would."""

    def __init__(self, server="accept", pong=True, token_ok=True, supported=True, token="tok"):
        self.m = ConnectionMachine(CID, build_url=url_for, websocket_supported=supported)
        self.now = T0
        self.server = server  # accept | refuse | accept_then_close | hang
        self.close_code = 1006
        self.pong = pong
        self.token_ok = token_ok
        self.token = token
        self.timeline = []  # (seconds after T0, action), every action in order

    @property
    def t(self):
        return self.now - T0

    def do(self, actions):
        for action in actions:
            self.timeline.append((round(self.t, 6), action))
            self.do(self._answer(action))
        return actions

    def _answer(self, action):
        m = self.m
        if isinstance(action, RequestToken):
            return m.token_ready(self.token, self.now) if self.token_ok else m.token_failed(self.now)
        if isinstance(action, OpenSocket):
            sid = action.socket_id
            if self.server == "accept":
                return m.socket_open(sid, self.now)
            if self.server == "refuse":
                return m.socket_closed(sid, self.close_code, self.now)
            if self.server == "accept_then_close":
                return m.socket_open(sid, self.now) + m.socket_closed(sid, self.close_code, self.now)
            return []  # hang
        if isinstance(action, SendFrame) and action.text == PING and self.pong:
            return m.socket_message(action.socket_id, PONG, self.now)
        return []

    # --- inputs, carried out at the current fake time
    def start(self):
        return self.do(self.m.start(self.now))

    def at(self, seconds):
        """Advance the clock to T0 + seconds, ticking at every wakeup the machine asks for."""
        target = T0 + seconds
        for _ in range(100000):
            wake = self.m.next_wakeup()
            if wake is None or wake > target:
                break
            self.now = max(self.now, wake)
            before = wake
            self.do(self.m.tick(self.now))
            assert self.m.next_wakeup() is None or self.m.next_wakeup() > before or self.m.next_wakeup() > self.now, \
                "tick did not move the wakeup forward"
        self.now = max(self.now, target)

    def jump(self, seconds):
        """Move the clock WITHOUT ticking (the machine was asleep or its timers throttled)."""
        self.now = T0 + seconds

    def tick(self):
        return self.do(self.m.tick(self.now))

    def close(self, code=1006, sid=None):
        return self.do(self.m.socket_closed(self.sid if sid is None else sid, code, self.now))

    def frame(self, text, sid=None):
        return self.do(self.m.socket_message(self.sid if sid is None else sid, text, self.now))

    def visible(self, flag):
        return self.do(self.m.visibility_changed(flag, self.now))

    def online(self, flag):
        return self.do(self.m.network_changed(flag, self.now))

    def stop(self):
        return self.do(self.m.stop(self.now))

    # --- what happened
    @property
    def sid(self):
        opens = [a for _, a in self.timeline if isinstance(a, OpenSocket)]
        return opens[-1].socket_id

    def times(self, kind, **match):
        return [t for t, a in self.timeline
                if isinstance(a, kind) and all(getattr(a, k) == v for k, v in match.items())]

    def actions_since(self, seconds):
        return nolog([a for t, a in self.timeline if t >= seconds])

    def states(self):
        return [(t, a.state, a.reason) for t, a in self.timeline if isinstance(a, StateChanged)]


def connected_world(**kw):
    w = World(**kw)
    w.start()
    assert w.m.state is S.CONNECTED
    return w


# =========================================================================== AC-1..AC-4: connect


def test_ac1_start_requests_token_then_opens_then_connected():
    m = ConnectionMachine(CID, build_url=url_for)
    assert m.start(T0) == [StateChanged(S.CONNECTING, None), RequestToken(force_refresh=False)]
    assert m.state is S.CONNECTING and not m.realtime
    assert m.token_ready("tok", T0) == [OpenSocket(1, url_for("tok"))]
    assert m.socket_open(1, T0 + 0.2) == [StateChanged(S.CONNECTED, None)]
    assert m.state is S.CONNECTED and m.realtime and m.reason is None and m.attempt == 0


def test_ac1_start_twice_does_nothing_more():
    m = ConnectionMachine(CID, build_url=url_for)
    m.start(T0)
    assert m.start(T0 + 1) == []


def test_ac2_ac3_open_socket_url_comes_from_build_url_with_the_token():
    seen = []
    m = ConnectionMachine(CID, build_url=lambda token: seen.append(token) or "wss://x/ws/messaging/1/?token=" + token)
    m.start(T0)
    assert m.token_ready("the-jwt", T0) == [OpenSocket(1, "wss://x/ws/messaging/1/?token=the-jwt")]
    assert seen == ["the-jwt"]


def test_ac4_a_plain_connect_asks_for_a_token_without_forcing_a_refresh():
    # The adapter's token manager refreshes an expired token itself (AC-4); only 4001 forces one.
    w = World()
    w.start()
    assert w.times(RequestToken, force_refresh=True) == []
    assert w.times(RequestToken, force_refresh=False) == [0]


def test_inputs_before_start_are_ignored():
    m = ConnectionMachine(CID, build_url=url_for)
    assert m.token_ready("tok", T0) == []
    assert m.socket_open(1, T0) == []
    assert m.tick(T0 + 100) == []
    assert m.next_wakeup() is None


def test_unsupported_websocket_falls_back_to_polling_failed_unsupported():
    m = ConnectionMachine(CID, build_url=url_for, websocket_supported=False)
    assert m.start(T0) == [StateChanged(S.FAILED, FailReason.UNSUPPORTED)]
    assert (m.state, m.reason, m.realtime) == (S.FAILED, FailReason.UNSUPPORTED, False)
    assert m.next_wakeup() is None
    assert m.tick(T0 + 3600) == []
    assert m.visibility_changed(False, T0) == [] and m.visibility_changed(True, T0) == []
    assert m.network_changed(False, T0) == [] and m.network_changed(True, T0) == []
    assert m.send_typing(True, T0) == []


# =========================================================================== AC-5: backoff


def test_ac5_backoff_1_2_4_8_16_then_failed():
    w = World(server="refuse")
    w.start()
    w.at(90)  # (the first quiet retry would come at 31 + 60)
    opens = w.times(OpenSocket)
    assert opens == [0, 1, 3, 7, 15, 31]
    assert [b - a for a, b in zip(opens, opens[1:])] == [1, 2, 4, 8, 16]
    assert w.states()[-1] == (31, S.FAILED, FailReason.EXHAUSTED)
    assert w.m.attempt == 5


def test_ac5_each_retry_is_connecting_then_token_then_open():
    w = World(server="refuse")
    w.start()
    w.at(0.999)
    assert w.actions_since(0.5) == []
    w.at(1)
    assert w.actions_since(1) == [
        StateChanged(S.CONNECTING, None), RequestToken(False), OpenSocket(2, url_for("tok")),
        StateChanged(S.DISCONNECTED, None),
    ]


def test_ac5_states_walk_disconnected_connecting_until_failed():
    w = World(server="refuse")
    w.start()
    w.at(100)
    walk = [state for _, state, _ in w.states()]
    assert walk == [S.CONNECTING] + [S.DISCONNECTED, S.CONNECTING] * 5 + [S.FAILED]


def test_ac5_accept_then_close_repeatedly_gives_1_2_4_8_16_then_failed():
    # A server that accepts and then closes at once must not cause a tight loop.
    w = World(server="accept_then_close")
    w.start()
    w.at(59)
    opens = w.times(OpenSocket)
    assert opens == [0, 1, 3, 7, 15, 31]
    assert w.states()[-1] == (31, S.FAILED, FailReason.EXHAUSTED)


@pytest.mark.parametrize("code", [1000, 1001, 1006, 1009, 1011, 4000, 4002, None])
def test_ac5_edge4_unexpected_close_reconnects_with_backoff(code):
    # Any close we did not ask for (1000 included) is unexpected; only 4001/4003 differ.
    w = connected_world()
    w.at(10)
    w.close(code)
    assert (w.m.state, w.m.attempt) == (S.DISCONNECTED, 1)
    assert w.m.next_wakeup() == T0 + 11
    w.at(11)
    assert w.times(OpenSocket) == [0, 11] and w.m.state is S.CONNECTED


def test_ac5_backoff_resets_only_after_link_stable_5s():
    w = World(server="refuse")
    w.start()
    w.at(2.9)  # failures at 0 and 1: the next retry (at 3) is number 2; let it succeed
    w.server = "accept"
    w.at(3)
    assert w.m.state is S.CONNECTED and w.m.attempt == 2
    w.at(7.9)
    assert w.m.attempt == 2  # open 4.9 s: not yet stable
    w.at(8)
    assert w.m.attempt == 0  # open 5 s: stable
    w.close(1006)
    assert w.m.next_wakeup() == T0 + 8 + 1


def test_ac5_close_before_stable_continues_the_backoff():
    w = World(server="refuse")
    w.start()
    w.server = "accept"
    w.at(1)  # retry 1 connects
    w.at(5.9)
    w.close(1011)  # 4.9 s after open
    assert w.m.attempt == 2 and w.m.next_wakeup() == T0 + 5.9 + 2


def test_ac5_stability_is_judged_by_the_clock_even_without_a_tick():
    w = World(server="refuse")
    w.start()
    w.server = "accept"
    w.at(1)
    w.jump(20)  # no tick delivered in between
    w.close(1006)
    assert w.m.attempt == 1 and w.m.next_wakeup() == T0 + 21


# =========================================================================== AC-7: heartbeat


def test_ac7_ping_every_30s_exact_times_over_2_minutes():
    w = connected_world()
    w.at(120)
    assert w.times(SendFrame, text=PING) == [30, 60, 90, 120]
    assert all(a.socket_id == 1 for _, a in w.timeline if isinstance(a, SendFrame))
    assert w.m.state is S.CONNECTED


def test_ac7_ping_times_count_from_open():
    w = World(server="hang")
    w.start()
    w.at(2.5)
    w.do(w.m.socket_open(1, w.now))
    w.at(100)
    assert w.times(SendFrame, text=PING) == [32.5, 62.5, 92.5]


def test_ac7_no_pong_within_5s_closes_4000_and_reconnects():
    w = connected_world(pong=False)
    w.at(34.999)
    assert w.times(CloseSocket) == []
    w.at(35)
    assert w.actions_since(35) == [
        CloseSocket(1, 4000, "no pong within 5 s"), StateChanged(S.DISCONNECTED, None),
    ]
    w.at(36)  # the link had been stable, so the backoff starts again at 1 s
    assert w.times(OpenSocket) == [0, 36] and w.m.state is S.CONNECTED


def test_ac7_pong_at_4_9s_keeps_the_link():
    w = connected_world(pong=False)
    w.at(34.9)
    w.frame(PONG)
    w.at(59.9)
    assert w.times(CloseSocket) == [] and w.m.state is S.CONNECTED
    w.at(60)
    assert w.times(SendFrame, text=PING) == [30, 60]


def test_ac7_a_late_tick_past_the_pong_deadline_declares_the_link_dead_at_once():
    w = connected_world(pong=False)
    w.at(30)  # ping sent, pong due at 35
    w.jump(100)  # throttled timer: the 35 s tick arrives at 100
    w.tick()
    assert w.actions_since(100)[:2] == [CloseSocket(1, 4000, "no pong within 5 s"), StateChanged(S.DISCONNECTED, None)]


def test_ac7_a_tick_35s_after_the_last_ping_while_visible_declares_dead_at_once():
    # The machine slept through the ping it owed at 30: the socket may be dead.
    w = connected_world()
    w.jump(35)
    w.tick()
    assert w.actions_since(35)[0] == CloseSocket(1, 4000, "heartbeat timer stalled (the machine was asleep)")
    assert w.m.state is S.DISCONNECTED


def test_ac7_a_tick_a_little_late_still_just_pings():
    w = connected_world()
    w.jump(34.9)
    w.tick()
    assert w.times(SendFrame, text=PING) == [34.9]
    assert w.m.state is S.CONNECTED


def test_ac7_a_late_tick_while_hidden_sends_the_overdue_ping():
    # Background tabs get about one timer a minute: lateness there is normal, not a symptom.
    w = connected_world()
    w.visible(False)
    w.jump(61)
    w.tick()
    w.jump(125)
    w.tick()
    assert w.times(SendFrame, text=PING) == [61, 125]
    assert w.m.state is S.CONNECTED


def test_ac7_close_of_a_socket_we_declared_dead_is_ignored():
    w = connected_world(pong=False)
    w.at(35)
    assert w.close(4000, sid=1) == []
    assert w.m.next_wakeup() == T0 + 36


# =========================================================================== AC-6: visibility


def test_ac6_visible_while_disconnected_reconnects_now_with_backoff_reset():
    w = World(server="refuse")
    w.start()
    w.at(7)  # retry 3 failed at 7; retry 4 would wait 8 s
    assert w.m.attempt == 4
    w.visible(False)
    w.at(9)
    w.server = "accept"
    w.visible(True)
    assert w.times(OpenSocket)[-1] == 9 and w.m.state is S.CONNECTED and w.m.attempt == 0


def test_ac6_visible_reset_means_next_failure_waits_1s():
    w = World(server="refuse")
    w.start()
    w.at(7)
    w.visible(False)
    w.visible(True)  # at 7: reconnects now, fails, backoff restarted
    assert w.times(OpenSocket)[-1] == 7
    assert w.m.attempt == 1 and w.m.next_wakeup() == T0 + 8


def test_ac6_visible_after_failed_exhausted_reconnects_with_backoff_reset():
    w = World(server="refuse")
    w.start()
    w.at(40)
    assert (w.m.state, w.m.reason) == (S.FAILED, FailReason.EXHAUSTED)
    w.visible(False)
    w.server = "accept"
    w.visible(True)
    assert w.actions_since(40) == [
        StateChanged(S.CONNECTING, None), RequestToken(False), OpenSocket(7, url_for("tok")),
        StateChanged(S.CONNECTED, None), GapFill(),
    ]


def test_ac6_visible_while_connected_pings_at_once_and_expects_pong_in_5s():
    w = connected_world(pong=False)
    w.at(12)
    w.visible(False)
    w.jump(500)  # the laptop slept; no tick ran while hidden
    w.visible(True)
    assert w.actions_since(500) == [SendFrame(1, PING)]
    assert w.m.next_wakeup() == T0 + 505
    w.at(505)
    assert w.actions_since(505)[0] == CloseSocket(1, 4000, "no pong within 5 s")


def test_ac6_visible_while_connected_and_pong_comes_keeps_the_link():
    w = connected_world()
    w.at(12)
    w.visible(False)
    w.visible(True)
    assert w.times(SendFrame, text=PING) == [12]
    w.at(41.9)
    assert w.times(SendFrame, text=PING) == [12]  # the next regular ping is 30 s after the probe
    w.at(42)
    assert w.times(SendFrame, text=PING) == [12, 42] and w.m.state is S.CONNECTED


def test_ac6_only_hidden_to_visible_counts():
    w = World(server="refuse")
    w.start()
    assert w.visible(True) == []  # already visible
    assert w.visible(False) == []
    assert w.visible(False) == []
    assert w.m.attempt == 1


def test_ac6_visible_while_connecting_does_nothing_new():
    w = World(server="hang")
    w.start()
    w.visible(False)
    assert w.visible(True) == []
    assert w.times(OpenSocket) == [0]


# =========================================================================== network offline / online


def test_offline_cancels_the_retry_timer_and_consumes_no_attempts():
    w = World(server="refuse")
    w.start()
    w.at(1)  # two failures: waiting 2 s for retry 2
    assert w.m.attempt == 2
    w.online(False)
    assert w.m.state is S.DISCONNECTED and w.m.next_wakeup() is None
    w.at(500)
    assert w.times(OpenSocket) == [0, 1] and w.m.attempt == 2


def test_online_reconnects_at_once_with_backoff_reset():
    w = World(server="refuse")
    w.start()
    w.at(3)
    w.online(False)
    w.at(100)
    w.server = "accept"
    w.online(True)
    assert w.actions_since(100) == [
        StateChanged(S.CONNECTING, None), RequestToken(False), OpenSocket(4, url_for("tok")),
        StateChanged(S.CONNECTED, None), GapFill(),
    ]
    assert w.m.attempt == 0


def test_offline_while_connected_probes_with_a_ping():
    w = connected_world(pong=False)
    w.at(10)
    assert w.online(False) == [SendFrame(1, PING)]
    assert w.m.state is S.CONNECTED
    w.at(15)  # no pong: dead, but offline, so wait for the network instead of retrying
    assert w.actions_since(15) == [CloseSocket(1, 4000, "no pong within 5 s"), StateChanged(S.DISCONNECTED, None)]
    assert w.m.next_wakeup() is None and w.m.attempt == 0


def test_offline_while_connected_and_pong_comes_keeps_the_link():
    w = connected_world()
    w.at(10)
    w.online(False)
    w.at(29)
    assert w.m.state is S.CONNECTED and w.times(SendFrame, text=PING) == [10]


def test_offline_socket_closing_waits_for_network_without_retries():
    w = connected_world()
    w.online(False)
    w.close(1006)
    assert w.m.state is S.DISCONNECTED and w.m.next_wakeup() is None


def test_offline_during_handshake_aborts_the_attempt():
    w = World(server="hang")
    w.start()
    assert nolog(w.online(False)) == [CloseSocket(1, 1000, "network offline"), StateChanged(S.DISCONNECTED, None)]
    assert w.m.socket_open(1, w.now) == []
    assert w.m.next_wakeup() is None


def test_offline_from_failed_exhausted_shows_reconnecting_and_stops_quiet_retries():
    w = World(server="refuse")
    w.start()
    w.at(40)
    w.online(False)
    assert (w.m.state, w.m.reason) == (S.DISCONNECTED, None)
    w.at(1000)
    assert w.times(OpenSocket)[-1] == 31


def test_start_while_offline_waits_for_the_network():
    w = World()
    w.online(False)
    assert w.start() == [StateChanged(S.DISCONNECTED, None)]
    assert w.m.next_wakeup() is None
    w.online(True)
    assert w.m.state is S.CONNECTED and w.times(GapFill) == []


def test_repeated_online_does_not_reset_the_backoff():
    w = World(server="refuse")
    w.start()
    w.at(3)
    assert w.online(True) == []
    assert w.m.attempt == 3


# =========================================================================== AC-9: failed, quiet retries


def test_failed_exhausted_quiet_retry_every_60s_and_state_stays_failed():
    w = World(server="refuse")
    w.start()
    w.at(31 + 180)
    assert w.times(OpenSocket) == [0, 1, 3, 7, 15, 31, 91, 151, 211]
    assert w.states()[-1] == (31, S.FAILED, FailReason.EXHAUSTED)  # no flicker during quiet tries
    quiet = w.actions_since(91)
    assert quiet[:2] == [RequestToken(False), OpenSocket(7, url_for("tok"))]


def test_failed_exhausted_quiet_retry_that_works_connects_with_gapfill():
    w = connected_world()
    w.server = "refuse"
    w.close(1006)
    w.at(31)
    assert w.m.state is S.FAILED
    w.server = "accept"
    w.at(91)
    assert w.actions_since(91) == [RequestToken(False), OpenSocket(7, url_for("tok")),
                                   StateChanged(S.CONNECTED, None), GapFill()]


def test_failed_quiet_link_that_dies_at_once_goes_straight_back_to_failed():
    w = World(server="refuse")
    w.start()
    w.at(31)
    w.server = "accept_then_close"
    w.at(91)
    assert w.states()[-2:] == [(91, S.CONNECTED, None), (91, S.FAILED, FailReason.EXHAUSTED)]
    assert w.m.next_wakeup() == T0 + 151


# =========================================================================== edge 1: 4001


def test_edge1_4001_refresh_then_reconnect():
    w = connected_world()
    w.at(100)
    w.close(4001)
    assert w.actions_since(100) == [
        StateChanged(S.CONNECTING, None), RequestToken(force_refresh=True), OpenSocket(2, url_for("tok")),
        StateChanged(S.CONNECTED, None), GapFill(),
    ]
    assert w.m.attempt == 0


def test_edge1_4001_refresh_fails_falls_back_to_polling_failed_auth():
    w = connected_world()
    w.token_ok = False
    w.close(4001)
    assert (w.m.state, w.m.reason) == (S.FAILED, FailReason.AUTH)
    assert w.states()[-1][1:] == (S.FAILED, FailReason.AUTH)


def test_edge1_4001_again_right_after_a_forced_refresh_fails_auth_without_a_loop():
    w = World(server="accept_then_close")
    w.close_code = 4001
    w.start()
    assert w.times(RequestToken) == [0, 0]
    assert [a.force_refresh for _, a in w.timeline if isinstance(a, RequestToken)] == [False, True]
    assert (w.m.state, w.m.reason) == (S.FAILED, FailReason.AUTH)
    w.at(59.9)
    assert len(w.times(OpenSocket)) == 2


def test_edge1_failed_auth_retries_quietly_every_60s_with_a_forced_refresh():
    w = World(server="accept_then_close")
    w.close_code = 4001
    w.start()
    w.at(60)
    assert w.actions_since(60)[:2] == [RequestToken(True), OpenSocket(3, url_for("tok"))]
    assert (w.m.state, w.m.reason) == (S.FAILED, FailReason.AUTH)
    w.server = "accept"
    w.at(120)
    assert w.m.state is S.CONNECTED and w.times(GapFill)[-1] == 120


def test_edge1_4001_after_the_refreshed_link_was_stable_refreshes_again():
    w = connected_world()
    w.close(4001)
    w.at(5)
    w.close(4001)
    assert w.m.state is S.CONNECTED
    assert [a.force_refresh for _, a in w.timeline if isinstance(a, RequestToken)] == [False, True, True]


def test_edge1_handshake_refused_1006_backs_off_like_any_failure():
    # CONTRACT: some deployments refuse the handshake instead of closing 4001.
    w = World(server="refuse")
    w.start()
    assert (w.m.state, w.m.next_wakeup()) == (S.DISCONNECTED, T0 + 1)


def test_token_failure_without_forced_refresh_backs_off():
    w = World(token_ok=False)
    w.start()
    assert (w.m.state, w.m.attempt, w.m.next_wakeup()) == (S.DISCONNECTED, 1, T0 + 1)
    assert w.times(OpenSocket) == []


# =========================================================================== 4003


def test_4003_polls_without_retries():
    w = connected_world()
    w.close(4003)
    assert w.states()[-1] == (0, S.FAILED, FailReason.FORBIDDEN)
    assert w.m.next_wakeup() is None
    w.visible(False)
    w.visible(True)
    w.online(False)
    w.online(True)
    w.at(3600)
    assert w.times(OpenSocket) == [0] and (w.m.state, w.m.reason) == (S.FAILED, FailReason.FORBIDDEN)


def test_4003_during_a_quiet_retry_becomes_forbidden_for_good():
    w = World(server="refuse")
    w.start()
    w.at(31)
    w.close_code = 4003
    w.at(91)
    assert w.states()[-1] == (91, S.FAILED, FailReason.FORBIDDEN)
    w.at(1000)
    assert w.times(OpenSocket)[-1] == 91


def test_edge10_archived_conversation_4003_on_first_connect():
    w = World(server="accept_then_close")
    w.close_code = 4003
    w.start()
    assert [s for _, s, _ in w.states()] == [S.CONNECTING, S.CONNECTED, S.FAILED]
    assert w.m.reason is FailReason.FORBIDDEN


# =========================================================================== edge 2: socket ids


def test_edge2_each_open_socket_gets_a_new_id():
    w = World(server="refuse")
    w.start()
    w.at(40)
    assert [a.socket_id for _, a in w.timeline if isinstance(a, OpenSocket)] == [1, 2, 3, 4, 5, 6]


def test_edge2_events_from_old_socket_ignored():
    w = connected_world()
    w.close(1006)
    w.at(1)
    assert w.sid == 2 and w.m.state is S.CONNECTED
    assert w.m.socket_open(1, w.now) == []
    assert w.m.socket_message(1, json.dumps({"type": "new_message", "message": message()}), w.now) == []
    assert w.m.socket_message(1, PONG, w.now) == []
    assert w.m.socket_closed(1, 1006, w.now) == []
    assert w.m.state is S.CONNECTED


def test_edge2_a_late_open_of_an_abandoned_socket_is_ignored():
    w = World(server="hang")
    w.start()
    w.at(10)  # CONNECT_TIMEOUT: socket 1 given up
    assert w.actions_since(10)[0] == CloseSocket(1, 4000, "handshake timed out")
    assert w.m.socket_open(1, w.now) == [] and w.m.state is S.DISCONNECTED


# =========================================================================== AC-10: stop


def test_ac10_stop_closes_1000_and_never_reconnects():
    w = connected_world()
    w.at(40)
    assert nolog(w.stop()) == [CloseSocket(1, 1000, "client closed")]
    assert w.m.stopped and w.m.next_wakeup() is None
    for later in (w.m.socket_closed(1, 1000, w.now), w.m.socket_message(1, PONG, w.now),
                  w.m.tick(w.now + 100), w.m.visibility_changed(False, w.now),
                  w.m.visibility_changed(True, w.now), w.m.network_changed(False, w.now),
                  w.m.network_changed(True, w.now), w.m.send_typing(True, w.now),
                  w.m.token_ready("tok", w.now), w.m.start(w.now), w.m.stop(w.now)):
        assert later == []


def test_ac10_stop_while_waiting_for_a_token_opens_nothing():
    w = World(server="hang")
    m = w.m
    assert nolog(m.start(T0)) == [StateChanged(S.CONNECTING, None), RequestToken(False)]
    assert nolog(m.stop(T0)) == []
    assert m.token_ready("tok", T0) == []


def test_ac10_stop_while_opening_closes_the_opening_socket():
    w = World(server="hang")
    w.start()
    assert nolog(w.stop()) == [CloseSocket(1, 1000, "client closed")]


def test_ac10_stop_while_waiting_to_retry_cancels_the_retry():
    w = World(server="refuse")
    w.start()
    assert nolog(w.stop()) == []
    assert w.m.next_wakeup() is None


# =========================================================================== frames, edge 11


def test_new_message_typing_and_read_receipt_are_dispatched():
    w = connected_world()
    msg = message()
    assert w.frame(json.dumps({"type": "new_message", "message": msg})) == [Dispatch(NewMessage(msg))]
    assert w.frame('{"type": "typing_indicator", "user_id": 2, "is_typing": true}') == \
        [Dispatch(TypingIndicator(2, True))]
    assert w.frame('{"type": "read_receipt", "reader_id": 2, "read_at": "2024-01-01T10:00:00Z"}') == \
        [Dispatch(ReadReceipt(2, "2024-01-01T10:00:00Z"))]


def test_new_message_for_another_conversation_is_not_dispatched():
    w = connected_world()
    out = w.frame(json.dumps({"type": "new_message", "message": message(cid=CID + 1)}))
    assert out == [Log("debug", "ignored a WebSocket frame: new_message for another conversation")]


def test_edge11_unknown_type_is_logged_at_debug_and_ignored():
    w = connected_world()
    assert w.frame('{"type": "presence", "user_id": 2}') == \
        [Log("debug", "ignored a WebSocket frame: unknown frame type 'presence'")]
    assert w.m.state is S.CONNECTED


@pytest.mark.parametrize("text", ["{", "[]", "null", '{"type": null}', '{"type": "new_message"}', "x" * 70000])
def test_edge11_malformed_frames_are_logged_and_ignored(text):
    w = connected_world()
    out = w.frame(text)
    assert len(out) == 1 and isinstance(out[0], Log) and out[0].level == "debug"
    assert w.m.state is S.CONNECTED


def test_pong_clears_the_heartbeat_and_is_not_dispatched():
    w = connected_world(pong=False)
    w.at(30)
    assert w.frame(PONG) == []
    assert w.m.next_wakeup() == T0 + 60


# =========================================================================== edge 7: gap fill


def test_edge7_gapfill_exactly_once_after_each_reconnect_never_after_first():
    w = connected_world()
    assert w.times(GapFill) == []
    w.at(50)
    w.close(1001)  # server restart (edge 4)
    w.at(51)
    w.at(100)
    w.close(1006)  # network flap
    w.at(101)
    assert w.times(GapFill) == [51, 101]
    assert w.times(StateChanged, state=S.CONNECTED) == [0, 51, 101]


def test_edge7_first_link_after_failed_attempts_also_fills_the_gap():
    w = World(server="refuse")
    w.start()
    w.server = "accept"
    w.at(1)
    assert w.times(GapFill) == [1]


# =========================================================================== typing (AC-16, edge 12)


def test_send_typing_only_when_connected():
    w = World(server="hang")
    w.start()
    assert w.m.send_typing(True, w.now) == []
    w.do(w.m.socket_open(1, w.now))
    assert w.m.send_typing(True, w.now) == [SendFrame(1, '{"type": "typing", "is_typing": true}')]
    assert w.m.send_typing(False, w.now) == [SendFrame(1, '{"type": "typing", "is_typing": false}')]
    w.close(1006)
    assert w.m.send_typing(True, w.now) == []


# =========================================================================== handshake timeout


def test_a_hanging_handshake_times_out_after_10s_and_backs_off():
    w = World(server="hang")
    w.start()
    w.at(9.99)
    assert w.times(CloseSocket) == []
    w.at(10)
    assert w.actions_since(10) == [CloseSocket(1, 4000, "handshake timed out"), StateChanged(S.DISCONNECTED, None)]
    assert w.m.next_wakeup() == T0 + 11


def test_a_token_that_never_comes_times_out_too():
    m = ConnectionMachine(CID, build_url=url_for)
    m.start(T0)
    assert nolog(m.tick(T0 + 10)) == [StateChanged(S.DISCONNECTED, None)]
    assert m.token_ready("tok", T0 + 10.5) == []


# =========================================================================== logs


def test_logs_never_contain_the_token_or_the_url():
    secret = "eyJSECRET.payload.sig"
    w = World(server="refuse", token=secret)
    w.start()
    w.at(200)
    w.visible(False)
    w.server = "accept"
    w.visible(True)
    w.close(4001)
    w.frame("garbage")
    w.stop()
    logs = [a.message for _, a in w.timeline if isinstance(a, Log)]
    assert logs, "the scenario should have logged something"
    assert not any(secret in line or "token" in line.lower() and "=" in line or "wss://" in line for line in logs)


def test_a_broken_url_builder_backs_off_instead_of_crashing():
    def broken(token):
        raise ValueError("bad ws_base " + token)

    m = ConnectionMachine(CID, build_url=broken)
    m.start(T0)
    out = m.token_ready("SECRET", T0)
    assert nolog(out) == [StateChanged(S.DISCONNECTED, None)]
    assert not any("SECRET" in a.message for a in out if isinstance(a, Log))


# =========================================================================== properties


frames = st.one_of(
    st.text(),
    st.binary(),
    st.none(),
    st.integers(),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
        | st.sampled_from(["pong", "new_message", "typing_indicator", "read_receipt", "ping"]),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
            st.sampled_from(["type", "message", "user_id", "is_typing", "reader_id", "read_at", "id",
                             "conversation_id", "sender", "content"]) | st.text(max_size=5),
            inner, max_size=5),
        max_leaves=12,
    ).map(lambda value: json.dumps(value, allow_nan=True)),
    st.sampled_from(["[" * 50000, '{"type": NaN}', "1e999999", "9" * 10000, '{"type": "pong"}' * 3]),
)


@settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_random_frames_never_raise_and_the_link_stays_connected(text):
    _a_frame_keeps_the_link(text)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames)
def test_random_frames_never_raise_and_the_link_stays_connected_long_form(text):
    _a_frame_keeps_the_link(text)  # ~45 s on the 2-core machine: ./test.sh -m slow


def _a_frame_keeps_the_link(text):
    m = ConnectionMachine(CID, build_url=url_for)
    m.start(T0)
    m.token_ready("tok", T0)
    m.socket_open(1, T0)
    out = m.socket_message(1, text, T0 + 1)
    assert m.state is S.CONNECTED
    assert all(isinstance(a, (Dispatch, Log)) for a in out)


inputs = st.lists(st.tuples(
    st.sampled_from(["token_ready", "token_failed", "open", "message", "closed", "visible", "hidden",
                     "online", "offline", "tick", "typing", "start"]),
    st.integers(min_value=0, max_value=4),  # socket id
    st.sampled_from([1000, 1001, 1006, 1011, 4001, 4003, None]),
    st.floats(min_value=0, max_value=90),  # seconds to advance first
), max_size=40)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs)
def test_any_input_sequence_keeps_to_the_transition_table(steps):
    m = ConnectionMachine(CID, build_url=url_for)
    now = T0
    state = m.state

    def check(out):
        nonlocal state
        for action in out:
            if isinstance(action, StateChanged):
                assert action.state in ALLOWED_TRANSITIONS[state]
                assert (action.reason is not None) == (action.state is S.FAILED)
                state = action.state
        assert m.state is state
        assert m.realtime == (state is S.CONNECTED)

    for name, sid, code, dt in steps:
        now += dt
        check({
            "start": lambda: m.start(now),
            "token_ready": lambda: m.token_ready("tok", now),
            "token_failed": lambda: m.token_failed(now),
            "open": lambda: m.socket_open(sid, now),
            "message": lambda: m.socket_message(sid, PONG, now),
            "closed": lambda: m.socket_closed(sid, code, now),
            "visible": lambda: m.visibility_changed(True, now),
            "hidden": lambda: m.visibility_changed(False, now),
            "online": lambda: m.network_changed(True, now),
            "offline": lambda: m.network_changed(False, now),
            "tick": lambda: m.tick(now),
            "typing": lambda: m.send_typing(True, now),
        }[name]())
        wake = m.next_wakeup()
        if wake is not None and wake <= now:
            # An overdue timer must be dealt with by one tick: no deadline is left in the past.
            check(m.tick(now))
            wake = m.next_wakeup()
            assert wake is None or wake > now
