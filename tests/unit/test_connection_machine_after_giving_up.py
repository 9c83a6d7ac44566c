"""The socket machine (core/connection_machine.py) once it has given up, and two small guards:
what it says when the backoff is spent, a quiet try that becomes a loud one when the tab is
shown, which quiet tries refresh the token, a stale socket's open, a ping already awaited."""
from core.connection_machine import (CloseSocket, ConnectionState, FailReason, Log, OpenSocket,
                                     RequestToken, SendFrame, StateChanged)
from core.constants import FAILED_RETRY_INTERVAL, MAX_ATTEMPTS, PING_INTERVAL
from test_ws_hook_says_what_happened import T0, connected, logs, opening


def open_and_fail(m, now, code=1006):
    """Answer the token the machine asked for, then fail the handshake; the actions of the fail."""
    [opened] = [a for a in m.token_ready("t", now) if isinstance(a, OpenSocket)]
    return m.socket_closed(opened.socket_id, code, now)


def given_up():
    """A link that dropped and failed every reconnect attempt: FAILED(EXHAUSTED); the last actions."""
    m, sid = connected()
    actions = m.socket_closed(sid, 1006, T0 + 1)
    for _ in range(MAX_ATTEMPTS):
        now = m.next_wakeup()
        m.tick(now)
        actions = open_and_fail(m, now)
    return m, actions


def test_a_spent_backoff_says_it_falls_back_to_polling_as_a_warning():
    m, actions = given_up()
    assert ("warning", "real-time updates unavailable; falling back to polling") in logs(actions)
    assert (m.state, m.reason) == (ConnectionState.FAILED, FailReason.EXHAUSTED)


def test_a_quiet_try_after_giving_up_asks_no_forced_refresh_even_after_another_fails():
    m, _ = given_up()
    first = m.next_wakeup()
    assert m.tick(first) == [RequestToken(force_refresh=False)]
    open_and_fail(m, first)
    assert m.tick(first + FAILED_RETRY_INTERVAL) == [RequestToken(force_refresh=False)]


def test_quiet_tries_after_a_refused_refresh_keep_forcing_a_refresh():
    m, sid = connected()
    m.socket_closed(sid, 4001, T0 + 1)
    m.token_failed(T0 + 1)  # the forced refresh failed: FAILED(AUTH)
    assert m.tick(T0 + 1 + FAILED_RETRY_INTERVAL) == [RequestToken(force_refresh=True)]
    open_and_fail(m, T0 + 1 + FAILED_RETRY_INTERVAL)
    assert m.tick(T0 + 1 + 2 * FAILED_RETRY_INTERVAL) == [RequestToken(force_refresh=True)]


def test_a_tab_shown_during_a_quiet_try_makes_it_a_loud_one_with_a_fresh_backoff():
    m, _ = given_up()
    now = m.next_wakeup()
    m.tick(now)  # the quiet try asks its token
    m.visibility_changed(False, now)
    assert m.visibility_changed(True, now) == [StateChanged(ConnectionState.CONNECTING, None)]
    assert ("info", f"reconnect attempt 1 of {MAX_ATTEMPTS} in 1 s") in logs(open_and_fail(m, now))


def test_an_open_from_a_socket_the_machine_forgot_is_ignored():
    m, sid = opening()
    assert m.socket_open(sid + 1, T0) == []
    assert not m.realtime
    assert StateChanged(ConnectionState.CONNECTED, None) in m.socket_open(sid, T0)


def test_a_tab_shown_while_a_ping_awaits_its_pong_sends_no_second_ping():
    m, sid = connected()
    assert m.tick(T0 + PING_INTERVAL) == [SendFrame(sid, '{"type": "ping"}')]
    m.visibility_changed(False, T0 + PING_INTERVAL + 1)
    assert m.visibility_changed(True, T0 + PING_INTERVAL + 2) == []


def closes_on_stop(m):
    return [a for a in m.stop(T0 + 5) if not isinstance(a, Log)]


def test_stop_after_a_4001_closes_nothing_the_server_closed_already():
    m, sid = connected()
    m.socket_closed(sid, 4001, T0 + 1)  # a forced refresh is asked; no socket is open
    assert closes_on_stop(m) == []


def test_stop_after_going_offline_mid_handshake_closes_nothing_more():
    m, sid = opening()
    assert CloseSocket(sid, 1000, "network offline") in m.network_changed(False, T0 + 1)
    assert closes_on_stop(m) == []
