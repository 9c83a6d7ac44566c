"""The socket machine's log lines, as the console shows them: each turn of the link says
what happened, at its level, with the close code as a number or "none"."""
import pytest

from core.constants import CONNECT_TIMEOUT
from core.connection_machine import CloseSocket, ConnectionMachine, Log, OpenSocket
from core.constants import MAX_ATTEMPTS

CID = 7
T0 = 1_700_000_000.0


def url_for(token):
    return f"ws://example.test/ws/messaging/{CID}/?token={token}"


def logs(actions):
    return [(a.level, a.message) for a in actions if isinstance(a, Log)]


def opening():
    m = ConnectionMachine(CID, build_url=url_for)
    m.start(T0)
    [opened] = [a for a in m.token_ready("t", T0) if isinstance(a, OpenSocket)]
    return m, opened.socket_id


def connected():
    m, sid = opening()
    m.socket_open(sid, T0)
    return m, sid


def test_stopping_says_so_once():
    m, _ = connected()
    assert logs(m.stop(T0 + 1)) == [("debug", f"conversation {CID}: socket machine stopped")]
    assert m.stop(T0 + 2) == []


def test_no_token_for_a_connect_says_so_and_a_failed_refresh_after_4001_says_that():
    m = ConnectionMachine(CID, build_url=url_for)
    m.start(T0)
    assert logs(m.token_failed(T0))[0] == ("info", "could not get an access token")
    m, sid = connected()
    m.socket_closed(sid, 4001, T0 + 1)  # the token is refreshed once
    assert logs(m.token_failed(T0 + 1))[0] == ("info", "token refresh after 4001 failed")


@pytest.mark.parametrize("code, text", [(1006, "1006"), (None, "none"), (True, "none"), ("1000", "none")])
def test_a_close_says_whether_the_link_was_open_and_its_code(code, text):
    m, sid = connected()
    assert logs(m.socket_closed(sid, code, T0 + 1))[0] == ("info", f"socket closed (code {text})")
    m, sid = opening()
    assert logs(m.socket_closed(sid, code, T0 + 1))[0] == ("info", f"socket failed to open (code {text})")


def test_a_link_without_a_pong_is_declared_dead_with_the_reason():
    m, sid = connected()
    m.tick(T0 + 30)  # the ping
    lines = logs(m.tick(T0 + 35))
    assert lines[0][0] == "info" and lines[0][1].startswith("socket declared dead: ")


def test_a_url_that_cannot_be_built_says_so_as_a_warning_and_the_first_retry_is_in_1_s():
    def broken(token):
        raise RuntimeError("config")
    m = ConnectionMachine(CID, build_url=broken)
    m.start(T0)
    assert logs(m.token_ready("t", T0)) == [
        ("warning", "could not build the WebSocket URL (RuntimeError)"),
        ("info", f"reconnect attempt 1 of {MAX_ATTEMPTS} in 1 s")]


def test_an_empty_token_is_no_token():
    m = ConnectionMachine(CID, build_url=url_for)
    m.start(T0)
    assert logs(m.token_ready("", T0))[0] == ("info", "could not get an access token")


def test_a_handshake_that_does_not_finish_in_time_says_so():
    m, sid = opening()
    assert m.tick(T0 + CONNECT_TIMEOUT - 0.001) == []
    assert logs(m.tick(T0 + CONNECT_TIMEOUT))[0] == ("info", "handshake timed out")


def test_a_tab_shown_again_exactly_at_the_pong_deadline_finds_the_link_dead():
    m, sid = connected()
    m.tick(T0 + 30)  # the ping: its pong is due 5 s later
    m.visibility_changed(False, T0 + 31)
    shown = m.visibility_changed(True, T0 + 35)
    assert CloseSocket(sid, 4000, "no pong before the tab was hidden") in shown
    assert ("info", "socket declared dead: no pong before the tab was hidden") in logs(shown)
