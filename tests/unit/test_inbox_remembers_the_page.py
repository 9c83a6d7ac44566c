"""The inbox link carries what the page told it across the probe into the machine it then
builds (the tab shown again, the network back), judges each ten-minute try afresh, and says
why it gave up in exact words: the edges issue 24's mutation run found untested."""
from core.constants import (CONNECT_TIMEOUT, FAILED_RETRY_INTERVAL, INBOX_ABSENT_RETRY, MAX_ATTEMPTS, PING_INTERVAL,
                            PONG_TIMEOUT)
from core.inbox import InboxLink
from core.connection_machine import CloseSocket, Log, OpenSocket, RequestToken, SendFrame
from test_inbox_link import LIVE, PING, handshake, live_link, nolog, probe, url_for

T0 = 1_700_000_000.0
STALLED = PING_INTERVAL + PONG_TIMEOUT  # a tick this late after the open means the machine slept


def closes(actions):
    return [a.socket_id for a in actions if isinstance(a, CloseSocket)]


def connected_after(link, now):
    """The probe answered 4001, a token came and the socket opened; the socket's id."""
    assert probe(link, now, 4001) == [RequestToken(force_refresh=False)]
    sid = handshake(link, now)
    assert nolog(link.socket_open(sid, now)) == [LIVE]
    return sid


def test_a_link_on_a_visible_tab_finds_a_stalled_heartbeat_dead():
    link = InboxLink(url_for)
    sid = connected_after(link, T0)
    assert sid in closes(link.tick(T0 + STALLED))


def test_a_tab_hidden_then_shown_before_the_link_exists_is_visible_to_it():
    link = InboxLink(url_for)
    link.visibility_changed(False, T0)
    link.visibility_changed(True, T0)
    sid = connected_after(link, T0)
    assert sid in closes(link.tick(T0 + STALLED))


def test_a_tab_hidden_before_the_link_exists_only_pings_late():
    link = InboxLink(url_for)
    link.visibility_changed(False, T0)
    sid = connected_after(link, T0)
    assert link.tick(T0 + STALLED) == [SendFrame(sid, PING)]


def test_a_network_lost_and_back_before_the_link_exists_lets_it_connect():
    link = InboxLink(url_for)
    link.network_changed(False, T0)
    link.network_changed(True, T0)
    assert probe(link, T0, 4001) == [RequestToken(force_refresh=False)]


def test_an_empty_token_after_the_forced_refresh_is_absence_for_ten_minutes_from_then():
    link = InboxLink(url_for)
    assert probe(link, T0, 4001) == [RequestToken(force_refresh=False)]
    sid = handshake(link, T0)
    assert nolog(link.socket_closed(sid, 4001, T0 + 1)) == [RequestToken(force_refresh=True)]
    link.token_ready("", T0 + 2)
    assert link.absent and link.next_wakeup() == T0 + 2 + INBOX_ABSENT_RETRY


def test_a_tick_during_the_first_handshake_before_its_deadline_keeps_connecting():
    link = InboxLink(url_for)
    assert probe(link, T0, 4001) == [RequestToken(force_refresh=False)]
    handshake(link, T0)
    assert link.tick(T0 + CONNECT_TIMEOUT - 0.001) == []
    assert not link.absent and link.next_wakeup() == T0 + CONNECT_TIMEOUT


def test_an_open_socket_opening_again_sends_no_second_focus():
    link, sid = live_link()
    assert link.carried_by_chat(7) != []
    assert link.socket_open(sid, T0 + 1) == []


def test_a_try_after_the_absent_wait_is_no_longer_absent_while_it_probes():
    link = InboxLink(url_for)
    probe(link, T0, 1006)
    [again] = nolog(link.tick(T0 + INBOX_ABSENT_RETRY))
    assert isinstance(again, OpenSocket) and not link.absent


def test_each_probe_has_the_next_id_down():
    link = InboxLink(url_for)
    [first] = link.start(T0)
    link.socket_closed(first.socket_id, 1006, T0)
    [second] = nolog(link.tick(T0 + INBOX_ABSENT_RETRY))
    assert (first.socket_id, second.socket_id) == (-1, -2)


def test_a_backend_that_offered_the_inbox_once_is_judged_afresh_after_it_went_absent():
    link, sid = live_link()
    link.socket_closed(sid, 4004, T0 + 1)
    later = T0 + 1 + INBOX_ABSENT_RETRY
    assert probe(link, later, 4001) == [RequestToken(force_refresh=False)]
    again = handshake(link, later)
    link.socket_closed(again, 1006, later)  # refused before it opened: absent again, no backoff
    assert link.absent and link.next_wakeup() == later + INBOX_ABSENT_RETRY


def test_why_the_link_gave_up_is_a_debug_line_in_exact_words():
    link, sid = live_link()
    gone = link.socket_closed(sid, 4004, T0 + 1)
    assert Log("debug", "no inbox socket here (code 4004); next try in 10 min") in gone


def test_an_inbox_url_that_cannot_be_built_is_absence_and_names_the_error():
    def broken(token):
        raise ValueError("no origin")

    link = InboxLink(broken)
    actions = link.start(T0)
    assert actions == [Log("debug", "could not build the inbox URL (ValueError)")]
    assert link.absent and link.next_wakeup() == T0 + INBOX_ABSENT_RETRY


def test_a_fresh_link_is_not_stopped_and_a_stopped_one_is():
    link = InboxLink(url_for)
    assert link.stopped is False
    link.stop(T0)
    assert link.stopped is True


def test_a_url_that_cannot_be_built_with_a_token_backs_off_like_the_conversation_socket():
    def only_without_a_token(token):
        if token is not None:
            raise ValueError("bad token")
        return url_for(None)

    link = InboxLink(only_without_a_token)
    assert probe(link, T0, 4001) == [RequestToken(force_refresh=False)]
    failed = link.token_ready("t", T0 + 1)
    assert Log("warning", "could not build the WebSocket URL (ValueError)") in failed
    assert not link.absent and link.next_wakeup() == T0 + 2


def test_no_token_after_the_forced_refresh_is_absence_for_ten_minutes_from_then():
    link = InboxLink(url_for)
    probe(link, T0, 4001)
    sid = handshake(link, T0)
    link.socket_closed(sid, 4001, T0 + 1)
    assert Log("debug", "inbox unavailable (auth); next try in 10 min") in link.token_failed(T0 + 2)
    assert link.absent and link.next_wakeup() == T0 + 2 + INBOX_ABSENT_RETRY


def test_a_link_that_was_live_and_spends_its_backoff_retries_quietly_not_after_ten_minutes():
    link, sid = live_link()
    link.socket_closed(sid, 1006, T0 + 1)
    for _ in range(MAX_ATTEMPTS):
        now = link.next_wakeup()
        link.tick(now)
        again = handshake(link, now)
        link.socket_closed(again, 1006, now)
    assert not link.absent and link.next_wakeup() == now + FAILED_RETRY_INTERVAL
