"""Search in Chromium against serve.py (issue 22 item 6): across conversations and in the open one,
the match marked, More results, a result older than the first loaded page opened and scrolled to,
the local fallback over the loaded messages when the backend offers no search, hostile text shown
as text, the keyboard, axe with the results open, and a 390 px phone."""

import json
import os
import uuid
from pathlib import Path

import pytest

from axe_playwright_python.sync_playwright import Axe

from e2e_harness import WAIT_MS, PageWatch, Peer, Server, login
from ui_support import _module_tab, ui  # noqa: F401 - fixtures
from ui_support import (DESKTOP, PHONE, after_frames, animations_done, chat, enter, messages, open_chat, poll_until,
                        wait_message_count)

BLOCKING = ("serious", "critical")
# As in test_layout.py: the committed screenshot is refreshed only when asked for.
SHOTS = Path(__file__).resolve().parents[2] / ("docs" if os.environ.get("UPDATE_SCREENSHOTS") else "test-artifacts") \
    / "screenshots"


def tag():
    """A word no other test's message holds: the server searches every conversation of the coach."""
    return "zq" + uuid.uuid4().hex[:8]


def search_for(page, text):
    box = page.get_by_test_id("search-input")
    box.fill(text)
    return box


def results(page):
    return page.get_by_test_id("search-result")


def result_for(page, message_id):
    return page.locator(f"[data-testid=search-result][data-message-id='{message_id}']")


def search_calls(page):
    return [url for url in page.watch.requests if "/api/messaging/search/" in url]


def found_message(page, cid, message_id):
    return chat(page, cid).locator(f"[data-testid=message][data-message-id='{message_id}']")


def in_list_view(page, message_id):
    """The message's box lies inside the message list's visible box."""
    return page.evaluate("""(id) => {
        const list = document.querySelector('[data-testid=message-list]').getBoundingClientRect();
        const node = document.querySelector(`[data-testid=message][data-message-id='${id}']`);
        if (!node) return false;
        const box = node.getBoundingClientRect();
        return box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
    }""", message_id)


def blocking_violations(page):
    found = Axe().run(page).response["violations"]
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in found if v["impact"] in BLOCKING]


# ----- on the server -----------------------------------------------------------------------

def test_search_across_conversations_marks_the_match_and_opens_the_chosen_message(ui, server, fresh_conversation):
    word = tag()
    first, peer_a = fresh_conversation(messages=3)
    second, peer_b = fresh_conversation(messages=3)
    older = peer_a.send(first["id"], f"Tempo run {word} on Tuesday")
    newer = peer_b.send(second["id"], f"Easy {word.upper()} after the match")
    enter(ui, server)

    search_for(ui, word)
    poll_until(lambda: results(ui).count() == 2, WAIT_MS / 1000, "two results")
    # Newest first, with the conversation's name, a time and the match marked as typed.
    assert results(ui).nth(0).get_attribute("data-message-id") == str(newer["id"])
    row = result_for(ui, newer["id"])
    assert row.locator(".search-result-name").inner_text() == f"{second['trainee']['first_name']} Trainee"
    assert row.locator(".search-result-time").inner_text() != ""
    assert row.locator("mark").inner_text() == word.upper()
    assert result_for(ui, older["id"]).locator("[data-testid=search-result-text]").inner_text() == \
        f"Tempo run {word} on Tuesday"
    assert ui.get_by_test_id("conversation-list").is_hidden()  # the results take the list's place
    assert any(f"q={word}" in url for url in search_calls(ui))

    result_for(ui, older["id"]).click()
    found = found_message(ui, first["id"], older["id"])
    found.wait_for(timeout=WAIT_MS)
    ui.wait_for_selector(f"[data-testid=message][data-message-id='{older['id']}'].is-found", timeout=WAIT_MS)
    assert ui.watch.errors == []


def test_search_in_the_open_conversation_asks_for_that_conversation_only(ui, server, fresh_conversation):
    word = tag()
    here, peer_here = fresh_conversation(messages=2)
    elsewhere, peer_elsewhere = fresh_conversation(messages=2)
    mine = peer_here.send(here["id"], f"{word} here")
    peer_elsewhere.send(elsewhere["id"], f"{word} elsewhere")
    enter(ui, server)
    open_chat(ui, here["id"])

    ui.get_by_test_id("chat-search").click()
    box = ui.get_by_test_id("search-input")
    assert box.evaluate("(node) => node === document.activeElement")
    assert ui.get_by_test_id("search-scope").is_checked()
    assert box.get_attribute("placeholder") == "Search this conversation"
    box.fill(word)
    poll_until(lambda: "1 result in this conversation" in ui.get_by_test_id("search-status").inner_text(),
               WAIT_MS / 1000, "the scoped answer")
    assert [results(ui).nth(i).get_attribute("data-message-id") for i in range(results(ui).count())] == [str(mine["id"])]
    assert any(f"conversation_id={here['id']}" in url for url in search_calls(ui))

    ui.get_by_test_id("search-scope").uncheck()  # every conversation again
    poll_until(lambda: results(ui).count() == 2, WAIT_MS / 1000, "both conversations' results")


def test_a_search_answered_before_the_backend_said_it_searches_is_asked_of_the_server_then(ui, server,
                                                                                            fresh_conversation):
    """Typed at once after signing in, a search is answered from the loaded messages (nothing
    yet); once the capabilities answer says the server searches, the same query goes to it."""
    word = tag()
    conversation, peer = fresh_conversation(messages=0)
    sent = [peer.send(conversation["id"], f"plan {i} {word}") for i in range(3)]
    held = []
    ui.route("**/api/messaging/capabilities/", lambda route: held.append(route))  # unanswered until released
    try:
        enter(ui, server)
        search_for(ui, word).press("Enter")
        ui.get_by_test_id("search-status").get_by_text("(messages loaded on this device)").wait_for(timeout=WAIT_MS)
        assert results(ui).count() == 0
        poll_until(lambda: held, WAIT_MS / 1000, "the capabilities call", page=ui)
        assert search_calls(ui) == []
        held.pop().continue_()
        poll_until(lambda: results(ui).count() == 3, WAIT_MS / 1000, "the server's results")
        assert [results(ui).nth(i).get_attribute("data-message-id") for i in range(3)] == \
            [str(m["id"]) for m in reversed(sent)]
        assert len(search_calls(ui)) == 1
        assert "loaded on this device" not in ui.get_by_test_id("search-status").inner_text()
    finally:
        ui.unroute("**/api/messaging/capabilities/")
        for route in held:
            route.continue_()


def test_more_results_load_the_next_page(ui, server, fresh_conversation):
    word = tag()
    conversation, peer = fresh_conversation(messages=0)
    sent = [peer.send(conversation["id"], f"set {i} {word}") for i in range(23)]
    enter(ui, server)
    search_for(ui, word).press("Enter")
    poll_until(lambda: results(ui).count() == 20, WAIT_MS / 1000, "the first page of results")
    more = ui.get_by_test_id("search-more")
    more.click()
    poll_until(lambda: results(ui).count() == 23, WAIT_MS / 1000, "every result")
    assert more.is_hidden()
    assert results(ui).last.get_attribute("data-message-id") == str(sent[0]["id"])
    assert any(f"before={sent[3]['id']}" in url for url in search_calls(ui))


def test_a_result_older_than_the_first_page_opens_with_older_history_loaded(ui, server, fresh_conversation):
    word = tag()
    conversation, peer = fresh_conversation(messages=0)
    cid = conversation["id"]
    needle = peer.send(cid, f"The very first plan {word}")
    server.fault("burst", email=peer.email, conversation_id=cid, count=75)
    coach = Peer(server, "coach@example.com")
    try:
        coach.mark_read(cid)  # read already: the chat opens at the bottom, not at an unread line
    finally:
        coach.close()
    enter(ui, server)
    open_chat(ui, cid)
    wait_message_count(ui, 50)
    after_frames(ui)
    assert messages(ui).count() == 50 and found_message(ui, cid, needle["id"]).count() == 0  # not in the first page

    search_for(ui, word)
    result_for(ui, needle["id"]).click()
    ui.wait_for_selector(f"[data-testid=message][data-message-id='{needle['id']}'].is-found", timeout=WAIT_MS)
    poll_until(lambda: in_list_view(ui, needle["id"]), WAIT_MS / 1000, "the found message in view")
    assert ui.get_by_test_id("message-list").get_attribute("data-found-id") == str(needle["id"])
    assert messages(ui).count() == 76  # the older pages were loaded to reach it


def test_a_failed_search_says_so_calmly_and_enter_asks_again(ui, server, fresh_conversation):
    word = tag()
    conversation, peer = fresh_conversation(messages=1)
    sent = peer.send(conversation["id"], f"after the outage {word}")
    failing = [True]

    def answer(route):
        if failing[0]:
            route.fulfill(status=503, content_type="application/json", body='{"detail": "Try later."}')
        else:
            route.fallback()

    ui.route("**/api/messaging/search/**", answer)
    try:
        enter(ui, server)
        box = search_for(ui, word)
        status = ui.get_by_test_id("search-status")
        poll_until(lambda: status.inner_text().startswith("Search did not answer"), WAIT_MS / 1000, "the error")
        assert results(ui).count() == 0 and box.input_value() == word  # nothing typed is lost
        failing[0] = False
        box.press("Enter")
        result_for(ui, sent["id"]).wait_for(timeout=WAIT_MS)
        assert ui.watch.errors == []
    finally:
        ui.unroute("**/api/messaging/search/**")


# ----- without the capability ----------------------------------------------------------------

def test_without_the_capability_search_covers_the_loaded_messages(page, server, fresh_conversation):
    word = tag()
    loaded, peer_loaded = fresh_conversation(messages=2)
    unopened, peer_unopened = fresh_conversation(messages=2)
    mine = peer_loaded.send(loaded["id"], f"Straße {word} loaded")
    peer_unopened.send(unopened["id"], f"{word} never loaded")
    page.context.route("**/api/messaging/capabilities/", lambda route: route.fulfill(status=404, body=""))
    login(page, server)
    page.wait_for_selector("body[data-capabilities='']", state="attached")
    open_chat(page, loaded["id"])
    wait_message_count(page, 3)

    search_for(page, f"STRASSE {word.upper()}")  # folded as the server folds
    poll_until(lambda: results(page).count() == 1, WAIT_MS / 1000, "the loaded message")
    assert results(page).first.get_attribute("data-message-id") == str(mine["id"])
    assert results(page).first.locator("mark").inner_text() == f"Straße {word}"
    assert "loaded on this device" in page.get_by_test_id("search-status").inner_text()
    assert search_calls(page) == []

    search_for(page, "zz-nothing-like-this")
    poll_until(lambda: page.get_by_test_id("search-status").inner_text().startswith("No messages match"),
               WAIT_MS / 1000, "the empty state")
    assert results(page).count() == 0
    assert page.watch.errors == []


# ----- hostile text, the keyboard, axe, a phone ----------------------------------------------------

def test_hostile_text_in_a_result_is_shown_as_text(ui, server, fresh_conversation):
    word = tag()
    conversation, peer = fresh_conversation(messages=1)
    hostile = f'<img src=x onerror="window.__searchPwned=1">{word}<script type="py">print(1)</script>'
    sent = peer.send(conversation["id"], hostile)
    enter(ui, server)
    search_for(ui, word)
    row = result_for(ui, sent["id"])
    row.wait_for(timeout=WAIT_MS)
    shown = row.locator("[data-testid=search-result-text]").inner_text()
    assert shown.endswith(f'="window.__searchPwned=1">{word}<script type="py">print(1)</script>')
    assert row.locator("mark").inner_text() == word
    assert ui.locator("[data-testid=search-results] img, [data-testid=search-results] script").count() == 0
    assert ui.evaluate("() => window.__searchPwned === undefined")


def test_keyboard_axe_and_a_phone(ui, server, fresh_conversation):
    word = tag()
    conversation, peer = fresh_conversation(messages=2)
    sent = peer.send(conversation["id"], f"Mobility {word} tonight")
    peer.send(conversation["id"], f"Stretch {word} tomorrow")
    ui.set_viewport_size(PHONE)
    enter(ui, server)

    ui.get_by_test_id("search-input").evaluate("(node) => node.blur()")
    ui.keyboard.press("Control+k")
    box = ui.get_by_test_id("search-input")
    assert box.evaluate("(node) => node === document.activeElement")
    ui.keyboard.type("a")
    assert "at least 2" in ui.get_by_test_id("search-status").inner_text()
    box.fill(word)
    poll_until(lambda: results(ui).count() == 2, WAIT_MS / 1000, "two results")
    assert ui.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    animations_done(ui)
    assert blocking_violations(ui) == []

    ui.keyboard.press("ArrowDown")
    ui.keyboard.press("ArrowDown")  # the second (older) result
    focused = ui.evaluate("() => document.activeElement.getAttribute('data-message-id')")
    assert focused == str(sent["id"])
    ui.keyboard.press("Enter")
    ui.wait_for_selector(f"[data-testid=message][data-message-id='{sent['id']}'].is-found", timeout=WAIT_MS)
    assert chat(ui, conversation["id"]).is_visible()
    assert ui.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The chat's own search button, on a phone: back to the list pane's box, scoped.
    ui.get_by_test_id("chat-search").click()
    assert box.is_visible() and ui.get_by_test_id("search-scope").is_checked()
    ui.keyboard.press("Escape")  # clears the box: the list is back
    assert box.input_value() == ""
    assert ui.get_by_test_id("conversation-list").is_visible()
    assert ui.watch.errors == []


def test_a_result_that_is_not_in_the_history_is_said_calmly(ui, server, fresh_conversation):
    word = tag()
    conversation, peer = fresh_conversation(messages=3)
    cid = conversation["id"]
    real = peer.send(cid, f"real {word}")
    # An answer naming a message this conversation does not hold (older than its first one,
    # with no older history): the chat opens and says it could not find it.
    ghost = dict(real, id=1, content=f"ghost {word}")

    def answer(route):
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"results": [ghost], "has_more": False}))

    ui.route("**/api/messaging/search/**", answer)
    try:
        enter(ui, server)
        search_for(ui, word)
        result_for(ui, 1).click()
        note = chat(ui, cid).get_by_test_id("jump-note")
        note.wait_for(timeout=WAIT_MS)
        assert "could not be found" in note.inner_text()
        assert ui.locator("[data-testid=message].is-found").count() == 0
        assert ui.watch.errors == []
    finally:
        ui.unroute("**/api/messaging/search/**")


@pytest.fixture(scope="module")
def demo(browser, tmp_path_factory):
    """(page, server): a serve.py with only the demo data (for the screenshot), and a tab on it."""
    srv = Server(tmp_path_factory.mktemp("search-demo")).start()
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.watch = PageWatch(page)
    yield page, srv
    ctx.close()
    srv.stop()


def test_desktop_results_beside_an_open_chat_pass_axe_and_are_photographed(demo):
    page, srv = demo
    enter(page, srv)
    page.get_by_test_id("conversation-item").first.click()
    page.get_by_test_id("chat-view").wait_for(timeout=WAIT_MS)
    search_for(page, "run")
    poll_until(lambda: results(page).count() >= 5, WAIT_MS / 1000, "the demo's runs")
    names = {results(page).nth(i).locator(".search-result-name").inner_text() for i in range(results(page).count())}
    assert "Alex Runner" in names
    results(page).nth(1).click()
    page.wait_for_selector("[data-testid=message].is-found", timeout=WAIT_MS)
    results(page).nth(1).focus()
    animations_done(page)
    assert page.evaluate("document.scrollingElement.scrollTop") == 0  # only the list scrolled
    assert page.get_by_test_id("logout").is_visible()
    assert blocking_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "search-desktop.png"))
