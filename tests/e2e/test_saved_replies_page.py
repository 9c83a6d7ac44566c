"""Saved replies in Chromium (issue 22, point 5): managed in a dialog (the server's store when
it offers one, checked through its API), inserted into the composer with `/` or a button, by
keyboard and by mouse, edited before sending; without the capability the browser keeps them,
per user, across a reload. The dialog and the list pass axe and fit 390 px."""

import os
from pathlib import Path

import plain_http
from axe_playwright_python.sync_playwright import Axe

from e2e_harness import token_for, wait_state
from ui_support import _module_tab, ui  # noqa: F401 - fixtures
from ui_support import DESKTOP, PHONE, WAIT_MS, animations_done, enter, message_with_text, messages, open_chat, \
    send_answer

API = "/api/messaging/saved-replies/"
CAPABILITIES = "**/api/messaging/capabilities/"
# As tests/e2e/test_layout.py: the README's shots are rewritten only with UPDATE_SCREENSHOTS=1.
SHOTS = Path(__file__).resolve().parents[2] / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "test-artifacts") \
    / "screenshots"


def screenshot(page, name):
    animations_done(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def blocking_violations(page):
    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def server_replies(server, email="coach@example.com"):
    headers = {"Authorization": "Bearer " + token_for(server.origin, email)["access"]}
    return plain_http.get(server.origin + API, headers=headers, timeout=10).json()


def reset_server_replies(server, *replies):
    """The coach's server replies are exactly these (title, content) pairs."""
    headers = {"Authorization": "Bearer " + token_for(server.origin)["access"]}
    with plain_http.Client(base_url=server.origin, headers=headers, timeout=10) as http:
        for reply in http.get(API).json():
            http.delete(f"{API}{reply['id']}/").raise_for_status()
        for title, content in replies:
            http.post(API, json={"title": title, "content": content}).raise_for_status()


def rows(page):
    return page.get_by_test_id("saved-reply")


def open_panel(page):
    page.get_by_test_id("saved-replies-open").click()
    page.get_by_test_id("saved-replies-panel").wait_for(timeout=WAIT_MS)


def add_in_panel(page, title, content):
    before = rows(page).count()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Text", exact=True).fill(content)
    page.get_by_test_id("saved-reply-save").click()
    page.wait_for_function("n => document.querySelectorAll('[data-testid=saved-reply]').length === n",
                           arg=before + 1, timeout=WAIT_MS)


def option_titles(page):
    return page.locator("[data-testid=reply-option] .reply-option-title").all_text_contents()


# ----- managing, on the server ---------------------------------------------------------------------

def test_add_edit_and_delete_in_the_dialog_change_the_servers_replies(ui, server):
    reset_server_replies(server)
    ui.set_viewport_size(DESKTOP)
    enter(ui, server)
    ui.wait_for_selector("body[data-capabilities~=saved_replies]", state="attached")
    open_panel(ui)
    assert ui.get_by_test_id("saved-replies-panel").get_by_text("Kept on the server").is_visible()

    # A blank title is refused in words; what was typed stays.
    ui.get_by_label("Text", exact=True).fill("Film one set from the side.")
    ui.get_by_test_id("saved-reply-save").click()
    notice = ui.get_by_test_id("saved-replies-notice")
    notice.get_by_text("Give the reply a title.").wait_for(timeout=WAIT_MS)
    assert ui.get_by_label("Text", exact=True).input_value() == "Film one set from the side."
    assert server_replies(server) == []

    add_in_panel(ui, "Form check", "Film one set from the side.")
    add_in_panel(ui, "<b>Rest</b> day", "Take it easy <script>alert(1)</script>")
    assert [(r["title"], r["content"]) for r in server_replies(server)] == [
        ("<b>Rest</b> day", "Take it easy <script>alert(1)</script>"), ("Form check", "Film one set from the side.")]
    assert rows(ui).first.locator(".replies-row-title").text_content() == "<b>Rest</b> day"  # text, not markup
    assert ui.locator("dialog b, dialog script").count() == 0
    assert blocking_violations(ui) == []

    ui.get_by_role("button", name="Edit “Form check”").click()
    assert ui.get_by_label("Title").input_value() == "Form check"
    ui.get_by_label("Text", exact=True).fill("Film two sets from the side.")
    ui.get_by_test_id("saved-reply-save").click()
    notice.get_by_text("Saved “Form check”.").wait_for(timeout=WAIT_MS)
    assert [r["content"] for r in server_replies(server) if r["title"] == "Form check"] == [
        "Film two sets from the side."]

    ui.get_by_role("button", name="Delete “<b>Rest</b> day”").click()
    notice.get_by_text("Deleted “<b>Rest</b> day”.").wait_for(timeout=WAIT_MS)
    assert [r["title"] for r in server_replies(server)] == ["Form check"]
    assert rows(ui).count() == 1

    ui.keyboard.press("Escape")
    ui.get_by_test_id("saved-replies-panel").wait_for(state="detached", timeout=WAIT_MS)
    assert ui.evaluate("document.activeElement.dataset.testid") == "saved-replies-open"  # focus returned
    assert ui.watch.errors == []


def test_the_servers_refusal_is_said_calmly_and_the_words_stay(ui, server):
    reset_server_replies(server)
    ui.set_viewport_size(DESKTOP)
    enter(ui, server)
    ui.wait_for_selector("body[data-capabilities~=saved_replies]", state="attached")
    ui.route("**" + API, lambda route: route.fulfill(
        status=400, content_type="application/json",
        body='{"detail": "At most 200 saved replies: delete one first."}') if route.request.method == "POST"
        else route.fallback())
    try:
        open_panel(ui)
        ui.get_by_label("Title").fill("One more")
        ui.get_by_label("Text", exact=True).fill("Some words")
        ui.get_by_test_id("saved-reply-save").click()
        ui.get_by_test_id("saved-replies-notice").get_by_text("At most 200 saved replies").wait_for(timeout=WAIT_MS)
        assert ui.get_by_label("Title").input_value() == "One more"
        assert ui.get_by_test_id("saved-reply-save").is_enabled()
        ui.get_by_test_id("saved-replies-close").click()
        ui.get_by_test_id("saved-replies-panel").wait_for(state="detached", timeout=WAIT_MS)
    finally:
        ui.unroute("**" + API)
    assert ui.watch.errors == []


# ----- inserting ---------------------------------------------------------------------------------

def test_slash_filters_and_a_choice_by_keyboard_is_inserted_editable_not_sent(ui, server, fresh_conversation):
    reset_server_replies(server, ("Welcome", "Glad you are here! Today we start."), ("Form check", "Film one set."),
                         ("Rest day", "Take it easy today."))
    conv, peer = fresh_conversation(messages=4)
    ui.set_viewport_size(DESKTOP)
    enter(ui, server)
    ui.wait_for_selector("body[data-capabilities~=saved_replies]", state="attached")
    open_chat(ui, conv["id"])
    box = ui.get_by_test_id("chat-input")
    box.click()
    box.press("/")
    picker = ui.get_by_test_id("reply-picker")
    picker.wait_for(timeout=WAIT_MS)
    ui.wait_for_function("() => document.querySelectorAll('[data-testid=reply-option]').length === 3")
    assert option_titles(ui) == ["Form check", "Rest day", "Welcome"]
    assert box.get_attribute("aria-controls") == picker.get_attribute("id")
    assert blocking_violations(ui) == []

    box.type("TO")  # "/TO": in the title or the text, any case
    ui.wait_for_function("() => document.querySelectorAll('[data-testid=reply-option]').length === 2")
    assert option_titles(ui) == ["Rest day", "Welcome"]
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert ui.locator(f"[id='{active}']").get_attribute("aria-selected") == "true"
    assert ui.locator(f"[id='{active}'] .reply-option-title").text_content() == "Welcome"
    screenshot(ui, "saved-replies-picker.png")
    box.press("Enter")  # chooses; it does not send
    picker.wait_for(state="hidden", timeout=WAIT_MS)
    assert box.input_value() == "Glad you are here! Today we start."
    assert box.get_attribute("aria-activedescendant") is None

    box.press("End")
    box.type(" See you at 6.")
    with send_answer(ui) as answer:
        box.press("Enter")
    assert answer.value.status == 201
    sent = "Glad you are here! Today we start. See you at 6."
    message_with_text(ui, sent).first.wait_for(timeout=WAIT_MS)
    ui.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=WAIT_MS)
    assert messages(ui).count() == 5  # one new message: the choice itself sent nothing
    assert [m["content"] for m in peer.messages(conv["id"])["results"]].count(sent) == 1
    assert ui.watch.errors == []


def test_a_slash_that_chooses_nothing_stays_as_typed_and_a_click_chooses(ui, server, fresh_conversation):
    reset_server_replies(server, ("Welcome", "Glad you are here!"), ("Form check", "Film one set."))
    conv, _peer = fresh_conversation()
    ui.set_viewport_size(DESKTOP)
    enter(ui, server)
    ui.wait_for_selector("body[data-capabilities~=saved_replies]", state="attached")
    open_chat(ui, conv["id"])
    box = ui.get_by_test_id("chat-input")
    picker = ui.get_by_test_id("reply-picker")
    box.click()
    box.type("1/2 and /nothing")
    picker.wait_for(timeout=WAIT_MS)
    ui.get_by_text("No saved reply matches “nothing”.").wait_for(timeout=WAIT_MS)
    box.press("Escape")
    picker.wait_for(state="hidden", timeout=WAIT_MS)
    box.type("x")  # the dismissed `/` stays closed
    assert picker.is_hidden()
    assert box.input_value() == "1/2 and /nothingx"

    box.fill("Hi ")
    box.press("End")
    box.type("/form")
    picker.wait_for(timeout=WAIT_MS)
    ui.wait_for_function("() => document.querySelectorAll('[data-testid=reply-option]').length === 1")
    ui.locator("[data-testid=reply-option]").first.click()
    picker.wait_for(state="hidden", timeout=WAIT_MS)
    assert box.input_value() == "Hi Film one set."
    assert ui.evaluate("document.activeElement.dataset.testid") == "chat-input"

    # The composer's button: every reply, inserted at the caret.
    ui.get_by_test_id("saved-replies-button").click()
    picker.wait_for(timeout=WAIT_MS)
    ui.wait_for_function("() => document.querySelectorAll('[data-testid=reply-option]').length === 2")
    ui.get_by_role("option", name="Welcome").click()
    assert box.input_value() == "Hi Film one set.Glad you are here!"
    assert messages(ui).count() == 0  # nothing was sent
    draft = ui.evaluate("""cid => Object.keys(localStorage)
        .filter(k => k.startsWith('coachline.draft.') && k.endsWith('.' + cid)).map(k => localStorage.getItem(k))""",
                        conv["id"])
    assert draft == ["Hi Film one set.Glad you are here!"]  # kept as the draft, as typed text is

    # By keyboard too: the button takes Enter, the list Up (round to its last option), whose
    # Enter opens the dialog; closing it returns to the message box.
    ui.get_by_test_id("saved-replies-button").focus()
    ui.keyboard.press("Enter")
    picker.wait_for(timeout=WAIT_MS)
    assert ui.evaluate("document.activeElement.dataset.testid") == "chat-input"
    ui.keyboard.press("ArrowUp")
    ui.keyboard.press("Enter")
    ui.get_by_test_id("saved-replies-panel").wait_for(timeout=WAIT_MS)
    ui.get_by_test_id("saved-replies-close").click()
    ui.get_by_test_id("saved-replies-panel").wait_for(state="detached", timeout=WAIT_MS)
    assert ui.evaluate("document.activeElement.dataset.testid") == "chat-input"
    assert ui.watch.errors == []


def test_at_390_px_the_list_and_the_dialog_fit_and_pass_axe(ui, server, fresh_conversation):
    reset_server_replies(server, ("Welcome", "Glad you are here! " * 20), ("Form check", "Film one set."))
    conv, _peer = fresh_conversation()
    ui.set_viewport_size(PHONE)
    enter(ui, server)
    ui.wait_for_selector("body[data-capabilities~=saved_replies]", state="attached")
    open_chat(ui, conv["id"])
    box = ui.get_by_test_id("chat-input")
    box.click()
    box.press("/")
    ui.wait_for_function("() => document.querySelectorAll('[data-testid=reply-option]').length === 2")
    picker = ui.get_by_test_id("reply-picker").bounding_box()
    assert picker["x"] >= 0 and picker["x"] + picker["width"] <= PHONE["width"]
    assert ui.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert blocking_violations(ui) == []
    box.press("Escape")
    ui.get_by_test_id("reply-picker").wait_for(state="hidden", timeout=WAIT_MS)
    assert box.is_visible()  # on a phone Escape also leaves the chat: here it closed the list only

    ui.get_by_test_id("saved-replies-button").click()
    ui.get_by_test_id("reply-manage").click()
    panel = ui.get_by_test_id("saved-replies-panel")
    panel.wait_for(timeout=WAIT_MS)
    ui.wait_for_function("() => document.querySelectorAll('[data-testid=saved-reply]').length === 2")
    for part in ("saved-replies-panel", "saved-reply-save", "saved-replies-close"):
        b = ui.get_by_test_id(part).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"], part
    assert blocking_violations(ui) == []
    screenshot(ui, "saved-replies-phone.png")
    ui.keyboard.press("Escape")
    panel.wait_for(state="detached", timeout=WAIT_MS)

    # The header's button, an icon at this width, opens the same dialog.
    header_button = ui.get_by_role("button", name="Saved replies")
    b = header_button.bounding_box()
    assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"]
    assert ui.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    header_button.click()
    panel.wait_for(timeout=WAIT_MS)
    ui.get_by_test_id("saved-replies-close").click()
    panel.wait_for(state="detached", timeout=WAIT_MS)


# ----- without the capability: the browser keeps them, per user --------------------------------------

def test_without_the_capability_the_browser_keeps_them_per_user_across_a_reload(ui, server):
    saved_calls = []

    def watch(request):
        if API in request.url:
            saved_calls.append(request.url)
    ui.on("request", watch)
    ui.route(CAPABILITIES, lambda route: route.fulfill(status=404, body=""))
    reset_server_replies(server)
    try:
        ui.set_viewport_size(DESKTOP)
        enter(ui, server)
        ui.wait_for_selector("body[data-capabilities='']", state="attached")
        open_panel(ui)
        assert ui.get_by_test_id("saved-replies-panel").get_by_text("Kept in this browser only").is_visible()
        add_in_panel(ui, "Welcome", "Glad you are here!")
        ui.get_by_test_id("saved-replies-close").click()
        coach_id = ui.evaluate("Object.keys(localStorage).find(k => k.startsWith('coachline.saved_replies.'))")
        assert coach_id is not None

        ui.reload()
        wait_state(ui, "messages")
        ui.wait_for_selector("body[data-capabilities='']", state="attached")
        open_panel(ui)
        ui.wait_for_function("() => document.querySelectorAll('[data-testid=saved-reply]').length === 1")
        assert rows(ui).first.locator(".replies-row-title").text_content() == "Welcome"
        ui.get_by_test_id("saved-replies-close").click()

        enter(ui, server, "alex@example.com")  # another user, the same browser
        ui.wait_for_selector("body[data-capabilities='']", state="attached")
        open_panel(ui)
        ui.get_by_text("No saved replies yet.").wait_for(timeout=WAIT_MS)
        assert rows(ui).count() == 0
        ui.get_by_test_id("saved-replies-close").click()

        enter(ui, server)  # logout kept the coach's
        open_panel(ui)
        ui.wait_for_function("() => document.querySelectorAll('[data-testid=saved-reply]').length === 1")
        ui.get_by_test_id("saved-replies-close").click()
    finally:
        ui.unroute(CAPABILITIES)
        ui.remove_listener("request", watch)
    assert saved_calls == []  # the server's store was never asked
    assert server_replies(server) == []
    assert ui.watch.errors == []
