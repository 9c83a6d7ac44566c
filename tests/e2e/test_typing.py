"""Typing in Chromium on Playwright's fake clock: our typing signals (AC-16..AC-19) and the
other party's typing indicator (AC-20..AC-23, edge 12).

Each test opens its chat with the clock running, then freezes it and moves page time
only with run_for; real time may pass in between (network), page time does not.
"""

import json

from ui_support import _module_clocked_tab, clocked_ui  # noqa: F401 - fixtures
from ui_support import (
    WAIT_MS, advance, at_bottom, message_with_text, now_ms, open_frozen, poll_until, settle, typing_sends,
    wait_message_count,
)


def test_ac16_ac17_ac18_typing_sends_true_at_most_every_3s_and_false_after_3s_idle(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, _peer = fresh_conversation(messages=1)
    frames = open_frozen(page, server, conv["id"])
    box = page.get_by_test_id("chat-input")
    t0 = now_ms(page)

    # A keystroke every 500 ms of page time for 6.5 s.
    box.press_sequentially("a")
    for _ in range(13):
        advance(page, 500)
        box.press_sequentially("b")
    assert now_ms(page) - t0 == 6500
    advance(page, 2950)
    assert typing_sends(page, t0) == [(0, True), (3000, True), (6000, True)]   # AC-16, AC-17

    advance(page, 100)   # 3 s after the last keystroke
    assert typing_sends(page, t0) == [(0, True), (3000, True), (6000, True), (9500, False)]   # AC-18
    poll_until(lambda: len(frames.typing_sent()) == 4, 10, "the frames on the wire", page=page)
    assert frames.typing_sent() == [True, True, True, False]

    advance(page, 5000)   # idle: nothing more
    assert len(typing_sends(page, t0)) == 4


def test_ac19_sending_a_message_sends_typing_false_at_once(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, peer = fresh_conversation(messages=1)
    frames = open_frozen(page, server, conv["id"])
    box = page.get_by_test_id("chat-input")
    t0 = now_ms(page)
    box.press_sequentially("on my way")
    advance(page, 500)

    box.press("Enter")

    assert typing_sends(page, t0) == [(0, True), (500, False)]
    poll_until(lambda: frames.typing_sent() == [True, False], 10, "the frames on the wire", page=page)
    advance(page, 4000)   # no idle False after the send already said it
    assert typing_sends(page, t0) == [(0, True), (500, False)]
    poll_until(lambda: [m["content"] for m in peer.messages(conv["id"])["results"]][-1:] == ["on my way"],
               10, "the message to be stored")


def _peer_typing(ws, frames, page, value=True):
    before = len(frames.received_of("typing_indicator"))
    ws.send(json.dumps({"type": "typing", "is_typing": value}))
    poll_until(lambda: len(frames.received_of("typing_indicator")) > before, 10,
               "the page to receive typing_indicator", page=page)


def test_ac20_ac22_peer_typing_shows_name_is_typing_between_the_list_and_the_composer(
        clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, peer = fresh_conversation(messages=40)
    cid = conv["id"]
    frames = open_frozen(page, server, cid)
    wait_message_count(page, 40)
    settle(page)
    assert at_bottom(page)
    assert page.get_by_test_id("typing-indicator").count() == 0

    with peer.socket(cid) as ws:
        _peer_typing(ws, frames, page)
        indicator = page.get_by_test_id("typing-indicator")
        indicator.wait_for(timeout=WAIT_MS)
        settle(page)

        assert indicator.inner_text().strip() == f"{conv['trainee']['first_name']} is typing..."
        assert indicator.get_attribute("aria-live") == "polite"
        assert indicator.locator(".dots span").count() == 3   # the animated dots
        order = page.evaluate("""() => {
            const list = document.querySelector('[data-testid=message-list]');
            const ind = document.querySelector('[data-testid=typing-indicator]');
            const input = document.querySelector('[data-testid=chat-input]');
            return [!!(list.compareDocumentPosition(ind) & Node.DOCUMENT_POSITION_FOLLOWING),
                    !!(ind.compareDocumentPosition(input) & Node.DOCUMENT_POSITION_FOLLOWING),
                    list.contains(ind)];
        }""")
        assert order == [True, True, False]
        lst = page.get_by_test_id("message-list").bounding_box()
        ind = indicator.bounding_box()
        composer = page.locator("form.composer").bounding_box()
        assert lst["y"] + lst["height"] <= ind["y"] + 1
        assert ind["y"] + ind["height"] <= composer["y"] + 1
        # AC-23: the list got shorter; the reader at the bottom stays at the bottom.
        assert at_bottom(page)

        _peer_typing(ws, frames, page, value=False)
        indicator.wait_for(state="detached", timeout=WAIT_MS)
        settle(page)
        assert at_bottom(page)


def test_ac21_edge12_typing_indicator_hides_4s_after_the_last_update(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    frames = open_frozen(page, server, cid)
    indicator = page.get_by_test_id("typing-indicator")
    with peer.socket(cid) as ws:
        _peer_typing(ws, frames, page)
        indicator.wait_for(timeout=WAIT_MS)
        advance(page, 3950)
        assert indicator.count() == 1
        advance(page, 100)
        assert indicator.count() == 0

        # A fresh update restarts the 4 s: updates 2 s apart keep it up.
        _peer_typing(ws, frames, page)
        indicator.wait_for(timeout=WAIT_MS)
        advance(page, 2000)
        _peer_typing(ws, frames, page)
        advance(page, 3950)
        assert indicator.count() == 1
        advance(page, 100)
        assert indicator.count() == 0

        # Edge 12: the peer's link drops right after "typing: true"; the 4 s still apply.
        _peer_typing(ws, frames, page)
    indicator.wait_for(timeout=WAIT_MS)
    advance(page, 3950)
    assert indicator.count() == 1
    advance(page, 100)
    assert indicator.count() == 0


def test_ac20_typing_indicator_hides_when_the_peers_message_arrives(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    frames = open_frozen(page, server, cid)
    indicator = page.get_by_test_id("typing-indicator")
    with peer.socket(cid) as ws:
        _peer_typing(ws, frames, page)
        indicator.wait_for(timeout=WAIT_MS)
        advance(page, 500)

        peer.send(cid, "done typing")

        poll_until(lambda: frames.received_of("new_message"), 10, "the new_message frame", page=page)
        settle(page)
        message_with_text(page, "done typing").wait_for(timeout=WAIT_MS)
        assert indicator.count() == 0
