"""Opening, authenticating and switching sockets in Chromium: AC-1..AC-4, AC-10, edge case 2."""

import base64
import json
import time

from e2e_harness import conversation_row, login, open_conversation
from realtime_support import (VIEW, fake_now, fetch_times, install_recorder, login_clocked, pause,
                              stored_access_token, token_of, wait_open, wait_server_open, wait_state_is,
                              wait_until, ws_log)


def claims(token):
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_ac1_ac2_ac3_opening_a_conversation_opens_one_socket_with_the_current_token(page, server, fresh_conversation):
    conv_a, _ = fresh_conversation()
    conv_b, _ = fresh_conversation()
    a, b = conv_a["id"], conv_b["id"]
    install_recorder(page)
    seen = []
    # Conversation sockets only: the optional inbox (probed once at login) is test_inbox.py's.
    page.on("websocket", lambda ws: None if "/ws/inbox/" in ws.url else seen.append(ws.url))
    login(page, server)
    assert ws_log(page) == [] and seen == []  # no conversation open, no socket

    open_conversation(page, a, "connected")
    token = stored_access_token(page)
    # AC-2: ws:// because the page is http://, on the page's own host, the exact path.
    assert page.evaluate("location.origin") == server.origin
    expected = f"ws://127.0.0.1:{server.port}/ws/messaging/{a}/?token={token}"
    assert [r["url"] for r in ws_log(page)] == [expected]
    assert seen == [expected]
    # AC-3: the token is the session's current access token (the coach's).
    assert claims(token_of(expected))["user_id"] == claims(token)["user_id"]
    assert claims(token)["token_type"] == "access"
    wait_server_open(server, a, 1)

    # AC-1 / AC-10: changing conversation closes the old socket (1000) before the new one opens.
    open_conversation(page, b, "connected")
    log = ws_log(page)
    assert [r["url"] for r in log] == [expected, f"ws://127.0.0.1:{server.port}/ws/messaging/{b}/?token={token}"]
    assert log[0]["closedBy"] is not None and log[0]["closedBy"][1] == 1000
    assert log[0]["closedBy"][0] <= log[1]["created"]
    wait_until(lambda: ws_log(page)[0]["code"] == 1000, "old socket's close event with 1000")
    wait_server_open(server, a, 0)
    assert server.open_sockets(b) == 1
    assert len(seen) == 2
    assert page.watch.errors == []


def test_ac4_expired_access_token_is_refreshed_before_connecting(page, server, fresh_conversation):
    conv, _ = fresh_conversation()
    cid = conv["id"]
    login_clocked(page, server)
    pause(page)
    old = stored_access_token(page)
    exp_ms = claims(old)["exp"] * 1000
    # The token is now expired both for the server and, by its `exp`, for the page's clock.
    # (set_system_time moves Date.now without firing any timer: no poll refreshes first.)
    server.fault("expire_tokens")
    page.clock.set_system_time((exp_ms + 60_000) / 1000.0)
    t_open = fake_now(page)
    refreshes_before = fetch_times(page, cid, "refresh")
    assert refreshes_before == []
    open_conversation(page, cid, state=None)
    rec = wait_open(page, 0)
    wait_state_is(page, "connected")
    new = stored_access_token(page)
    assert new != old
    assert token_of(rec["url"]) == new
    # Exactly one refresh, before the socket was created; one socket; no 4001 round trip.
    refreshes = fetch_times(page, cid, "refresh", since=t_open - 1)
    assert len(refreshes) == 1 and refreshes[0] <= rec["created"]
    # The server holds the socket open: it took the token (a refused one is closed with 4001
    # at once), and with fake time paused no retry timer can make a second one.
    wait_server_open(server, cid, 1)
    log = ws_log(page)
    assert len(log) == 1 and log[0]["closed"] is None


def _burst_click(page, ids):
    """Ten clicks in one JavaScript task: as quick as switching can possibly be."""
    page.evaluate("""(ids) => {
        for (const id of ids) {
            document.querySelector(`[data-testid=conversation-item][data-conversation-id='${id}']`).click();
        }
    }""", ids)


def _assert_only_socket_is(page, server, cids, last):
    wait_until(lambda: [server.open_sockets(c) for c in cids] == [1 if c == last else 0 for c in cids],
               "exactly one open socket, on the last conversation")
    wait_until(lambda: server.sockets()["total"] == 1, "one open socket in total on the server")
    time.sleep(1.5)  # a late socket from a disposed chat would show up by now
    assert [server.open_sockets(c) for c in cids] == [1 if c == last else 0 for c in cids]
    assert server.sockets()["total"] == 1
    views = page.locator(VIEW)
    assert views.count() == 1
    assert views.get_attribute("data-conversation-id") == str(last)
    wait_state_is(page, "connected")
    log = ws_log(page)
    live = [r for r in log if r["closedBy"] is None]
    assert len(live) == 1 and f"/ws/messaging/{last}/" in live[0]["url"]
    # Every other socket was closed on purpose with 1000 (AC-10, decision 4).
    assert all(r["closedBy"][1] == 1000 for r in log if r is not live[0])


def test_ac10_edge2_rapid_switching_leaves_exactly_one_open_socket(page, server, fresh_conversation):
    convs = [fresh_conversation()[0]["id"] for _ in range(3)]
    install_recorder(page)
    login(page, server)
    order = [convs[i % 3] for i in range(10)]  # a b c a b c a b c a
    _burst_click(page, order)
    _assert_only_socket_is(page, server, convs, order[-1])
    # And again with real, separate clicks, ending on another conversation.
    order = [convs[(i + 2) % 3] for i in range(10)][::-1]
    for cid in order:
        conversation_row(page, cid).click()
    _assert_only_socket_is(page, server, convs, order[-1])
    assert page.watch.errors == []
