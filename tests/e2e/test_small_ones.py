"""Issue 22.7, the small ones: no autofocus of the composer on a touch device (desktop keeps
it), login and title words that fit both roles, and a sending mark that needs no emoji font."""

import re

from e2e_harness import WAIT_MS, PageWatch
from ui_support import _module_tab, ui  # noqa: F401 - fixtures
from ui_support import PHONE, enter, open_chat

EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


def _focused_testid(page):
    return page.evaluate("() => document.activeElement && document.activeElement.getAttribute('data-testid')")


def test_a_touch_device_opens_a_chat_without_raising_the_keyboard(browser, server, fresh_conversation):
    conv, _trainee = fresh_conversation(messages=2)
    ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = ctx.new_page()
        page.watch = PageWatch(page)
        assert page.evaluate("matchMedia('(pointer: coarse)').matches")
        enter(page, server)
        open_chat(page, conv["id"])
        assert _focused_testid(page) != "chat-input"
        page.get_by_test_id("chat-input").tap()  # a tap still writes
        assert _focused_testid(page) == "chat-input"
    finally:
        ctx.close()


def test_a_desktop_still_focuses_the_composer_on_open(ui, server, fresh_conversation):
    conv, _trainee = fresh_conversation(messages=2)
    enter(ui, server)
    open_chat(ui, conv["id"])
    assert _focused_testid(ui) == "chat-input"


def test_login_and_title_words_fit_a_trainee_and_a_trainer(ui, server):
    enter(ui, server, "alex@example.com")
    ui.wait_for_function("() => /Messages · Coachline$/.test(document.title)", timeout=WAIT_MS)
    assert "Trainer" not in ui.title()
    ui.get_by_test_id("logout").click()
    ui.wait_for_selector("body[data-app-state=login]", state="attached", timeout=WAIT_MS)
    assert ui.title() == "Messages · Coachline"
    assert ui.locator(".login-sub").inner_text() == "Sign in to your messages."
    enter(ui, server)
    ui.wait_for_function("() => /Messages · Trainer dashboard$/.test(document.title)", timeout=WAIT_MS)


def test_the_held_send_shows_a_drawn_clock_not_an_emoji(ui, server, fresh_conversation):
    conv, _trainee = fresh_conversation(messages=0)
    enter(ui, server)
    open_chat(ui, conv["id"])
    server.fault("lose_send_answers", count=1, broadcast=False)
    ui.get_by_test_id("chat-input").fill("clock check")
    ui.get_by_test_id("chat-input").press("Enter")
    held = ui.locator("[data-testid=message][data-pending=true][data-status=held]")
    held.wait_for(timeout=WAIT_MS)
    mark = held.get_by_test_id("send-held")
    assert mark.get_attribute("role") == "img" and mark.get_attribute("aria-label") == "Waiting for the connection"
    assert mark.locator("svg").count() == 1 and mark.locator("svg").is_visible()
    assert not EMOJI.search(held.inner_text())
    ui.wait_for_selector("[data-testid=message][data-pending=true]", state="detached", timeout=WAIT_MS)
