"""The connection banner in Chromium on Playwright's fake clock (AC-29..AC-31, error table).

Each test opens its chat with the clock running, then freezes it and moves page time
only with run_for; real time may pass in between (network), page time does not.
"""

from e2e_harness import wait_until
from ui_support import _module_clocked_tab, clocked_ui  # noqa: F401 - fixtures
from ui_support import advance, advance_until, link_log, open_frozen, record_link, wait_link_left, wait_ws_state


RECONNECTING = "Reconnecting..."


FAILED = "Real-time updates unavailable. Messages may be delayed."


def _close_the_socket(server, cid, code):
    # The page can see its socket open a moment before the server has registered it; a close
    # fault sent in that moment closes nothing and the test would wait for a state in vain.
    wait_until(lambda: server.open_sockets(cid) == 1, what="the server to hold the page's socket")
    assert server.fault("close", conversation_id=cid, code=code)["closed"] == 1


def _banner(page):
    return page.get_by_test_id("connection-banner")


def _state(page, cid):
    return page.get_attribute(f"[data-testid=chat-view][data-conversation-id='{cid}']", "data-ws-state")


def test_ac29_ac30_reconnecting_banner_after_1s_down_and_gone_once_reconnected(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, _peer = fresh_conversation(messages=1)
    cid = conv["id"]
    open_frozen(page, server, cid)
    assert _banner(page).count() == 0                 # AC-29: connected shows nothing
    assert RECONNECTING not in page.locator("body").inner_text()

    server.fault("refuse", on=True)
    _close_the_socket(server, cid, 1006)
    wait_ws_state(page, cid, "disconnected")
    advance(page, 900)
    assert _banner(page).count() == 0                 # a blip under a second shows nothing
    advance(page, 150)
    banner = _banner(page)
    assert banner.count() == 1
    assert banner.inner_text().strip() == RECONNECTING
    assert banner.get_attribute("data-state") == "reconnecting"
    assert banner.locator(".spinner").count() == 1
    assert banner.locator("button").count() == 0
    # At the top of the chat area: above the message list.
    assert banner.bounding_box()["y"] < page.get_by_test_id("message-list").bounding_box()["y"]

    server.fault("refuse", on=False)
    advance_until(page, cid, lambda: _state(page, cid) == "connected", 20_000)
    assert _banner(page).count() == 0                 # AC-30: auto-hides when reconnected


def test_ac31_error_table_refused_server_shows_the_failed_banner_after_five_retries(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, _peer = fresh_conversation(messages=1)
    cid = conv["id"]
    open_frozen(page, server, cid)
    server.fault("refuse", on=True)
    _close_the_socket(server, cid, 1006)
    wait_ws_state(page, cid, "disconnected")

    spent = advance_until(page, cid, lambda: _state(page, cid) == "failed", 60_000, step=250)

    assert spent >= 1000 + 2000 + 4000 + 8000 + 16000   # AC-5's schedule came first
    banner = _banner(page)
    assert banner.inner_text().strip() == FAILED
    assert banner.get_attribute("data-state") == "failed"
    assert banner.locator("button, a").count() == 0    # no action: polling is automatic
    assert banner.locator(".spinner").count() == 0


def test_ac30_a_reconnect_within_a_second_shows_no_banner(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, _peer = fresh_conversation(messages=1)
    cid = conv["id"]
    open_frozen(page, server, cid)
    record_link(page, cid)

    # 4001: the client refreshes its token and reconnects at once (edge 1), no backoff.
    # Close event, refresh fetch, new socket: network events and Pyodide's zero-delay
    # callbacks (a MessageChannel, not a timer), so it all happens with page time frozen.
    _close_the_socket(server, cid, 4001)
    wait_link_left(page)
    spent = advance_until(page, cid, lambda: _state(page, cid) == "connected", 950, step=10)

    states = link_log(page)["states"]
    assert [s for s, _at in states] == ["connected", "connecting", "connected"]
    assert spent < 1000 and states[-1][1] - states[1][1] < 1000
    advance(page, 2000)                               # the banner's second would be over
    assert link_log(page)["banner"] is False
