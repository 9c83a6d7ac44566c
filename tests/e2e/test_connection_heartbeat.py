"""Heartbeat and connected-state polling in Chromium on a fake clock: AC-7, AC-13, AC-26, AC-27."""

from realtime_support import (advance, banner_state, expect_retry_after, fake_now, fetch_times,
                              open_clocked_chat, pings, settle, wait_server_open, wait_state_is, wait_until,
                              ws_log, ws_state)


def test_ac7_ac13_ac26_ac27_connected_pings_every_30s_and_polls_only_conversations_and_unread_every_60s(
        page, server, fresh_conversation):
    cid, _peer = open_clocked_chat(page, server, fresh_conversation, messages=2)
    t_open = ws_log(page)[0]["opened"]
    t0 = fake_now(page)
    # Three simulated minutes, connected, in 5 s steps (each poll interval is a multiple of 5 s).
    advance(page, 180_000, step=5000)
    t1 = fake_now(page)
    rec = ws_log(page)[0]
    # AC-7: a ping every 30 s after the open; each answered, so the one socket stays.
    sent = pings(rec)
    expected = [t_open + 30_000 * k for k in range(1, 7) if t_open + 30_000 * k <= t1]
    assert len(sent) == len(expected)
    assert all(abs(s - e) <= 5 for s, e in zip(sent, expected)), (sent, expected)
    assert sum('"pong"' in text for _t, text in rec["received"]) == len(sent)
    assert len(ws_log(page)) == 1 and rec["closed"] is None
    assert ws_state(page) == "connected" and banner_state(page) is None
    # AC-13: no message polling at all while connected.
    assert fetch_times(page, cid, "messages", since=t0) == []
    assert fetch_times(page, cid, "gapfill", since=t0) == []
    # AC-26 / AC-27: conversations and unread count every 60 s (not 15 s / 30 s): 180 s -> 3 each.
    for kind in ("conversations", "unread"):
        times = fetch_times(page, cid, kind, since=t0, until=t1)
        assert len(times) == 3, (kind, times)
        assert all(55_000 <= b - a <= 65_000 for a, b in zip(times, times[1:])), (kind, times)


def test_ac7_silent_socket_is_closed_5s_after_an_unanswered_ping_and_replaced(page, server, fresh_conversation):
    cid, _peer = open_clocked_chat(page, server, fresh_conversation)
    first = ws_log(page)[0]
    t_open = first["opened"]
    # The link goes half-open: the server keeps the TCP connection but stops answering.
    server.fault("silent", on=True)
    now = fake_now(page)
    ping_at = t_open + 30_000
    advance(page, ping_at - 20 - now)
    assert pings(ws_log(page)[0]) == []
    advance(page, 40)
    wait_until(lambda: pings(ws_log(page)[0]), "the 30 s ping")
    (sent,) = pings(ws_log(page)[0])
    assert abs(sent - ping_at) <= 5
    # No pong: still trusted 4.95 s after the ping ...
    advance(page, sent + 4950 - fake_now(page))
    settle(page)
    assert ws_state(page) == "connected" and ws_log(page)[0]["closedBy"] is None
    # ... and closed (4000, our "dead link" code) once the 5 s are up: 35 s after the open.
    advance(page, 100)
    closed_by = wait_until(lambda: ws_log(page)[0]["closedBy"], "the page closes the silent socket")
    assert closed_by[1] == 4000
    assert 4950 < closed_by[0] - sent <= 5050
    assert closed_by[0] - t_open <= 35_050
    assert ws_state(page) in ("disconnected", "connecting")
    # It reconnects by the backoff (1 s); with the fault off the new socket works.
    server.fault("silent", on=False)
    expect_retry_after(page, 1, closed_by[0], 1000, opens=True)
    wait_state_is(page, "connected")
    assert banner_state(page) is None  # back within the banner's 1 s grace
    wait_server_open(server, cid, 1, timeout=30)
    assert len(ws_log(page)) == 2
