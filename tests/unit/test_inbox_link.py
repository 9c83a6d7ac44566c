"""The inbox socket's lifecycle (core/inbox.py, CONTRACT "Inbox socket"): a fake clock drives
`InboxLink` and every test asserts the exact actions and times."""
import json

from core.inbox import InboxLink
from core.ws_events import CARRIED_ELSEWHERE, ConversationUpdated, InboxReadReceipt, NewMessage, classify_inbox_frame
from ws_hook import CloseSocket, ConnectionState, Dispatch, Log, OpenSocket, RequestToken, SendFrame, StateChanged

T0 = 1_700_000_000.0
LIVE = StateChanged(ConnectionState.CONNECTED, None)
NOT_LIVE = StateChanged(ConnectionState.DISCONNECTED, None)
PING = '{"type": "ping"}'


def url_for(token):
    return "ws://example.test/ws/inbox/" + ("" if token is None else f"?token={token}")


PROBE_URL = url_for(None)


def probe(link, now, answer):
    """The tokenless probe: its OpenSocket, and the server's answer (a close code)."""
    actions = nolog(link.start(now) if not link.absent else link.tick(now))
    assert len(actions) == 1 and actions[0].url == PROBE_URL and actions[0].socket_id < 0
    assert link.socket_open(actions[0].socket_id, now) == []  # accepted or not, only the close counts
    return nolog(link.socket_closed(actions[0].socket_id, answer, now))


def nolog(actions):
    return [a for a in actions if not isinstance(a, Log)]


def handshake(link, now, token="t"):
    """start/retry -> token -> OpenSocket; returns the socket id."""
    actions = nolog(link.token_ready(token, now))
    assert len(actions) == 1 and isinstance(actions[0], OpenSocket) and actions[0].url == url_for(token)
    return actions[0].socket_id


def started(now=T0):
    link = InboxLink(url_for)
    assert probe(link, now, 4001) == [RequestToken(force_refresh=False)]
    return link


def live_link(now=T0):
    link = started(now)
    sid = handshake(link, now)
    assert nolog(link.socket_open(sid, now)) == [LIVE]
    assert link.realtime
    return link, sid


def message(mid, cid):
    return {"id": mid, "conversation_id": cid, "content": "hi", "image": None, "is_read": False,
            "read_at": None, "created_at": "2024-01-01T10:00:00Z",
            "sender": {"id": 2, "first_name": "A", "last_name": "B", "profile_image": None}}


# ----- absent backends: 1006 / 4004, one quiet try every 10 minutes ---------------------------------


def test_a_refused_probe_means_no_inbox_no_token_and_the_next_try_is_ten_minutes_later():
    link = InboxLink(url_for)
    assert probe(link, T0, 1006) == []  # nothing reported: no banner, no backoff, no token asked
    assert link.absent and link.next_wakeup() == T0 + 600
    assert link.tick(T0 + 599) == []
    assert probe(link, T0 + 600, 4004) == []
    assert link.absent and link.next_wakeup() == T0 + 1200


def test_a_probe_that_never_answers_is_no_inbox_after_the_connect_timeout():
    link = InboxLink(url_for)
    (open_probe,) = nolog(link.start(T0))
    assert link.next_wakeup() == T0 + 10 and link.tick(T0 + 9.9) == []
    assert nolog(link.tick(T0 + 10)) == [CloseSocket(open_probe.socket_id, 4000, "inbox probe timed out")]
    assert link.absent and link.next_wakeup() == T0 + 610


def test_a_refused_handshake_with_a_token_after_the_probe_is_no_inbox_too():
    link = started()
    sid = handshake(link, T0)
    assert nolog(link.socket_closed(sid, 1006, T0 + 0.05)) == []
    assert link.absent and link.next_wakeup() == T0 + 600.05


def test_against_a_backend_without_the_inbox_an_hour_costs_six_probes_whatever_the_tab_and_network_do():
    link = InboxLink(url_for)
    opened = []
    now = T0
    while now < T0 + 3600:
        wake = link.next_wakeup()
        if now == T0 or (wake is not None and wake <= now):
            assert probe(link, now, 1006) == []
            opened.append(now - T0)
        # The tab is hidden and shown, the network drops and returns, every 7 seconds.
        if int(now - T0) % 7 == 0:
            for step in (lambda: link.visibility_changed(False, now), lambda: link.visibility_changed(True, now),
                         lambda: link.network_changed(False, now), lambda: link.network_changed(True, now)):
                assert nolog(step()) == []
        now += 1
    assert opened == [0, 600, 1200, 1800, 2400, 3000]


def test_4004_means_no_inbox_even_after_the_socket_was_accepted():
    link, sid = live_link()
    actions = link.socket_closed(sid, 4004, T0 + 1)
    assert nolog(actions) == [NOT_LIVE]
    assert link.absent and link.next_wakeup() == T0 + 601


def test_a_handshake_that_never_answers_after_the_probe_is_no_inbox_after_the_connect_timeout():
    link = started()
    sid = handshake(link, T0)
    assert link.next_wakeup() == T0 + 10
    assert nolog(link.tick(T0 + 10)) == [CloseSocket(sid, 4000, "handshake timed out")]
    assert link.absent and link.next_wakeup() == T0 + 610


def test_the_try_after_ten_minutes_that_finds_the_inbox_makes_it_live():
    link = InboxLink(url_for)
    probe(link, T0, 1006)
    assert probe(link, T0 + 600, 4001) == [RequestToken(force_refresh=False)]
    sid = handshake(link, T0 + 600)
    assert nolog(link.socket_open(sid, T0 + 600.1)) == [LIVE]


# ----- a backend known to offer the inbox ------------------------------------------------------------


def test_a_live_inbox_that_drops_reconnects_with_the_sockets_backoff_not_the_ten_minute_wait():
    link, sid = live_link()
    assert nolog(link.socket_closed(sid, 1006, T0 + 100)) == [NOT_LIVE]
    assert not link.absent and link.next_wakeup() == T0 + 101
    assert nolog(link.tick(T0 + 101)) == [RequestToken(force_refresh=False)]
    sid2 = handshake(link, T0 + 101)
    # The server is still down: its refused handshake is a drop, not absence.
    assert nolog(link.socket_closed(sid2, 1006, T0 + 101.1)) == []
    assert not link.absent and link.next_wakeup() == T0 + 101.1 + 2
    link.tick(T0 + 103.1)
    sid3 = handshake(link, T0 + 103.1)
    assert nolog(link.socket_open(sid3, T0 + 103.2)) == [LIVE]


def test_4001_refreshes_the_token_once_and_a_second_4001_is_absence_not_a_loop():
    link, sid = live_link()
    assert nolog(link.socket_closed(sid, 4001, T0 + 50)) == [RequestToken(force_refresh=True), NOT_LIVE]
    sid2 = handshake(link, T0 + 50, token="fresh")
    assert nolog(link.socket_open(sid2, T0 + 50.1)) == [LIVE]
    assert nolog(link.socket_closed(sid2, 4001, T0 + 51)) == [NOT_LIVE]
    assert link.absent and link.next_wakeup() == T0 + 651


def test_4001_on_the_first_handshake_is_a_refresh_not_absence():
    link = started()
    sid = handshake(link, T0)
    assert nolog(link.socket_closed(sid, 4001, T0 + 0.1)) == [RequestToken(force_refresh=True)]
    assert not link.absent


def test_pings_pongs_and_frames_of_any_conversation_come_through_and_typing_never_goes_out():
    link, sid = live_link()
    assert link.send_typing(True, T0) == []
    assert link.tick(T0 + 30) == [SendFrame(sid, PING)]
    assert link.socket_message(sid, '{"type": "pong"}', T0 + 30.1) == []
    frame = json.dumps({"type": "new_message", "message": message(9, 42)})
    assert link.socket_message(sid, frame, T0 + 31) == [Dispatch(NewMessage(classify_inbox_frame(frame)[0].message))]
    receipt = json.dumps({"type": "read_receipt", "conversation_id": 42, "reader_id": 2, "read_at": "x"})
    assert link.socket_message(sid, receipt, T0 + 32) == [Dispatch(InboxReadReceipt(42, 2, "x"))]


def test_a_hidden_tab_gets_no_extra_pings_and_a_visible_one_probes_like_the_conversation_socket():
    link, sid = live_link()
    assert link.visibility_changed(False, T0 + 1) == []
    assert link.tick(T0 + 30) == [SendFrame(sid, PING)]  # the regular ping, nothing more
    link.socket_message(sid, '{"type": "pong"}', T0 + 30.1)
    assert link.tick(T0 + 45) == []
    assert link.visibility_changed(True, T0 + 46) == [SendFrame(sid, PING)]


def test_stop_closes_the_socket_with_1000_and_silences_the_link():
    link, sid = live_link()
    assert nolog(link.stop(T0 + 5)) == [CloseSocket(sid, 1000, "client closed")]
    assert link.next_wakeup() is None and not link.realtime
    assert link.tick(T0 + 700) == [] and link.socket_closed(sid, 1006, T0 + 6) == []


def test_stop_while_absent_cancels_the_ten_minute_try_and_stop_during_the_probe_closes_it():
    link = InboxLink(url_for)
    probe(link, T0, 1006)
    assert link.stop(T0 + 1) == [] and link.next_wakeup() is None
    assert link.tick(T0 + 601) == []
    link = InboxLink(url_for)
    (open_probe,) = nolog(link.start(T0))
    assert link.stop(T0 + 1) == [CloseSocket(open_probe.socket_id, 1000, "client closed")]
    assert link.socket_closed(open_probe.socket_id, 4001, T0 + 2) == [] and link.next_wakeup() is None


# ----- the inbox's frames ---------------------------------------------------------------------------------


def test_inbox_frames_are_parsed_with_their_conversation_and_bad_ones_say_why():
    conv = {"id": 5, "trainer": message(1, 5)["sender"], "trainee": message(1, 5)["sender"], "unread_count": 2}
    event, _ = classify_inbox_frame(json.dumps({"type": "conversation_updated", "conversation": conv}))
    assert isinstance(event, ConversationUpdated) and event.conversation["id"] == 5
    assert event.conversation["unread_count"] == 2
    for bad, why in (
        ({"type": "read_receipt", "conversation_id": "5", "reader_id": 2}, "bad conversation_id"),
        ({"type": "conversation_updated", "conversation": {"id": 5}}, "without a valid conversation"),
        ({"type": "typing_indicator", "user_id": 2, "is_typing": True}, "typing_indicator on the inbox"),
        ({"type": "new_message", "message": {"id": 1}}, "without a valid message"),
    ):
        event, reason = classify_inbox_frame(json.dumps(bad))
        assert event is None and why in reason
    assert classify_inbox_frame("[" * 100)[0] is None


def test_the_inbox_url_follows_the_sockets_origin_rules_and_the_probe_carries_no_token():
    from core.constants import ws_inbox_url
    assert ws_inbox_url("a b", "", "https:", "h.test") == "wss://h.test/ws/inbox/?token=a%20b"
    assert ws_inbox_url("t", "http://api.test:81/", "https:", "h.test") == "ws://api.test:81/ws/inbox/?token=t"
    assert ws_inbox_url(None, "", "http:", "h.test:8000") == "ws://h.test:8000/ws/inbox/"


def test_offline_and_online_behave_as_on_the_conversation_socket():
    link, sid = live_link()
    assert link.network_changed(False, T0 + 1) == [SendFrame(sid, PING)]  # probe a live link
    assert nolog(link.socket_closed(sid, 1006, T0 + 2)) == [NOT_LIVE]
    assert link.next_wakeup() is None and not link.absent  # offline: no retry timer until online
    assert nolog(link.network_changed(True, T0 + 50)) == [RequestToken(force_refresh=False)]
    sid2 = handshake(link, T0 + 50)
    assert nolog(link.socket_open(sid2, T0 + 50.1)) == [LIVE]


def test_a_fresh_link_after_ten_minutes_knows_the_tab_is_hidden():
    link = InboxLink(url_for)
    probe(link, T0, 1006)
    link.visibility_changed(False, T0 + 1)
    assert probe(link, T0 + 600, 4001) == [RequestToken(force_refresh=False)]
    sid = handshake(link, T0 + 600)
    link.socket_open(sid, T0 + 600)
    # Hidden: a late tick sends the overdue ping instead of declaring the link dead.
    assert link.tick(T0 + 700) == [SendFrame(sid, PING)]


# ----- the open chat's own socket carries its messages -------------------------------------------------


def dispatched(actions):
    return [a.event for a in actions if isinstance(a, Dispatch)]


def test_while_the_open_chat_socket_is_live_the_inbox_drops_its_copy_of_that_chats_messages_only():
    link, sid = live_link()
    mine, other = json.dumps({"type": "new_message", "message": message(9, 42)}), \
        json.dumps({"type": "new_message", "message": message(10, 43)})
    link.carried_by_chat(42)
    assert dispatched(link.socket_message(sid, mine, T0 + 1)) == []
    assert [e.message["id"] for e in dispatched(link.socket_message(sid, other, T0 + 1))] == [10]
    receipt = json.dumps({"type": "read_receipt", "conversation_id": 42, "reader_id": 2, "read_at": "x"})
    assert dispatched(link.socket_message(sid, receipt, T0 + 2)) == [InboxReadReceipt(42, 2, "x")]
    # The chat's socket went down: the inbox's copies go to the chat again.
    link.carried_by_chat(None)
    assert [e.message["id"] for e in dispatched(link.socket_message(sid, mine, T0 + 3))] == [9]


def test_the_carried_chat_survives_an_inbox_reconnect_and_only_a_real_id_matches():
    link, sid = live_link()
    link.carried_by_chat(42)
    link.socket_closed(sid, 1006, T0 + 1)
    retry = [a for a in link.tick(T0 + 60) if isinstance(a, (OpenSocket, RequestToken))]
    if retry and isinstance(retry[0], RequestToken):
        retry = nolog(link.token_ready("t", T0 + 60))
    (opened,) = [a for a in retry if isinstance(a, OpenSocket)]
    link.socket_open(opened.socket_id, T0 + 60)
    assert link.realtime
    frame = json.dumps({"type": "new_message", "message": message(9, 42)})
    assert dispatched(link.socket_message(opened.socket_id, frame, T0 + 61)) == []
    for not_an_id in ("42", True, 42.0, None):
        link.carried_by_chat(not_an_id)
        assert len(dispatched(link.socket_message(opened.socket_id, frame, T0 + 62))) == 1
    # A frame of the carried chat whose message is malformed is dropped as well: not the inbox's.
    assert classify_inbox_frame(json.dumps({"type": "new_message", "message": {"conversation_id": 42}}), 42) == \
        (None, CARRIED_ELSEWHERE)
    assert "without a valid message" in classify_inbox_frame(
        json.dumps({"type": "new_message", "message": {"conversation_id": 43}}), 42)[1]


def test_a_dropped_copy_builds_no_message(monkeypatch):
    import core.ws_events as ws_events
    built = []
    real = ws_events.parse_message
    monkeypatch.setattr(ws_events, "parse_message", lambda raw: built.append(raw) or real(raw))
    link, sid = live_link()
    link.carried_by_chat(42)
    for mid in range(100, 150):
        link.socket_message(sid, json.dumps({"type": "new_message", "message": message(mid, 42)}), T0 + 1)
    assert built == []
    link.socket_message(sid, json.dumps({"type": "new_message", "message": message(200, 43)}), T0 + 1)
    assert len(built) == 1


def focus(sid, conversation_id):
    return SendFrame(sid, json.dumps({"type": "focus", "conversation_id": conversation_id}))


def test_the_server_hears_which_chat_the_page_holds_on_the_live_link_once_per_change():
    """CONTRACT "Inbox socket", the optional `focus` frame."""
    link, sid = live_link()
    assert link.carried_by_chat(42) == [focus(sid, 42)]
    assert link.carried_by_chat(42) == []  # no change, no frame
    assert link.carried_by_chat(43) == [focus(sid, 43)]
    assert link.carried_by_chat("43") == [focus(sid, None)]  # not an id: nothing is carried
    assert link.carried_by_chat(None) == []


def test_a_new_link_is_told_the_carried_chat_when_it_opens_and_a_link_down_sends_nothing():
    link, sid = live_link()
    link.carried_by_chat(42)
    link.socket_closed(sid, 1006, T0 + 1)
    assert link.carried_by_chat(43) == []  # no live link: the next one will hear it
    retry = [a for a in link.tick(T0 + 60) if isinstance(a, (OpenSocket, RequestToken))]
    if retry and isinstance(retry[0], RequestToken):
        retry = nolog(link.token_ready("t", T0 + 60))
    (opened,) = [a for a in retry if isinstance(a, OpenSocket)]
    assert nolog(link.socket_open(opened.socket_id, T0 + 60)) == [LIVE, focus(opened.socket_id, 43)]


def test_a_link_that_opens_with_no_carried_chat_sends_no_focus():
    link = started()
    sid = handshake(link, T0)
    assert nolog(link.socket_open(sid, T0)) == [LIVE]


def test_no_focus_after_stop_or_while_the_inbox_is_absent():
    link = InboxLink(url_for)
    probe(link, T0, 1006)
    assert link.absent
    assert link.carried_by_chat(42) == []
    live, _ = live_link()
    live.stop(T0 + 1)
    assert live.carried_by_chat(42) == []
