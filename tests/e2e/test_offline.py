"""Issue 22 item 2: the page opens offline and installs.

Loaded once online, the service worker (static/sw.js at /sw.js) keeps the app shell and the
Python runtime; the page keeps the last conversation list and the recently opened
conversations' last pages in IndexedDB, under the signed-in user. With the network gone, a
reload boots from the worker's cache and shows that copy at once, marked offline, and holds
what is sent; with the link back it refreshes and sends. Logging out deletes the copy; another
user on the same browser never sees the first one's. A changed site installs a new worker
whose cache replaces the old one on the next load.
"""

import os
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe

from e2e_harness import (ROOT, WAIT_MS, Server, chat_view, conversation_row, login, open_conversation,
                         submit_login, wait_ready, wait_until)
from ui_support import message_texts, message_with_text, wait_message_count

# The worker is registered once Python is up; it is in control once it has every file.
CONTROLLED = """async () => {
  const registration = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  return registration.active.scriptURL;
}"""
SHELL_CACHES = "async () => (await caches.keys()).filter((name) => name.startsWith('coachline-shell-'))"
CACHED_PATHS = "async (name) => (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname)"
COPY_KEYS = "async () => await globalThis.coachlineOfflineDb.keys()"
COPY_TEXT = "async (key) => await globalThis.coachlineOfflineDb.get(key)"
ME_ID = """async () => (await (await fetch('/api/auth/users/me/', {headers:
  {Authorization: 'Bearer ' + localStorage.getItem('access_token')}})).json()).id"""
BLOCKING = ("serious", "critical")
# Screenshots for the README (UPDATE_SCREENSHOTS=1), else into test-artifacts/ (as test_layout.py).
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else ROOT / "test-artifacts" / "screenshots"
WASM_ENTRIES = """() => performance.getEntriesByType("resource").map((e) => e.name.split("/").pop())
  .filter((name) => name.startsWith("pyodide.asm.wasm"))"""


@pytest.fixture
def offline_context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="allow")
    yield ctx
    ctx.close()


def wait_saved(page, cid):
    """The keeper wrote a copy holding this conversation's page."""
    user = page.evaluate(ME_ID)
    wait_until(lambda: f'"recent":[{cid}' in page.evaluate(COPY_TEXT, f"user:{user}"),
               f"conversation {cid} in the saved copy", timeout=WAIT_MS / 1000)
    return user


def reload_offline(context, page):
    context.set_offline(True)
    page.reload()
    wait_ready(page, "messages")


def test_a_page_loaded_once_opens_offline_with_the_saved_list_and_chat_then_refreshes(
        server, offline_context, fresh_conversation):
    conv, peer = fresh_conversation(messages=5)
    other, other_peer = fresh_conversation(messages=1)
    cid = conv["id"]
    page = offline_context.new_page()
    login(page, server)
    assert page.evaluate(CONTROLLED).endswith("/sw.js")
    open_conversation(page, cid)
    wait_message_count(page, 5)
    online_texts = message_texts(page)
    wait_saved(page, cid)
    rows_online = page.get_by_test_id("conversation-item").count()

    reload_offline(offline_context, page)
    assert page.get_attribute("body", "data-offline") == "true"
    # The runtime came from the worker's cache: the snapshot, and the wasm itself (compiled
    # while streaming, as application/wasm), not the .gz a host without compression gets.
    assert page.evaluate("document.documentElement.dataset.pyodideBoot") == "snapshot"
    assert page.evaluate(WASM_ENTRIES) == ["pyodide.asm.wasm"]
    note = page.locator("#offline-note")
    assert note.is_visible() and note.text_content() == "Offline - showing saved messages"
    assert page.get_by_test_id("conversation-item").count() == rows_online
    chat_view(page, cid).wait_for(timeout=WAIT_MS)  # the tab's chat is reopened from the copy
    assert message_texts(page) == online_texts
    results = Axe().run(page)
    assert [v["id"] for v in results.response["violations"] if v["impact"] in BLOCKING] == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "offline-desktop.png"))
    # Nothing of a user is in the worker's cache: only the site's files.
    for name in page.evaluate(SHELL_CACHES):
        for path in page.evaluate(CACHED_PATHS, name):
            assert not path.startswith(("/api/", "/ws/", "/__faults/", "/media/")), path

    # A send while offline is held as today, and goes out once the link is back.
    page.get_by_test_id("chat-input").fill("written on the train")
    page.get_by_test_id("chat-input").press("Enter")
    message_with_text(page, "written on the train").first.wait_for(timeout=WAIT_MS)
    peer.send(cid, "sent while you were offline")
    other_peer.send(other["id"], "news in another conversation")

    offline_context.set_offline(False)
    page.wait_for_selector("body:not([data-offline])", state="attached", timeout=WAIT_MS)
    assert note.is_hidden()
    message_with_text(page, "sent while you were offline").first.wait_for(timeout=WAIT_MS)
    wait_until(lambda: "written on the train" in [m["content"] for m in peer.messages(cid)["results"]],
               "the held send to reach the server", timeout=WAIT_MS / 1000)
    # The list is the server's again: its row shows the conversation's newest message.
    newest = peer.messages(cid)["results"][-1]["content"]
    conversation_row(page, cid).filter(has_text=newest).wait_for(timeout=WAIT_MS)
    conversation_row(page, other["id"]).filter(has_text="news in another conversation").wait_for(timeout=WAIT_MS)


def test_the_offline_page_fits_a_phone(server, offline_context):
    page = offline_context.new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    login(page, server)
    page.evaluate(CONTROLLED)
    user = page.evaluate(ME_ID)
    wait_until(lambda: '"conversations":[{' in page.evaluate(COPY_TEXT, f"user:{user}"), "the list in the copy",
               timeout=WAIT_MS / 1000)

    reload_offline(offline_context, page)
    note = page.locator("#offline-note")
    assert note.is_visible()
    box = note.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.get_by_test_id("conversation-item").count() > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "offline-phone.png"))
    offline_context.set_offline(False)


def test_logout_deletes_the_copy_and_another_user_never_sees_the_first_ones(server, offline_context):
    page = offline_context.new_page()
    login(page, server)
    page.evaluate(CONTROLLED)
    coach = page.evaluate(ME_ID)
    sam_row = page.get_by_test_id("conversation-item").filter(has_text="Sam Lifter")
    sam_id = int(sam_row.get_attribute("data-conversation-id"))
    open_conversation(page, sam_id)
    wait_saved(page, sam_id)
    assert page.evaluate(COPY_KEYS) == [f"user:{coach}"]

    page.get_by_test_id("logout").click()
    wait_ready(page, "login")
    wait_until(lambda: page.evaluate(COPY_KEYS) == [], "the copy to be deleted", timeout=WAIT_MS / 1000)
    assert page.evaluate("localStorage.getItem('offline_user')") is None

    # The trainer signs in again and the session ends without a logout (the copy stays)...
    submit_login(page)
    open_conversation(page, sam_id)
    wait_saved(page, sam_id)
    page.evaluate("localStorage.removeItem('access_token'); localStorage.removeItem('refresh_token')")
    page.reload()
    wait_ready(page, "login")
    # ...then a trainee signs in on the same browser: only their copy is kept and shown.
    submit_login(page, "alex@example.com")
    alex = page.evaluate(ME_ID)
    alex_cid = int(page.get_by_test_id("conversation-item").first.get_attribute("data-conversation-id"))
    open_conversation(page, alex_cid)
    wait_saved(page, alex_cid)
    assert page.evaluate(COPY_KEYS) == [f"user:{alex}"]
    assert "Sam Lifter" not in page.evaluate(COPY_TEXT, f"user:{alex}")

    reload_offline(offline_context, page)
    assert page.get_attribute("body", "data-offline") == "true"
    assert page.get_by_test_id("conversation-item").count() == 1
    assert "Sam Lifter" not in page.locator("#messages-screen").inner_text()
    offline_context.set_offline(False)


SITE_ITEMS = ("index.html", "pyscript.toml", "config.json", "serve.py", "static", "py", "server", "scripts", "build")


@pytest.fixture
def site_copy(tmp_path):
    """A copy of the site (with its built snapshot) that a test may change."""
    root = tmp_path / "site"
    root.mkdir()
    for name in SITE_ITEMS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    (root / "node_modules").symlink_to((ROOT / "node_modules").resolve())
    srv = Server(tmp_path, root=root).start()
    yield root, srv
    srv.stop()


def test_a_new_version_replaces_the_old_one_on_the_next_load(site_copy, offline_context):
    root, srv = site_copy
    page = offline_context.new_page()
    login(page, srv)
    page.evaluate(CONTROLLED)
    [old] = page.evaluate(SHELL_CACHES)

    css = root / "static" / "app.css"
    css.write_text(css.read_text() + "\n/* version two */\n")
    page.reload()
    wait_ready(page, "messages")
    # The new worker fills a cache of its own; once active it deletes the old one.
    caches = wait_until(lambda: (lambda names: names if len(names) == 1 and old not in names else None)(
        page.evaluate(SHELL_CACHES)), "the new version's cache alone", timeout=WAIT_MS / 1000)
    assert caches[0] != old

    reload_offline(offline_context, page)
    css_text = page.evaluate("async () => await (await fetch('./static/app.css')).text()")
    assert css_text.endswith("/* version two */\n")
    offline_context.set_offline(False)
