"""Auth and access close codes in Chromium on a fake clock: edge case 1 (4001), 4003,
archived conversations (edge 10), and AC-9's fallback poll rates while failed.
"""

import time

from e2e_harness import open_conversation, wait_state
from realtime_support import (advance, banner_state, fake_now, fetch_log, fetch_times, login_clocked,
                              open_and_pause, open_clocked_chat, settle, stored_access_token, token_of,
                              wait_closed, wait_open, wait_rendered, wait_server_open, wait_state_is, ws_log,
                              ws_state)

REFRESH_URL = "**/api/auth/jwt/refresh/"


def message_with(text):
    return f"[data-testid=message]:has-text('{text}')"


def test_edge1_4001_with_expired_token_refreshes_and_reconnects_with_nothing_visible(page, server, fresh_conversation):
    cid, _peer = open_clocked_chat(page, server, fresh_conversation)
    old = stored_access_token(page)
    t0 = fake_now(page)
    # The server stops accepting every access token issued so far and closes the socket with 4001.
    server.fault("expire_tokens")
    first = wait_closed(page, 0)
    assert first["code"] == 4001
    second = wait_open(page, 1)
    wait_state_is(page, "connected")
    new = stored_access_token(page)
    assert new != old and token_of(second["url"]) == new
    # Straight away (no backoff step: fake time never moved), after exactly one refresh.
    assert second["created"] == first["closed"] == t0
    assert len(fetch_times(page, cid, "refresh", since=t0 - 1)) == 1
    # Error table: nothing visible, not even after the banner's 1 s grace.
    advance(page, 3000, step=1000)
    assert banner_state(page) is None and ws_state(page) == "connected"
    assert len(ws_log(page)) == 2
    wait_server_open(server, cid, 1)


def test_edge1_4001_then_refresh_unreachable_falls_back_to_polling_silently_then_recovers(
        page, server, fresh_conversation):
    cid, peer = open_clocked_chat(page, server, fresh_conversation, messages=2)
    page.route(REFRESH_URL, lambda route: route.abort())  # the refresh never gets an answer
    server.fault("close", conversation_id=cid, code=4001)
    assert wait_closed(page, 0)["code"] == 4001
    wait_state_is(page, "failed")
    t0 = fake_now(page)
    assert banner_state(page) is None  # error table: 4001 shows nothing
    # Polling carries the conversation: the peer's message arrives within one 5 s poll.
    peer.send(cid, "sent while the socket is down")
    advance(page, 5000, step=1000)
    wait_rendered(page, message_with("sent while the socket is down"))
    assert len(ws_log(page)) == 1  # no socket without a token
    # The quiet retry a minute later refreshes again; still unreachable: still failed, silent.
    advance(page, 60_000 - (fake_now(page) - t0) + 1000, step=5000)
    assert len(fetch_times(page, cid, "refresh", since=t0 + 30_000)) == 1
    assert ws_state(page) == "failed" and banner_state(page) is None and len(ws_log(page)) == 1
    # The refresh works again: the next quiet retry (another minute) reconnects.
    page.unroute(REFRESH_URL)
    advance(page, 60_000, step=5000)
    rec = wait_open(page, 1)
    assert 119_000 <= rec["created"] - t0 <= 121_500
    wait_state_is(page, "connected")
    assert token_of(rec["url"]) == stored_access_token(page)
    assert page.locator(message_with("sent while the socket is down")).count() == 1
    wait_server_open(server, cid, 1)


def test_edge1_4001_then_refresh_rejected_ends_the_session(page, server, fresh_conversation):
    cid, _peer = open_clocked_chat(page, server, fresh_conversation)
    server.fault("refresh", fail=True)
    server.fault("expire_tokens")  # closes the socket with 4001; the refresh answers 401
    assert wait_closed(page, 0)["code"] == 4001
    # What happens: the socket machine falls back (failed, reason auth), but a rejected refresh
    # means the session is over (CONTRACT: "if the refresh fails, the session is over"), so
    # the app closes the chat and shows the login form with a calm message.
    wait_state(page, "login", timeout=20_000)
    assert page.get_by_test_id("login-error").inner_text() == "Your session has ended. Please sign in again."
    assert stored_access_token(page) is None
    assert page.evaluate("localStorage.getItem('refresh_token')") is None
    assert page.locator("[data-testid=chat-view]").count() == 0
    t_end = fake_now(page)
    settle(page)
    n_fetches = len(fetch_log(page))
    advance(page, 120_000, step=5000)
    # Nothing keeps running: no socket retries, no polls, no refreshes.
    assert len(ws_log(page)) == 1
    assert fetch_log(page)[n_fetches:] == []
    assert fake_now(page) - t_end == 120_000
    wait_server_open(server, cid, 0)


def test_4003_and_archived_fall_back_to_polling_with_nothing_visible_and_no_retries(page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=2)
    archived, _ = fresh_conversation(messages=2, archived=True)
    cid, aid = conv["id"], archived["id"]
    login_clocked(page, server)
    open_and_pause(page, cid)
    server.fault("close", conversation_id=cid, code=4003)
    assert wait_closed(page, 0)["code"] == 4003
    wait_state_is(page, "failed")
    assert banner_state(page) is None  # error table: "Access denied (4003)": nothing visible
    # Skip the first second (a poll may be due at the very moment of the fall-back), then
    # count two simulated minutes: AC-9 rates, exactly (each interval divides 120 s).
    advance(page, 1000)
    t0 = fake_now(page)
    # Steps of 2.5 s: each divides every interval, so a poll is counted in the step it is due.
    advance(page, 60_000, step=2500)
    assert banner_state(page) is None and ws_state(page) == "failed"
    advance(page, 60_000, step=2500)
    t1 = fake_now(page)
    assert len(ws_log(page)) == 1  # no retries, ever
    counts = {kind: len(fetch_times(page, cid, kind, since=t0, until=t1))
              for kind in ("messages", "conversations", "unread", "gapfill")}
    assert counts == {"messages": 24, "conversations": 8, "unread": 4, "gapfill": 0}
    msgs = fetch_times(page, cid, "messages", since=t0, until=t1)
    assert all(2500 <= b - a <= 7500 for a, b in zip(msgs, msgs[1:])), msgs
    assert banner_state(page) is None and ws_state(page) == "failed"
    # Polling delivers.
    peer.send(cid, "polled in")
    advance(page, 5000, step=1000)
    wait_rendered(page, message_with("polled in"))

    # Edge 10 / CONTRACT: an archived conversation is read-only, opens no socket, shows no banner.
    open_conversation(page, aid, state="failed")
    time.sleep(1.0)
    assert banner_state(page) is None
    assert page.get_by_test_id("chat-input").count() == 0
    assert len(ws_log(page)) == 1
    assert server.open_sockets(aid) == 0
    t2 = fake_now(page)
    advance(page, 10_000, step=1000)
    assert len(fetch_times(page, aid, "messages", since=t2)) == 2


def test_a_short_lived_access_token_serves_the_calls_after_it_without_a_refresh_storm(browser, tmp_path):
    # Issue 10, bug 2: a token counted as stale 30 s before its exp whatever its lifetime, so
    # against a server issuing short tokens every API call refreshed (twice right after login,
    # once more right after the socket opened). The margin now follows exp - iat.
    from e2e_harness import Server, login, open_conversation
    srv = Server(tmp_path, extra_args=["--access-ttl", "20"]).start()
    context = browser.new_context()
    try:
        page = context.new_page()
        refreshes, api_calls = [], []
        page.on("request", lambda r: refreshes.append(r.url) if r.url.endswith("/api/auth/jwt/refresh/")
                else api_calls.append(r.url) if "/api/" in r.url else None)
        started = time.time()
        login(page, srv)
        conversation = page.get_by_test_id("conversation-item").first
        cid = int(conversation.get_attribute("data-conversation-id"))
        open_conversation(page, cid)
        for text in ("one", "two", "three"):
            page.get_by_test_id("chat-input").fill(text)
            page.get_by_test_id("send-button").click()
        page.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=20_000)
        assert time.time() - started < 17, "the test must finish inside the token's fresh life (20 s - 2 s margin)"
        assert len([u for u in api_calls if u.split("?")[0].endswith("/send/")]) == 3
        assert refreshes == []
        # The socket opened with the token login gave (no refresh in between).
        assert srv.open_sockets(cid) == 1
    finally:
        context.close()
        srv.stop()
