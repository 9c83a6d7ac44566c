"""The inbox link at its lifecycle's edges: start and stop are idempotent and final, what
it logs at each turn (exact words), and a page that went offline before the link exists."""
from core.constants import CONNECT_TIMEOUT, INBOX_ABSENT_RETRY
from core.inbox import InboxLink
from core.connection_machine import CloseSocket, ConnectionState, Log, OpenSocket, RequestToken, StateChanged

T0 = 1_700_000_000.0
LIVE = StateChanged(ConnectionState.CONNECTED, None)


def url_for(token):
    return "ws://example.test/ws/inbox/" + ("" if token is None else f"?token={token}")


def logs(actions):
    return [a.message for a in actions if isinstance(a, Log)]


def nolog(actions):
    return [a for a in actions if not isinstance(a, Log)]


def probing(now=T0):
    link = InboxLink(url_for)
    [opened] = link.start(now)
    return link, opened.socket_id


def test_start_while_probing_or_connected_starts_nothing_more():
    link, probe = probing()
    assert link.start(T0 + 1) == []
    link.socket_closed(probe, 4001, T0 + 1)  # the backend has an inbox: a token is asked
    assert link.start(T0 + 2) == []


def test_stop_is_final_and_a_second_stop_does_nothing():
    link, probe = probing()
    assert link.stop(T0 + 1) == [CloseSocket(probe, 1000, "client closed")]
    assert link.stop(T0 + 2) == []
    assert (link.start(T0 + 3), link.tick(T0 + 3 + INBOX_ABSENT_RETRY), link.next_wakeup()) == ([], [], None)
    assert link.stopped and not link.absent


def test_stopping_an_absent_link_leaves_nothing_to_wait_for():
    link, probe = probing()
    link.socket_closed(probe, 1006, T0 + 1)
    assert link.absent
    assert link.stop(T0 + 2) == []
    assert not link.absent and link.next_wakeup() is None


def test_what_the_link_logs_at_each_turn():
    link, probe = probing()
    offered = link.socket_closed(probe, 4001, T0)
    assert logs(offered) == ["inbox socket offered; connecting"]
    assert Log("debug", "inbox socket offered; connecting") in offered
    link2, probe2 = probing()
    assert logs(link2.socket_closed(probe2, 1006, T0)) == ["no inbox socket here (code 1006); next try in 10 min"]
    link3, _ = probing()
    assert logs(link3.tick(T0 + CONNECT_TIMEOUT)) == ["inbox probe timed out; next try in 10 min"]


def test_a_probe_is_closed_at_its_timeout_not_a_tick_before():
    link, probe = probing()
    assert link.next_wakeup() == T0 + CONNECT_TIMEOUT
    assert link.tick(T0 + CONNECT_TIMEOUT - 0.001) == []
    assert nolog(link.tick(T0 + CONNECT_TIMEOUT))[0] == CloseSocket(probe, 4000, "inbox probe timed out")
    assert link.next_wakeup() == T0 + CONNECT_TIMEOUT + INBOX_ABSENT_RETRY


def test_a_close_of_another_socket_during_the_probe_is_not_the_probes_answer():
    link, probe = probing()
    assert link.socket_closed(probe - 1, 4001, T0) == []
    assert link.next_wakeup() == T0 + CONNECT_TIMEOUT  # still probing


def test_after_the_absent_wait_the_next_try_probes_again_exactly_then():
    link, probe = probing()
    link.socket_closed(probe, 4004, T0)
    assert link.tick(T0 + INBOX_ABSENT_RETRY - 0.001) == []
    [again] = link.tick(T0 + INBOX_ABSENT_RETRY)
    assert isinstance(again, OpenSocket) and again.url == url_for(None) and again.socket_id < probe


def test_a_page_offline_before_the_link_exists_keeps_the_new_link_from_connecting():
    link, probe = probing()
    link.network_changed(False, T0)
    assert nolog(link.socket_closed(probe, 4001, T0)) == []
    assert nolog(link.network_changed(True, T0 + 1)) == [RequestToken(force_refresh=False)]


def test_a_browser_without_websocket_is_absent_at_once_and_says_why():
    link = InboxLink(url_for, websocket_supported=False)
    actions = link.start(T0)
    assert logs(actions) == ["no WebSocket in this browser"] and nolog(actions) == []
    assert link.absent and link.next_wakeup() == T0 + INBOX_ABSENT_RETRY


def test_a_first_handshake_that_times_out_is_absence_and_says_so():
    link, probe = probing()
    link.socket_closed(probe, 4001, T0)
    [opened] = nolog(link.token_ready("t", T0))
    timed_out = link.tick(T0 + CONNECT_TIMEOUT)
    assert any(isinstance(a, CloseSocket) and a.socket_id == opened.socket_id for a in timed_out)
    assert "inbox handshake timed out; next try in 10 min" in logs(timed_out)
    assert link.absent and link.next_wakeup() == T0 + CONNECT_TIMEOUT + INBOX_ABSENT_RETRY
