"""The live conversation list (issue 13 point 1, CONTRACT "Inbox socket", SPEC AC-26/27).

With serve.py's inbox socket the list follows a message in a conversation that is NOT open
within a second (preview, order, badge, total) and polls only as a 5-minute check. Against a
backend without it (`serve.py --no-inbox`, the session's default `server`) the page keeps the
spec's polling exactly, shows no banner, and asks for the inbox once per 10 minutes, without
a token (so no token reaches the browser's console).
"""

import uuid

import pytest

from e2e_harness import Peer, Server, open_conversation, wait_until
from realtime_support import (advance, banner_state, fake_now, fetch_times, inbox_log, login_clocked, pause,
                              ws_log)

ROW = "[data-testid=conversation-item][data-conversation-id='{}']"

BADGES_JS = """() => {
    const rows = [...document.querySelectorAll('[data-testid=conversation-item]')];
    const badge = (row) => {
        const b = row.querySelector('[data-testid=conversation-unread]');
        return b && !b.hidden ? parseInt(b.textContent, 10) : 0;
    };
    return {
        order: rows.map((r) => parseInt(r.getAttribute('data-conversation-id'), 10)),
        badges: Object.fromEntries(rows.map((r) => [r.getAttribute('data-conversation-id'), badge(r)])),
        previews: Object.fromEntries(rows.map((r) => [r.getAttribute('data-conversation-id'),
            r.querySelector('[data-testid=conversation-preview]').textContent])),
        total: parseInt(document.querySelector('[data-testid=unread-total]').textContent, 10),
    };
}"""


def list_state(page):
    return page.evaluate(BADGES_JS)


def total_agrees(state):
    return state["total"] == sum(state["badges"].values())


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("inbox-server")).start()  # serve.py as shipped: with the inbox
    yield srv
    srv.stop()


def make_conversation(srv, messages=1):
    email = f"t{uuid.uuid4().hex[:10]}@example.com"
    conv = srv.fault("conversation", trainer_email="coach@example.com", trainee_email=email, messages=messages)
    return conv, Peer(srv, email)


def inbox_live(page):
    """The inbox socket that carries a token is open and not closed."""
    return [r for r in inbox_log(page) if "token=" in r["url"] and r["opened"] and not r["closed"]]


def test_with_the_inbox_a_message_in_a_conversation_that_is_not_open_updates_the_list_within_a_second(
        page, live_server):
    open_conv, open_peer = make_conversation(live_server)
    other_conv, other_peer = make_conversation(live_server)
    login_clocked(page, live_server, clock=False)
    open_conversation(page, open_conv["id"])
    wait_until(lambda: inbox_live(page), "the inbox socket is live")
    probes = [r for r in inbox_log(page) if "token=" not in r["url"]]
    assert len(probes) == 1 and probes[0]["code"] == 4001  # the tokenless probe, answered 4001

    # Live, not polled: the row follows with no list fetch in between (how fast is bench/'s).
    list_fetches = len(fetch_times(page, None, "conversations"))
    for n in (1, 2):
        text = f"live list {n} {uuid.uuid4().hex[:6]}"
        other_peer.send(other_conv["id"], text)
        state = wait_until(lambda: (lambda s: s if s["previews"].get(str(other_conv["id"])) == text else None)(
            list_state(page)), f"row {other_conv['id']} shows message {n}", timeout=5, interval=0.02)
        assert state["order"][0] == other_conv["id"]
        assert state["badges"][str(other_conv["id"])] == n + other_conv["unread_count"]
        assert total_agrees(state), state
    assert len(fetch_times(page, None, "conversations")) == list_fetches

    # A message in the open, visible chat: on both sockets, shown once, never unread.
    sent = open_peer.send(open_conv["id"], "in the open chat")
    page.locator(f"[data-testid=message][data-message-id='{sent['id']}']").wait_for(timeout=5000)
    state = wait_until(lambda: (lambda s: s if s["order"][0] == open_conv["id"] else None)(list_state(page)),
                       "the open chat's row on top", timeout=5)
    # A later message on both sockets: once the chat shows it and the row previews it, every
    # copy of the first (each socket delivers in order) has been taken.
    later = open_peer.send(open_conv["id"], "and one more")
    page.locator(f"[data-testid=message][data-message-id='{later['id']}']").wait_for(timeout=5000)
    # (Read when seen: the later message counts as unread until the chat has shown it on screen,
    # so the row is awaited in its settled state.)
    state = wait_until(lambda: (lambda s: s if s["previews"].get(str(open_conv["id"])) == "and one more"
                                and s["badges"][str(open_conv["id"])] == 0 else None)(list_state(page)),
                       "the open chat's row previews the later message, read", timeout=10)
    assert page.locator(f"[data-testid=message][data-message-id='{sent['id']}']").count() == 1
    assert state["badges"][str(open_conv["id"])] == 0 and total_agrees(state), state

    # Read elsewhere (another tab of the coach): the badge clears live, the total follows.
    coach = Peer(live_server, "coach@example.com")
    coach.mark_read(other_conv["id"])
    state = wait_until(lambda: (lambda s: s if s["badges"][str(other_conv["id"])] == 0 else None)(list_state(page)),
                       "the badge cleared by a read elsewhere", timeout=5)
    assert total_agrees(state), state
    for peer in (open_peer, other_peer, coach):
        peer.close()


def test_with_the_inbox_live_the_list_is_polled_every_5_minutes_and_the_unread_count_not_at_all(page, live_server):
    make_conversation(live_server)
    login_clocked(page, live_server)
    wait_until(lambda: inbox_live(page), "the inbox socket is live")
    t0 = pause(page)
    advance(page, 600_000, step=10_000)
    conversations = fetch_times(page, None, "conversations", since=t0, until=t0 + 600_000)
    assert fetch_times(page, None, "unread", since=t0, until=t0 + 600_000) == []
    assert len(conversations) == 2 and conversations[1] - conversations[0] == 300_000, conversations
    assert len(inbox_log(page)) == 2 and inbox_live(page)  # the probe, then one socket all along
    state = list_state(page)
    assert total_agrees(state), state
    # Logout closes the inbox, purposefully (1000), and nothing reopens it.
    page.clock.resume()
    page.get_by_test_id("logout").click()
    closed = wait_until(lambda: [r for r in inbox_log(page) if r["closed"] and "token=" in r["url"]],
                        "the inbox closed at logout")
    assert closed[0]["closedBy"][1] == 1000 and "token=" in closed[0]["url"]
    # Ten fake minutes on: any reconnect or probe timer would have fired by then.
    pause(page)
    advance(page, 600_000, step=60_000)
    assert len(inbox_log(page)) == 2


def test_without_the_inbox_the_spec_polling_is_kept_with_no_banner_and_one_tokenless_probe_per_10_minutes(
        page, server, fresh_conversation):
    assert "--no-inbox" in server.extra_args
    conv, _peer = fresh_conversation(messages=1)
    login_clocked(page, server)
    wait_until(lambda: inbox_log(page) and inbox_log(page)[0]["closed"], "the inbox probe refused")
    probe0 = inbox_log(page)[0]
    assert "token=" not in probe0["url"] and probe0["opened"] is None and probe0["code"] == 1006
    t0 = pause(page)
    # The spec's paces with no chat open (AC-26/27 fall-back): the list every 15 s, the count every 30 s.
    advance(page, 600_000, step=15_000)
    assert len(fetch_times(page, conv["id"], "conversations", since=t0, until=t0 + 600_000)) == 40
    assert len(fetch_times(page, conv["id"], "unread", since=t0, until=t0 + 600_000)) == 20
    advance(page, probe0["closed"] + 1_190_000 - fake_now(page), step=15_000)
    probes = inbox_log(page)
    assert len(probes) == 2, probes
    assert 600_000 <= probes[1]["created"] - probe0["closed"] <= 601_000, probes  # 10 min after the refusal
    assert all("token=" not in p["url"] and p["opened"] is None for p in probes)
    page.clock.resume()
    open_conversation(page, conv["id"])
    assert banner_state(page) is None and len(ws_log(page)) == 1
    print(f"FIGURE no_inbox: probes_in_20_min={len(probes)} banner=None")
