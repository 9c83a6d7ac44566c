"""Coming back after trouble, in Chromium: edge 4 (server restart), edge 7 (gap fill after a
flap), edge 11 (unknown / malformed frames), a browser without WebSocket (error table)."""

import re
import time

from e2e_harness import open_conversation
from realtime_support import (EPS, advance, banner_state, expect_retry_after, fake_now, fetch_log,
                              fetch_times, kind_of, login_clocked, message_ids, open_clocked_chat, pause,
                              wait_closed, wait_rendered, wait_server_open, wait_state_is, wait_until,
                              ws_log, ws_state)


def by_id(mid):
    return f"[data-testid=message][data-message-id='{mid}']"


def test_edge4_planned_server_restart_reconnects_at_once_without_a_banner_and_a_message_sent_meanwhile_appears_once(
        page, server, fresh_conversation):
    """serve.py's SIGTERM closes the sockets with 1012 (service restart): the page tries again at
    once and then every 0.5 s (py/ws_hook.py RESTART_RETRY_DELAY), not 1, 2, 4 s, and shows no
    banner; once the server is back the gap is filled. (Unplanned closes still back off: the
    flapping and backoff tests.)"""
    cid, peer = open_clocked_chat(page, server, fresh_conversation, messages=2)
    try:
        server.stop()  # SIGTERM: a planned stop (server/runner.py)
        first = wait_closed(page, 0)
        assert first["code"] == 1012
        # At once: the listener closed before the sockets were told, so this try is refused.
        r1 = wait_closed(page, 1)
        assert 0 <= r1["created"] - first["closed"] <= EPS
        assert r1["opened"] is None and r1["code"] == 1006
        r2 = expect_retry_after(page, 2, r1["closed"], 500)
        assert r2["opened"] is None
        assert banner_state(page) is None
        server.start()  # same database, same port
        sent = peer.send(cid, "sent while the page was away")
        r3 = expect_retry_after(page, 3, r2["closed"], 500, opens=True)
        assert r3["closed"] is None
        wait_state_is(page, "connected")
        wait_rendered(page, by_id(sent["id"]))
        advance(page, 10_000, step=1000)
        assert page.locator(by_id(sent["id"])).count() == 1
        assert page.locator("[data-testid=message]:has-text('sent while the page was away')").count() == 1
        assert message_ids(page) == peer.all_ids(cid)
        assert len(ws_log(page)) == 4
        assert banner_state(page) is None
        wait_server_open(server, cid, 1)
    finally:
        if server.proc is None:
            server.start()


def test_edge7_messages_sent_while_the_link_was_down_appear_once_in_order_after_one_gap_fill(
        page, server, fresh_conversation):
    cid, peer = open_clocked_chat(page, server, fresh_conversation, messages=2)
    wait_rendered(page, "[data-testid=message]", 2)
    last_before = max(message_ids(page))
    # Stay connected a little first, so that message polling is due the moment the link drops.
    advance(page, 6000, step=1000)
    server.fault("refuse", on=True)
    server.fault("close", conversation_id=cid, code=1006)
    t_fail = wait_closed(page, 0)["closed"]
    wait_state_is(page, "disconnected")
    advance(page, 200)  # the fall-back poll that is due at once happens now, before the sends
    assert len(fetch_times(page, cid, "messages", since=t_fail - 1)) == 1
    sent = [peer.send(cid, f"missed {i}")["id"] for i in range(3)]
    r1 = expect_retry_after(page, 1, t_fail, 1000)  # refused
    server.fault("refuse", on=False)
    expect_retry_after(page, 2, r1["closed"], 2000, opens=True)  # 3 s in: before the next 5 s poll
    wait_state_is(page, "connected")
    for mid in sent:
        wait_rendered(page, by_id(mid))
    # They came by exactly one gap fill, after=<the last id the page had>, and no poll.
    fills = [url for _t, _m, url in fetch_log(page) if kind_of(url, cid) == "gapfill"]
    assert len(fills) == 1 and f"after={last_before}" in fills[0]
    assert len(fetch_times(page, cid, "messages", since=t_fail - 1)) == 1
    advance(page, 10_000, step=1000)
    shown = message_ids(page)
    assert shown == peer.all_ids(cid)  # each once, ascending by id
    assert shown[-3:] == sent and len(set(shown)) == len(shown)


def test_edge11_unknown_and_malformed_frames_are_ignored_and_the_link_keeps_working(
        page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=2)
    cid = conv["id"]
    routes = []

    def intercept(ws):
        ws.connect_to_server()  # a real link, frames forwarded both ways
        routes.append(ws)
    page.route_web_socket(re.compile(r".*/ws/messaging/\d+/.*"), intercept)
    login_clocked(page, server, query="?debug=1", clock=False)
    open_conversation(page, cid, "connected")
    wait_until(lambda: routes, "the socket was routed")
    wait_server_open(server, cid, 1)
    junk = [
        '{"type": "weird", "x": 1}',
        "not json",
        "[1, 2, 3]",
        '{"type": "new_message"}',
        '{"type": "new_message", "message": {"id": "x"}}',
        '{"type": "typing_indicator", "user_id": "nobody", "is_typing": "yes"}',
        '{"no_type": true}',
    ]
    for frame in junk:
        routes[0].send(frame)
    sent = peer.send(cid, "after the junk")
    page.locator(by_id(sent["id"])).wait_for()
    assert ws_state(page) == "connected" and banner_state(page) is None
    assert page.locator(by_id(sent["id"])).count() == 1
    assert message_ids(page) == peer.all_ids(cid)
    assert page.watch.errors == []
    ignored = [text for kind, text in page.watch.console if "ignored a WebSocket frame" in text]
    assert len(ignored) == len(junk), page.watch.console
    assert len(routes) == 1 and server.open_sockets(cid) == 1


def test_browser_without_websocket_falls_back_to_polling_with_nothing_visible(page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=2)
    cid = conv["id"]
    page.add_init_script("delete window.WebSocket")
    login_clocked(page, server)
    assert page.evaluate("typeof WebSocket") == "undefined"
    open_conversation(page, cid, "failed")
    pause(page)
    assert banner_state(page) is None  # error table: nothing visible
    sent = peer.send(cid, "delivered by polling")
    t0 = fake_now(page)
    advance(page, 5000, step=1000)
    wait_rendered(page, by_id(sent["id"]))
    assert len(fetch_times(page, cid, "messages", since=t0, until=t0 + 5000)) == 1
    assert ws_log(page) == [] and server.open_sockets(cid) == 0
    time.sleep(0.5)
    assert ws_state(page) == "failed" and banner_state(page) is None
    assert page.watch.errors == []
