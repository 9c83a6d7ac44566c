"""Reconnecting in Chromium on a fake clock: AC-5, AC-6, AC-8, AC-9, AC-13, AC-29..AC-31,
error-table rows "connection refused" and "network offline".

Every test pauses the fake clock once the conversation is connected, so the app's timers
fire only when the test moves time; a socket's failure is then seen at a frozen fake time,
which is what each backoff delay is measured from.
"""

from realtime_support import (BANNER, EPS, FAILED_TEXT, advance, banner_state, expect_no_new_socket,
                              expect_retry_after, fake_now, fetch_times, open_clocked_chat, set_visibility,
                              wait_closed, wait_open, wait_server_open, wait_state_is, ws_log, ws_state)


def refuse_and_drop(server, page, cid, index=0):
    server.fault("refuse", on=True)
    server.fault("close", conversation_id=cid, code=1006)
    rec = wait_closed(page, index)
    assert rec["code"] == 1006
    wait_state_is(page, "disconnected")
    return rec["closed"]


def test_ac5_backoff_1_2_4_8_16_then_failed_banner_polling_and_quiet_recovery(page, server, fresh_conversation):
    # history, so that the gap fill asks after=<last id>
    cid, _peer = open_clocked_chat(page, server, fresh_conversation, messages=2)
    # AC-29: connected shows no banner at all.
    assert banner_state(page) is None

    t_fail = refuse_and_drop(server, page, cid)
    t_first_drop = t_fail
    # A drop shows nothing for the first second (no flash on a quick reconnect).
    assert banner_state(page) is None
    for n, delay in enumerate([1, 2, 4, 8, 16], start=1):
        rec = expect_retry_after(page, n, t_fail, delay * 1000)
        assert rec["opened"] is None and rec["code"] == 1006  # refused handshake
        t_fail = rec["closed"]
        if n < 5:
            # AC-8 / AC-30: between tries the state is disconnected and "Reconnecting..." shows.
            wait_state_is(page, "disconnected")
            assert banner_state(page) == "reconnecting"
            assert page.locator(BANNER).inner_text().strip().startswith("Reconnecting")
    # AC-5 / AC-31: after the 5th retry fails: failed, and the failed banner, with no button.
    wait_state_is(page, "failed")
    assert banner_state(page) == "failed"
    assert page.locator(BANNER).inner_text().strip() == FAILED_TEXT
    assert page.locator(BANNER).locator("button, a").count() == 0
    assert len(ws_log(page)) == 6  # 1 original + exactly 5 retries
    # The retries spanned exactly 1+2+4+8+16 s of fake time (each measured from a failure
    # that came back within a few ms of the retry, so at most 5*EPS late).
    assert 31_000 <= t_fail - t_first_drop <= 31_000 + 5 * EPS + 5 * 200

    # AC-9: fallback polling. Measured over the next 30 s in 1 s steps.
    t_f = fake_now(page)
    advance(page, 30_000, step=1000)
    msgs = fetch_times(page, cid, "messages", since=t_f)
    assert len(msgs) == 6, msgs  # every 5 s
    assert all(4000 <= b - a <= 6000 for a, b in zip(msgs, msgs[1:])), msgs
    assert len(fetch_times(page, cid, "conversations", since=t_f)) == 2  # every 15 s
    assert len(fetch_times(page, cid, "unread", since=t_f)) == 1  # every 30 s
    assert len(ws_log(page)) == 6  # no retry before the quiet minute is up
    assert ws_state(page) == "failed"

    # Recovery: handshakes allowed again; the quiet retry 60 s after failing reconnects.
    server.fault("refuse", on=False)
    advance(page, 29_000, step=5000)
    assert len(ws_log(page)) == 6
    advance(page, 2_000, step=1000)
    rec = wait_open(page, 6)
    assert 59_000 < rec["created"] - t_f <= 61_000
    wait_state_is(page, "connected")
    assert banner_state(page) is None
    wait_server_open(server, cid, 1)
    # AC-13: connected again, message polling stops (the one gap fill is not a poll).
    t_c = fake_now(page)
    advance(page, 30_000, step=5000)
    assert fetch_times(page, cid, "messages", since=t_c) == []
    assert len(fetch_times(page, cid, "gapfill", since=t_f)) == 1
    assert len(ws_log(page)) == 7


def test_ac6_tab_visible_again_reconnects_at_once_with_backoff_reset(page, server, fresh_conversation):
    cid, _peer = open_clocked_chat(page, server, fresh_conversation)
    t_fail = refuse_and_drop(server, page, cid)
    t_fail = expect_retry_after(page, 1, t_fail, 1000)["closed"]
    t_fail = expect_retry_after(page, 2, t_fail, 2000)["closed"]
    # The next retry would be 4 s away. The tab goes to the background and comes back.
    server.fault("refuse", on=False)
    set_visibility(page, "hidden")
    expect_no_new_socket(page, 3)
    t_visible = fake_now(page)
    set_visibility(page, "visible")
    rec = wait_open(page, 3)
    assert rec["created"] == t_visible  # at once: fake time did not move at all
    wait_state_is(page, "connected")
    assert banner_state(page) is None
    # The backoff counter was reset: the next drop retries after 1 s, not 4 s or 8 s.
    t_fail = refuse_and_drop(server, page, cid, index=3)
    expect_retry_after(page, 4, t_fail, 1000)


def test_network_offline_burns_no_retries_and_online_reconnects_at_once(page, context, server, fresh_conversation):
    cid, _peer = open_clocked_chat(page, server, fresh_conversation)
    refuse_and_drop(server, page, cid)
    context.set_offline(True)
    assert page.evaluate("navigator.onLine") is False
    advance(page, 60_000, step=5000)
    # No retry while offline: a minute would have burnt all five.
    assert len(ws_log(page)) == 1
    assert ws_state(page) == "disconnected"
    assert banner_state(page) == "reconnecting"  # error table: "Network offline"
    server.fault("refuse", on=False)
    t_online = fake_now(page)
    context.set_offline(False)
    rec = wait_open(page, 1)
    assert rec["created"] == t_online
    wait_state_is(page, "connected")
    assert banner_state(page) is None
