"""Issue 22 item 2: the page opens offline and installs.

Loaded once online, the service worker (static/sw.js at /sw.js) keeps the app shell and the
Python runtime; the page keeps the last conversation list and the recently opened
conversations' last pages in IndexedDB, under the signed-in user. With the network gone, a
reload boots from the worker's cache and shows that copy at once, marked offline; with the
link back it refreshes. Logging out deletes the copy; another user on the same browser never
sees the first one's. A changed site installs a new worker whose cache replaces the old one.
"""

import shutil

import pytest

from e2e_harness import (BOOT_TIMEOUT_MS, ROOT, WAIT_MS, Server, chat_view, conversation_row, login,
                         open_conversation, submit_login, wait_ready, wait_state)
from axe_playwright_python.sync_playwright import Axe

# The worker is registered once Python is up; it is in control once it has every file.
CONTROLLED = """async () => {
  const registration = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  return registration.active.scriptURL;
}"""
SHELL_CACHES = "async () => (await caches.keys()).filter((name) => name.startsWith('coachline-shell-'))"
CACHED_URLS = """async (name) => (await (await caches.open(name)).keys()).map((request) => new URL(request.url).pathname)"""
COPY_KEYS = "async () => await globalThis.coachlineOfflineDb.keys()"
COPY_TEXT = "async (key) => await globalThis.coachlineOfflineDb.get(key)"


@pytest.fixture
def offline_context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="allow")
    yield ctx
    ctx.close()


def wait_saved(page):
    """The keeper wrote a copy holding at least one conversation's page."""
    page.wait_for_selector("body[data-offline-saved]:not([data-offline-saved='0'])", state="attached",
                           timeout=WAIT_MS)


def me_id(page):
    return page.evaluate("async () => (await (await fetch('/api/auth/users/me/', {headers: "
                         "{Authorization: 'Bearer ' + localStorage.getItem('access_token')}})).json()).id")


def test_a_page_loaded_once_opens_offline_with_the_saved_list_and_chat_then_refreshes(server, offline_context):
    page = offline_context.new_page()
    page.on("console", lambda m: print("CONSOLE", m.type, m.text))
    page.on("pageerror", lambda e: print("PAGEERROR", e))
    login(page, server, query="?debug=1")
    assert page.evaluate(CONTROLLED).endswith("/sw.js")
    first = page.get_by_test_id("conversation-item").first
    cid = int(first.get_attribute("data-conversation-id"))
    view = open_conversation(page, cid)
    texts = view.get_by_test_id("message-text").all_text_contents() if view.get_by_test_id("message-text").count() else []
    try:
        wait_saved(page)
    except Exception:
        print(page.evaluate("JSON.stringify([...document.body.attributes].map(a => a.name + '=' + a.value))"))
        print(page.evaluate(COPY_KEYS))
        raise
    rows_online = page.get_by_test_id("conversation-item").count()

    offline_context.set_offline(True)
    page.reload()
    wait_ready(page, "messages")
    assert page.get_attribute("body", "data-offline") == "true"
    note = page.locator("#offline-note")
    assert note.is_visible() and note.text_content() == "Offline - showing saved messages"
    assert page.get_by_test_id("conversation-item").count() == rows_online
    assert page.evaluate("document.documentElement.dataset.pyodideBoot") in ("snapshot", "normal", None)
    view = chat_view(page, cid)
    view.wait_for(timeout=WAIT_MS)
    shown = view.get_by_test_id("message-text").all_text_contents() if texts else []
    assert shown[-len(texts):] == texts[-len(shown):] if texts else True
    page.screenshot(path="/tmp/offline_shot.png")

    offline_context.set_offline(False)
    page.wait_for_selector("body:not([data-offline])", state="attached", timeout=WAIT_MS)
    assert note.is_hidden()
