"""Limits said before they bite (issue 13, point 4): a character counter near 2,000 and a
longer message refused in words, never cut; a file of the wrong type or over 5 MB refused the
moment it is picked, with the reason; a conversation that cannot load says so with a Retry.
"""

from e2e_harness import login, open_conversation
from reliability_support import db_messages, pending, wait_until

NOTICE = "[data-testid=composer-notice]"


def _open(page, server, fresh_conversation, messages=0, state="connected"):
    conv, peer = fresh_conversation(messages=messages)
    login(page, server)
    open_conversation(page, conv["id"], state=state)
    return conv["id"], peer


def test_a_counter_near_the_limit_and_a_longer_message_refused_in_words_never_cut(page, server, fresh_conversation):
    cid, peer = _open(page, server, fresh_conversation)
    box = page.get_by_test_id("chat-input")
    counter = page.get_by_test_id("char-counter")
    assert box.get_attribute("maxlength") is None  # a paste is never cut by the browser
    box.fill("a" * 1799)
    assert not counter.is_visible()
    box.fill("a" * 1850)
    counter.wait_for(state="visible")
    assert counter.inner_text() == "1,850 / 2,000"

    box.fill("b" * 2000 + "Z")
    box.press("Enter")
    notice = page.locator(NOTICE)
    notice.wait_for(state="visible")
    assert notice.inner_text() == ("Not sent: the message is 2,001 characters and the limit is 2,000. "
                                   "Remove 1 character and send again.")
    assert box.input_value() == "b" * 2000 + "Z"  # kept whole
    assert counter.inner_text() == "2,001 / 2,000"
    assert pending(page) == [] and db_messages(server, cid, peer.access) == []
    # (The refused text is never posted: the outbox posts in order, so it would be stored before
    # the 2,000-character one sent next, and the store below holds only that one.)

    box.press("End")
    box.press("Backspace")
    notice.wait_for(state="hidden")
    box.press("Enter")
    wait_until(lambda: len(db_messages(server, cid, peer.access)) == 1, what="the 2,000-character message")
    assert db_messages(server, cid, peer.access)[0]["content"] == "b" * 2000  # every character arrived


def test_the_picker_takes_only_the_contracts_images_and_refuses_others_at_once(page, server, fresh_conversation):
    cid, peer = _open(page, server, fresh_conversation)
    picker = page.get_by_test_id("attach-image")
    assert picker.get_attribute("accept") == "image/png,image/jpeg,image/gif,image/webp"
    notice = page.locator(NOTICE)

    picker.set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    notice.wait_for(state="visible")
    assert notice.inner_text() == "notes.txt is not an image the chat accepts. Choose a PNG, JPEG, GIF or WebP image."
    assert page.locator(".attach-preview").inner_text() == ""

    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024)
    picker.set_input_files(files=[{"name": "huge.png", "mimeType": "image/png", "buffer": big}])
    wait_until(lambda: "huge.png is 5.0 MB; images can be at most 5 MB." == notice.inner_text(),
               what="the size refusal")
    assert page.locator(".attach-preview").inner_text() == ""
    page.get_by_test_id("send-button").click()  # nothing attached, nothing written: nothing sent
    assert pending(page) == []
    # A text sent next is the first thing stored: the empty click posted nothing before it.
    page.get_by_test_id("chat-input").fill("after")
    page.get_by_test_id("chat-input").press("Enter")
    wait_until(lambda: db_messages(server, cid, peer.access) != [], what="the text sent next")
    assert [m["content"] for m in db_messages(server, cid, peer.access)] == ["after"]

    picker.set_input_files(files=[{"name": "ok.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n"}])
    notice.wait_for(state="hidden")
    assert page.locator(".attach-preview").inner_text() == "ok.png"


def test_a_conversation_that_cannot_load_says_so_in_its_pane_with_a_retry(page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=3)
    cid = conv["id"]
    login(page, server)
    failing = f"**/conversations/{cid}/messages/**"
    # On the context, not the page: once the app's service worker controls the page (it may or
    # may not by now), the page's requests pass through it, and page.route does not see them.
    page.context.route(failing, lambda route: route.abort("internetdisconnected"))
    # The chat's socket stays refused: once it connects, the page loads the conversation by
    # itself (the link came back), and the pane and its Retry button would go before the click
    # (seen under load, where the socket connected after the route was lifted).
    server.fault("refuse", on=True)
    open_conversation(page, cid, state=None)
    pane = page.get_by_test_id("load-failed")
    pane.wait_for(state="visible", timeout=20_000)
    assert pane.inner_text().startswith("Could not load this conversation: the server cannot be reached.")
    page.context.unroute(failing)
    page.get_by_test_id("load-retry").click()
    pane.wait_for(state="hidden", timeout=20_000)
    page.locator("[data-testid=message-list] [data-testid=message][data-message-id]").nth(2).wait_for(timeout=20_000)
