"""Delivery in Chromium: the other party's messages appear in the open chat at once (AC-11),
each exactly once whatever brought it (AC-12, edge 6), and the conversation list follows
them without a refetch (AC-15).

The other party is a `Peer` (REST + raw WebSocket), never our own page.
"""

import json
import re

from playwright.sync_api import expect

from ui_support import _module_tab, ui  # noqa: F401 - fixtures
from ui_support import (
    WAIT_MS, enter, gets_of_messages, message_texts, message_with_text, messages, node_tag, open_chat,
    poll_until, row, tag_node, wait_message_count,
)


def _gets_of_conversation_list(urls):
    return [u for u in urls if u.split("?")[0].endswith("/api/messaging/conversations/")]


def test_ac11_peer_message_is_appended_to_the_open_chat_without_refetching_messages(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=3)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    wait_message_count(ui, 3)
    tag_node(ui, "[data-testid=message-list] [data-testid=message]")
    mark = len(ui.watch.requests)

    sent = peer.send(cid, "AC-11 arrives live")

    arrived = ui.locator(f"[data-testid=message][data-message-id='{sent['id']}']")
    arrived.wait_for(timeout=WAIT_MS)
    assert arrived.get_attribute("data-own") == "false"
    # As rendered text: a live message off screen for a frame (content-visibility: auto, the
    # view follows the bottom at the next frame) has no innerText until it is laid out.
    expect(arrived.locator(".message-text")).to_have_text("AC-11 arrives live", use_inner_text=True, timeout=WAIT_MS)
    assert messages(ui).count() == 4
    # Appended, not re-rendered: the first node is the same DOM node as before.
    assert node_tag(ui, "[data-testid=message-list] [data-testid=message]") == "tagged"
    assert gets_of_messages(ui.watch.requests[mark:]) == []


def test_ac12_edge6_own_message_shows_once_after_send_answer_and_socket_echo(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    with peer.socket(cid) as peer_ws:
        ui.get_by_test_id("chat-input").fill("only once please")
        ui.get_by_test_id("chat-input").press("Enter")
        # The server broadcast the message to the group (our page's socket included).
        echo = json.loads(peer_ws.recv(timeout=10))
        while echo["type"] == "typing_indicator":
            echo = json.loads(peer_ws.recv(timeout=10))
    assert echo["type"] == "new_message" and echo["message"]["content"] == "only once please"
    mid = echo["message"]["id"]
    ui.locator(f"[data-testid=message][data-message-id='{mid}']").wait_for(timeout=WAIT_MS)
    ui.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=WAIT_MS)
    # A later message on the same socket: once it shows, the echo before it has been handled.
    sentinel = peer.send(cid, "sentinel")["id"]
    ui.locator(f"[data-testid=message][data-message-id='{sentinel}']").wait_for(timeout=WAIT_MS)
    assert message_with_text(ui, "only once please").count() == 1
    assert messages(ui).count() == 2
    assert peer.all_ids(cid) == [mid, sentinel]


def test_ac12_twenty_quick_sends_show_twenty_messages_in_order_without_duplicates(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=0)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    box = ui.get_by_test_id("chat-input")
    texts = [f"burst {i:02d}" for i in range(20)]
    for text in texts:
        box.fill(text)
        box.press("Enter")

    ui.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=WAIT_MS)
    wait_message_count(ui, 20)
    # Late echoes, if any, come on the socket before a later message: once that one shows, none is left.
    sentinel = peer.send(cid, "sentinel")["id"]
    ui.locator(f"[data-testid=message][data-message-id='{sentinel}']").wait_for(timeout=WAIT_MS)
    assert messages(ui).count() == 21
    assert message_texts(ui) == texts + ["sentinel"]
    ids = [int(x) for x in ui.locator("[data-testid=message-list] [data-testid=message]").evaluate_all(
        "ns => ns.map(n => n.getAttribute('data-message-id'))")]
    assert ids == sorted(ids) and len(set(ids)) == 21
    server_ids = peer.all_ids(cid)
    assert server_ids == ids
    stored = peer.messages(cid, limit=50)["results"]
    assert [m["content"] for m in stored] == texts + ["sentinel"]


def test_ac15_peer_message_lifts_the_open_conversation_and_updates_preview_and_time_without_list_refetch(
        ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=0)      # no messages: sorts below the others
    fresh_conversation(messages=2)                   # a newer conversation above it
    cid = conv["id"]
    enter(ui, server)
    rows = ui.get_by_test_id("conversation-item")
    assert rows.first.get_attribute("data-conversation-id") != str(cid)
    mine = row(ui, cid)
    assert mine.get_by_test_id("conversation-preview").inner_text() == "No messages yet"
    assert mine.locator(".conversation-time").inner_text() == ""
    open_chat(ui, cid)
    mark = len(ui.watch.requests)

    sent = peer.send(cid, "lift me to the top")

    ui.locator(f"[data-testid=message][data-message-id='{sent['id']}']").wait_for(timeout=WAIT_MS)
    poll_until(lambda: rows.first.get_attribute("data-conversation-id") == str(cid), 10, "row on top")
    assert mine.get_by_test_id("conversation-preview").inner_text() == "lift me to the top"
    shown_time = ui.locator(f"[data-testid=message][data-message-id='{sent['id']}'] time").inner_text()
    assert re.fullmatch(r"\d\d:\d\d", shown_time)
    assert mine.locator(".conversation-time").inner_text() == shown_time
    # Open and visible: read at once (AC-28), so no badge.
    assert mine.get_by_test_id("conversation-unread").is_hidden()
    assert _gets_of_conversation_list(ui.watch.requests[mark:]) == []


def test_ac15_peer_message_while_the_chat_is_not_visible_increments_its_unread_badge(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    total_before = int(ui.get_by_test_id("unread-total").inner_text())
    mark = len(ui.watch.requests)
    # The tab is in the background: the chat is open but nobody is looking at it.
    ui.evaluate("Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'})")

    sent = peer.send(cid, "are you there?")

    ui.locator(f"[data-testid=message][data-message-id='{sent['id']}']").wait_for(timeout=WAIT_MS)
    badge = row(ui, cid).get_by_test_id("conversation-unread")
    badge.wait_for(state="visible", timeout=WAIT_MS)
    assert badge.inner_text() == "1"
    assert row(ui, cid).get_by_test_id("conversation-preview").inner_text() == "are you there?"
    poll_until(lambda: int(ui.get_by_test_id("unread-total").inner_text()) == total_before + 1, 10, "total + 1")
    assert _gets_of_conversation_list(ui.watch.requests[mark:]) == []
    assert [u for u in ui.watch.requests[mark:] if u.endswith(f"/conversations/{cid}/read/")] == []
