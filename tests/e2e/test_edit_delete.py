"""Issue 22.3, fix mistakes: edit (15 minutes) and delete (48 hours) one's own messages, from
a keyboard-reachable menu on the message or with Up arrow in an empty composer; "edited"
shown; a deleted message reads "This message was deleted" for both sides, live. Against
serve.py (which offers both), and against a backend without the capabilities call."""

import json
import os
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from e2e_harness import WAIT_MS, Peer, Server, login
from ui_support import _module_clocked_tab, _module_tab, clocked_ui, ui  # noqa: F401 - fixtures
from ui_support import PHONE, enter, message_with_text, open_chat

BLOCKING = ("serious", "critical")
# As in test_layout.py: the README's shots are refreshed only when asked (UPDATE_SCREENSHOTS=1).
SHOTS = Path(__file__).resolve().parents[2] / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "test-artifacts") \
    / "screenshots"


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def _blocking_violations(page):
    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in BLOCKING]


def _send(page, text):
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-input").press("Enter")
    node = page.locator("[data-testid=message][data-message-id]").filter(
        has=page.locator(".message-text", has_text=text)).last
    node.wait_for(timeout=WAIT_MS)
    # Held by id from here on: its words are what the tests change.
    return page.locator(f"[data-testid=message][data-message-id='{node.get_attribute('data-message-id')}']")


def _focused(page, attribute="data-testid"):
    return page.evaluate("(a) => document.activeElement && document.activeElement.getAttribute(a)", attribute)


def _capabilities_known(page):
    page.wait_for_selector("body[data-capabilities]", state="attached", timeout=WAIT_MS)


def _open(page, server, cid, email="coach@example.com"):
    enter(page, server, email)
    open_chat(page, cid)
    _capabilities_known(page)


# ----- edit ----------------------------------------------------------------------------------------

def test_edit_from_the_menu_saves_in_place_and_the_other_side_hears_it(ui, server, fresh_conversation):
    conv, trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(ui, server, cid)
    node = _send(ui, "Squats at 6")
    mid = int(node.get_attribute("data-message-id"))
    with trainee.socket(cid) as ws:
        node.get_by_test_id("message-menu-button").click()
        ui.get_by_test_id("message-menu-edit").click()
        bar = ui.get_by_test_id("edit-bar")
        assert bar.is_visible() and "Editing message" in bar.inner_text()
        box = ui.get_by_test_id("chat-input")
        assert box.input_value() == "Squats at 6"
        assert _focused(ui) == "chat-input"
        box.fill("Squats at 7")
        box.press("Enter")
        node.get_by_test_id("message-edited").wait_for(timeout=WAIT_MS)
        assert node.locator(".message-text").inner_text() == "Squats at 7"
        assert node.get_attribute("data-message-id") == str(mid)  # the same node, changed in place
        bar.wait_for(state="hidden", timeout=WAIT_MS)
        assert box.input_value() == ""
        # The other side: the server stored it and broadcast message_updated.
        frames = []
        while not any(f.get("type") == "message_updated" for f in frames):
            frames.append(json.loads(ws.recv(timeout=10)))
    stored = trainee.messages(cid)["results"][-1]
    assert stored["content"] == "Squats at 7" and stored["edited_at"]
    assert ui.get_by_test_id("message-list").locator("[data-testid=message]").count() == 1


def test_the_other_partys_edit_and_delete_arrive_live(ui, server, fresh_conversation):
    conv, trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(ui, server, cid)
    first = trainee.send(cid, "Knee hurts a bit")
    second = trainee.send(cid, "Wrong chat, sorry")
    message_with_text(ui, "Wrong chat, sorry").wait_for(timeout=WAIT_MS)
    edited = trainee.http.patch(f"/api/messaging/messages/{first['id']}/", json={"content": "Knee is fine now"})
    assert edited.status_code == 200
    assert trainee.http.delete(f"/api/messaging/messages/{second['id']}/").status_code == 204
    theirs = ui.locator(f"[data-testid=message][data-message-id='{first['id']}']")
    theirs.get_by_test_id("message-edited").wait_for(timeout=WAIT_MS)
    assert theirs.locator(".message-text").inner_text() == "Knee is fine now"
    gone = ui.locator(f"[data-testid=message][data-message-id='{second['id']}'][data-deleted=true]")
    gone.wait_for(timeout=WAIT_MS)
    assert gone.inner_text().startswith("This message was deleted")
    # Not one's own: no menu on either.
    assert theirs.get_by_test_id("message-menu-button").count() == 0


def test_keyboard_menu_up_arrow_escape_and_axe(ui, server, fresh_conversation):
    conv, _trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(ui, server, cid)
    node = _send(ui, "Rest day tomorrow")
    button = node.get_by_test_id("message-menu-button")
    assert button.get_attribute("aria-haspopup") == "menu"
    button.focus()
    ui.keyboard.press("Enter")
    menu = ui.get_by_test_id("message-menu")
    menu.wait_for(timeout=WAIT_MS)
    assert menu.get_attribute("role") == "menu"
    assert button.get_attribute("aria-expanded") == "true"
    assert _focused(ui) == "message-menu-edit"
    ui.keyboard.press("ArrowDown")
    assert _focused(ui) == "message-menu-delete"
    ui.keyboard.press("ArrowDown")  # wraps
    assert _focused(ui) == "message-menu-edit"
    ui.keyboard.press("End")
    assert _focused(ui) == "message-menu-delete"
    assert _blocking_violations(ui) == []
    _shot(ui, "message-menu.png")
    ui.keyboard.press("Escape")
    menu.wait_for(state="detached", timeout=WAIT_MS)
    assert _focused(ui) == "message-menu-button"
    assert button.get_attribute("aria-expanded") == "false"
    assert ui.get_by_test_id("chat-view").count() == 1  # Escape closed the menu, not the chat

    # Up arrow in an empty composer edits the last own message; Escape gives the draft back.
    box = ui.get_by_test_id("chat-input")
    box.focus()
    box.press("ArrowUp")
    ui.get_by_test_id("edit-bar").wait_for(timeout=WAIT_MS)
    assert box.input_value() == "Rest day tomorrow"
    assert ui.get_by_test_id("send-button").get_attribute("aria-label") == "Save changes"
    assert _blocking_violations(ui) == []
    _shot(ui, "editing-message.png")
    box.fill("")
    box.press("Enter")  # empty: refused calmly, the edit stays open
    notice = ui.get_by_test_id("composer-notice")
    notice.wait_for(timeout=WAIT_MS)
    assert "can't be empty" in notice.inner_text()
    assert ui.get_by_test_id("edit-bar").is_visible()
    box.press("Escape")
    ui.get_by_test_id("edit-bar").wait_for(state="hidden", timeout=WAIT_MS)
    assert box.input_value() == ""
    assert node.locator(".message-text").inner_text() == "Rest day tomorrow"
    # With a draft in the box, Up arrow is the caret's, not an edit.
    box.fill("a draft")
    box.press("ArrowUp")
    assert ui.get_by_test_id("edit-bar").is_hidden()
    box.fill("")


def test_a_refused_edit_says_the_servers_reason_and_keeps_the_words(ui, server, fresh_conversation):
    conv, trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(ui, server, cid)
    node = _send(ui, "Meet at the track")
    detail = "A message can be edited only within 15 minutes of sending it."

    def refuse(route):
        if route.request.method == "PATCH":
            route.fulfill(status=403, content_type="application/json", body=json.dumps({"detail": detail}))
        else:
            route.fallback()

    ui.route("**/api/messaging/messages/*/", refuse)
    try:
        node.get_by_test_id("message-menu-button").click()
        ui.get_by_test_id("message-menu-edit").click()
        box = ui.get_by_test_id("chat-input")
        box.fill("Meet at the gym")
        box.press("Enter")
        notice = ui.get_by_test_id("composer-notice")
        expect(notice).to_contain_text(detail, timeout=WAIT_MS)
        assert box.input_value() == "Meet at the gym"  # nothing lost
        assert ui.get_by_test_id("edit-bar").is_visible()
        assert node.locator(".message-text").inner_text() == "Meet at the track"
        assert node.get_by_test_id("message-edited").count() == 0
    finally:
        ui.unroute("**/api/messaging/messages/*/", refuse)
    box.press("Escape")
    assert trainee.messages(cid)["results"][-1]["content"] == "Meet at the track"


# ----- delete --------------------------------------------------------------------------------------

def test_delete_asks_in_the_page_then_both_sides_see_it_deleted(ui, server, fresh_conversation):
    conv, trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(ui, server, cid)
    node = _send(ui, "Oops, wrong plan")
    mid = node.get_attribute("data-message-id")
    node.get_by_test_id("message-menu-button").click()
    ui.get_by_test_id("message-menu-delete").click()
    confirm = ui.get_by_test_id("delete-confirm")
    confirm.wait_for(timeout=WAIT_MS)
    assert "Delete this message for everyone?" in confirm.inner_text()
    assert _focused(ui) == "cancel-delete"  # the safe choice under a stray Enter
    assert _blocking_violations(ui) == []
    _shot(ui, "delete-confirm.png")
    ui.keyboard.press("Escape")  # cancel: nothing changes
    confirm.wait_for(state="detached", timeout=WAIT_MS)
    assert node.locator(".message-text").inner_text() == "Oops, wrong plan"
    assert ui.get_by_test_id("chat-view").count() == 1

    with trainee.socket(cid) as ws:
        node.get_by_test_id("message-menu-button").click()
        ui.get_by_test_id("message-menu-delete").click()
        ui.get_by_test_id("confirm-delete").click()
        deleted = ui.locator(f"[data-testid=message][data-message-id='{mid}'][data-deleted=true]")
        deleted.wait_for(timeout=WAIT_MS)
        assert deleted.inner_text().startswith("This message was deleted")
        assert deleted.get_by_test_id("message-menu-button").count() == 0
        frame = {}
        while frame.get("type") != "message_deleted":
            frame = json.loads(ws.recv(timeout=10))
        assert frame["message_id"] == int(mid)
    assert trainee.messages(cid)["results"][-1]["deleted"] is True
    assert ui.watch.dialogs == []  # never window.confirm
    assert ui.watch.errors == []


def test_a_failed_delete_leaves_the_message_and_says_so(ui, server, fresh_conversation):
    conv, trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(ui, server, cid)
    node = _send(ui, "Keep me")

    def fail(route):
        if route.request.method == "DELETE":
            route.fulfill(status=403, content_type="application/json",
                          body=json.dumps({"detail": "This conversation is archived."}))
        else:
            route.fallback()

    ui.route("**/api/messaging/messages/*/", fail)
    try:
        node.get_by_test_id("message-menu-button").click()
        ui.get_by_test_id("message-menu-delete").click()
        ui.get_by_test_id("confirm-delete").click()
        notice = ui.get_by_test_id("composer-notice")
        expect(notice).to_have_text("Could not delete the message: This conversation is archived.",
                                    timeout=WAIT_MS)
        assert node.get_attribute("data-deleted") is None
        assert node.locator(".message-text").inner_text() == "Keep me"
        assert _focused(ui) == "message-menu-button"
    finally:
        ui.unroute("**/api/messaging/messages/*/", fail)
    assert trainee.messages(cid)["results"][-1]["deleted"] is False


# ----- the windows, on the page's clock ------------------------------------------------------------

def test_the_menu_offers_only_what_the_windows_allow(clocked_ui, server, fresh_conversation):
    page = clocked_ui
    conv, _trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(page, server, cid)
    node = _send(page, "Timed message")
    node.get_by_test_id("message-menu-button").click()
    assert page.get_by_test_id("message-menu").locator("[role=menuitem]").all_inner_texts() == ["Edit", "Delete"]
    page.keyboard.press("Escape")
    page.clock.fast_forward("16:00")  # past the 15 minutes of an edit
    node.get_by_test_id("message-menu-button").click()
    assert page.get_by_test_id("message-menu").locator("[role=menuitem]").all_inner_texts() == ["Delete"]
    page.keyboard.press("Escape")
    box = page.get_by_test_id("chat-input")
    box.focus()
    box.press("ArrowUp")  # nothing left to edit
    assert page.get_by_test_id("edit-bar").is_hidden()
    page.clock.fast_forward(48 * 3600 * 1000)  # past the 48 hours of a delete
    node.get_by_test_id("message-menu-button").click()
    node.get_by_test_id("message-menu-button").wait_for(state="detached", timeout=WAIT_MS)
    assert "can no longer be changed" in page.get_by_test_id("composer-notice").inner_text()
    assert page.get_by_test_id("message-menu").count() == 0


# ----- a backend without the capabilities call ---------------------------------------------------

@pytest.fixture
def no_capabilities(ui):
    def not_found(route):
        route.fulfill(status=404, content_type="application/json", body='{"detail": "Not found."}')

    ui.route("**/api/messaging/capabilities/", not_found)
    yield ui
    ui.unroute("**/api/messaging/capabilities/", not_found)


def test_without_the_capability_there_is_no_menu_but_frames_still_show(no_capabilities, server, fresh_conversation):
    ui = no_capabilities
    conv, trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    _open(ui, server, cid)
    assert ui.evaluate("document.body.getAttribute('data-capabilities')") == ""
    node = _send(ui, "No menu here")
    assert node.get_by_test_id("message-menu-button").is_hidden()
    box = ui.get_by_test_id("chat-input")
    box.focus()
    box.press("ArrowUp")
    assert ui.get_by_test_id("edit-bar").is_hidden()
    assert box.input_value() == ""
    # The other side's edit (the server does offer it) still shows: harmless and right.
    theirs = trainee.send(cid, "tpyo")
    message_with_text(ui, "tpyo").wait_for(timeout=WAIT_MS)
    trainee.http.patch(f"/api/messaging/messages/{theirs['id']}/", json={"content": "typo"}).raise_for_status()
    ui.locator(f"[data-testid=message][data-message-id='{theirs['id']}'] [data-testid=message-edited]").wait_for(
        timeout=WAIT_MS)


# ----- a phone ---------------------------------------------------------------------------------------

def test_menu_and_confirm_fit_a_phone(ui, server, fresh_conversation):
    conv, _trainee = fresh_conversation(messages=0)
    cid = conv["id"]
    ui.set_viewport_size(PHONE)
    _open(ui, server, cid)
    node = _send(ui, "On the phone")
    node.get_by_test_id("message-menu-button").click()
    ui.get_by_test_id("message-menu-delete").click()
    confirm = ui.get_by_test_id("delete-confirm")
    confirm.wait_for(timeout=WAIT_MS)
    box = confirm.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert ui.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert ui.get_by_test_id("confirm-delete").is_visible()
    ui.get_by_test_id("cancel-delete").click()
    confirm.wait_for(state="detached", timeout=WAIT_MS)


# ----- with the inbox socket: the list's preview follows, live ---------------------------------------

@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("edits-inbox")).start()  # serve.py as shipped: with the inbox
    yield srv
    srv.stop()


def _preview(page, cid):
    return page.locator(f"[data-testid=conversation-item][data-conversation-id='{cid}'] "
                        "[data-testid=conversation-preview]")


def test_with_the_inbox_the_list_preview_follows_an_edit_and_a_delete(page, inbox_server):
    chats = []
    for _ in range(2):
        email = f"t{uuid.uuid4().hex[:10]}@example.com"
        conv = inbox_server.fault("conversation", trainer_email="coach@example.com", trainee_email=email)
        chats.append((conv, Peer(inbox_server, email)))
    (open_conv, open_peer), (other_conv, other_peer) = chats
    try:
        last_open = open_peer.send(open_conv["id"], "last in the open chat")
        last_other = other_peer.send(other_conv["id"], "last in the other chat")
        login(page, inbox_server)
        open_chat(page, open_conv["id"])
        page.locator(f"[data-message-id='{last_open['id']}']").wait_for(timeout=WAIT_MS)
        # The open chat's last message is deleted: its node and its row say so.
        open_peer.http.delete(f"/api/messaging/messages/{last_open['id']}/").raise_for_status()
        page.locator(f"[data-message-id='{last_open['id']}'][data-deleted=true]").wait_for(timeout=WAIT_MS)
        expect(_preview(page, open_conv["id"])).to_have_text("This message was deleted", timeout=WAIT_MS)
        # A conversation that is not open: its row follows the edit of its last message.
        other_peer.http.patch(f"/api/messaging/messages/{last_other['id']}/",
                              json={"content": "edited in the other chat"}).raise_for_status()
        expect(_preview(page, other_conv["id"])).to_have_text("edited in the other chat", timeout=WAIT_MS)
        assert page.watch.errors == []
    finally:
        for _conv, peer in chats:
            peer.close()
