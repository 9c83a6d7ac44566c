"""Scrolling in Chromium: where the message list is scrolled (AC-14, edge case 8) and
loading older history without moving what the reader is looking at."""

from ui_support import _module_tab, ui  # noqa: F401 - fixtures
from ui_support import (
    WAIT_MS, after_frames, at_bottom, enter, messages, open_chat, poll_until, scroll_metrics, wait_message_count,
)

LIST = "[data-testid=message-list]"


def _scroll_list_to(page, top):
    # Returns once the list's scroll event has been dispatched: the app's listener, added
    # before this one, has run by then.
    page.evaluate("""(t) => new Promise((done) => {
        const list = document.querySelector('[data-testid=message-list]');
        const before = list.scrollTop;
        list.addEventListener('scroll', () => done(), {once: true});
        list.scrollTop = t;
        if (list.scrollTop === before) done();  // nothing moved: no event will come
    })""", top)


def _message_y(page, mid):
    return page.locator(f"[data-testid=message][data-message-id='{mid}']").bounding_box()["y"]


def test_ac14_new_message_while_at_the_bottom_scrolls_it_into_view(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=40)
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    wait_message_count(ui, 40)
    poll_until(lambda: at_bottom(ui), 10, "the list to open at the bottom")
    m = scroll_metrics(ui)
    assert m["height"] > m["client"] + 400  # really scrollable

    sent = peer.send(cid, "keep me in view")

    node = ui.locator(f"[data-testid=message][data-message-id='{sent['id']}']")
    node.wait_for(timeout=WAIT_MS)
    poll_until(lambda: at_bottom(ui), 10, "the list to follow to the bottom")
    box, pane = node.bounding_box(), ui.locator(LIST).bounding_box()
    assert box["y"] + box["height"] <= pane["y"] + pane["height"] + 1
    assert ui.get_by_test_id("scroll-to-bottom").count() == 0


def test_ac14_edge8_reading_history_a_new_message_keeps_the_view_and_shows_the_new_messages_button(
        ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=40)   # one page: nothing older to load at the top
    cid = conv["id"]
    enter(ui, server)
    open_chat(ui, cid)
    wait_message_count(ui, 40)
    poll_until(lambda: at_bottom(ui), 10, "the list to open at the bottom")
    _scroll_list_to(ui, 0)
    assert scroll_metrics(ui)["top"] == 0
    first_y = _message_y(ui, peer.all_ids(cid)[0])

    sent = peer.send(cid, "one new while you read")

    ui.locator(f"[data-testid=message][data-message-id='{sent['id']}']").wait_for(timeout=WAIT_MS)
    button = ui.get_by_test_id("scroll-to-bottom")
    button.wait_for(timeout=WAIT_MS)
    assert scroll_metrics(ui)["top"] == 0
    assert abs(_message_y(ui, peer.all_ids(cid)[0]) - first_y) < 1
    assert button.inner_text().startswith("1 new message")
    assert "messages" not in button.inner_text()

    peer.send(cid, "and another")
    poll_until(lambda: button.inner_text().startswith("2 new messages"), 10, "the count to reach 2")
    assert scroll_metrics(ui)["top"] == 0

    button.click()

    button.wait_for(state="detached", timeout=WAIT_MS)
    poll_until(lambda: at_bottom(ui), 10, "the list to reach the bottom")
    assert messages(ui).count() == 42


def test_scrolling_up_loads_older_history_and_keeps_the_visible_messages_in_place(ui, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=120)
    cid = conv["id"]
    enter(ui, server)
    held = []
    ui.route(lambda url: f"/conversations/{cid}/messages/" in url and "before=" in url, lambda route: held.append(route))
    try:
        open_chat(ui, cid)
        wait_message_count(ui, 50)
        poll_until(lambda: at_bottom(ui), 10, "the list to open at the bottom")
        ids = peer.all_ids(cid)
        oldest_shown = ids[-50]

        _scroll_list_to(ui, 0)
        poll_until(lambda: held, 10, "the request for older messages", page=ui)
        assert "before=" + str(oldest_shown) in held[0].request.url
        y_before = _message_y(ui, oldest_shown)
        top_before = scroll_metrics(ui)["top"]

        held[0].continue_()

        wait_message_count(ui, 100)
        after_frames(ui)  # any later frame that might still move the list
        y_after = _message_y(ui, oldest_shown)
        assert abs(y_after - y_before) <= 2, (y_before, y_after)
        assert scroll_metrics(ui)["top"] > top_before
        shown = [int(x) for x in ui.locator(f"{LIST} [data-testid=message]").evaluate_all(
            "ns => ns.map(n => n.getAttribute('data-message-id'))")]
        assert shown == ids[-100:]
    finally:
        ui.unroute_all()
