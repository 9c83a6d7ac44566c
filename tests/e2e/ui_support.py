"""Helpers for the messages-page e2e tests (delivery, receipts, sending, typing, scrolling, layout).

Booting Pyodide costs seconds of CPU per tab on this (shared, 2-core) machine, so a test
module keeps ONE tab (`ui`, a module-scoped tab handed to each test, on a warm profile whose
storage is emptied between modules) and each test
starts with `enter(page, server)`: log out if a session is open, log in again. That
builds a new session on the running app: a new conversation list fetched from the
server (so the test's fresh conversations are in it), a new list view, no open chat
(logout disposes it and closes its socket). Every test uses its own fresh
conversation, so nothing one test does shows up in another's assertions.
Tests that must change the page itself (a WebSocket route, a CSP bypass) get a tab
of their own (`lone_tab`).

Time: modules that check timing rules use `clocked_ui`, a tab whose context had
`clock.install()` before its first load. Such a test calls `freeze(page)` once the
chat is open and from then on moves time only with `advance(page, ms)`. While the
clock is paused nothing that needs a timer or an animation frame happens (Pyodide's
asyncio timers, rAF renders); `advance`/`settle` let both run. The clock belongs to
the context, so the fixture resumes it after each test.
"""

import time

import pytest

from e2e_harness import WAIT_MS, PageWatch, WarmBrowser, chat_view, conversation_row, open_conversation, submit_login, \
    wait_ready, wait_state, wait_ws_state  # noqa: F401 - wait_ws_state re-exported

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 800}


# ----- fixtures ------------------------------------------------------------------------

def _new_tab(browser, clock=False, **options):
    ctx = browser.new_context(viewport=DESKTOP, **options)
    if clock:
        ctx.clock.install()
    page = ctx.new_page()
    page.watch = PageWatch(page)
    return ctx, page


def _fresh_watch(page):
    for bucket in (page.watch.requests, page.watch.console, page.watch.errors, page.watch.dialogs):
        bucket.clear()


@pytest.fixture(scope="session")
def _warm_tabs(_playwright, tmp_path_factory):
    """The module tabs' own warm profile (e2e_harness.WarmBrowser): a module's first load takes
    the cached files and compiled code of the modules before it. Its own Chromium, since a
    module may also lend the `context` fixture's to a test while its tab stays open."""
    warm = WarmBrowser(_playwright, tmp_path_factory.mktemp("chromium-tabs-profile"))
    yield warm
    warm.close()


@pytest.fixture(scope="module")
def _module_tab(_warm_tabs):
    lent = _warm_tabs.lend()
    page = lent.new_page()
    page.set_viewport_size(DESKTOP)
    page.watch = PageWatch(page)
    yield page
    _warm_tabs.give_back(lent)


@pytest.fixture
def ui(_module_tab):
    """The module's tab, desktop size, with an empty PageWatch."""
    page = _module_tab
    page.set_viewport_size(DESKTOP)
    _fresh_watch(page)
    yield page
    # Undo what a test may have bent on the shared page.
    page.evaluate("() => { delete document.visibilityState; }")


@pytest.fixture(scope="module")
def _module_clocked_tab(browser):
    ctx, page = _new_tab(browser, clock=True)
    yield page
    ctx.close()


@pytest.fixture
def clocked_ui(_module_clocked_tab):
    """The module's tab under Playwright's fake clock (running until `freeze`)."""
    page = _module_clocked_tab
    page.set_viewport_size(DESKTOP)
    _fresh_watch(page)
    yield page
    page.clock.resume()


@pytest.fixture
def lone_tab(browser):
    """A tab (and context) of its own, for tests that change the page's plumbing."""
    ctx, page = _new_tab(browser)
    yield page
    ctx.close()


# ----- getting in ------------------------------------------------------------------------

def app_state(page):
    if page.url in ("", "about:blank"):
        return None
    return page.evaluate("() => document.body ? document.body.getAttribute('data-app-state') : null")


def enter(page, server, email="coach@example.com"):
    """Reach the messages page with a NEW session: load the app if this tab has not,
    log out if a session is open, log in."""
    state = app_state(page)
    if state not in ("login", "messages"):
        page.goto(server.origin + "/")
        wait_ready(page)
        state = app_state(page)
    if state == "messages":
        page.get_by_test_id("logout").click()
        wait_state(page, "login")
    submit_login(page, email)


row = conversation_row
chat = chat_view
open_chat = open_conversation


def messages(page):
    return page.locator("[data-testid=message-list] [data-testid=message]")


def message_with_text(page, text):
    """Messages whose text is exactly `text`."""
    return page.locator("[data-testid=message-list] [data-testid=message]").filter(
        has=page.locator(".message-text", has_text=text))


def message_texts(page):
    return page.locator("[data-testid=message-list] [data-testid=message] .message-text").all_inner_texts()


def wait_message_count(page, n, timeout=WAIT_MS):
    """Wait until exactly n messages are in the list (n is also checked by the caller)."""
    poll_until(lambda: messages(page).count() == n, timeout / 1000, f"{n} messages")


def poll_until(predicate, timeout_s=30.0, what="condition", page=None, interval=0.1):
    """A tiny polling loop with a deadline (used where no selector can express the wait).

    Pass `page` when the predicate reads only Python-side records of page events
    (requests, frames): Playwright's sync API delivers events only while it runs a
    call, so the loop then waits with page.wait_for_timeout instead of time.sleep.
    """
    deadline = time.time() + timeout_s
    while True:
        if predicate():
            return
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        if page is not None:
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)


# ----- time ------------------------------------------------------------------------------

def now_ms(page):
    return page.evaluate("Date.now()")


def freeze(page):
    """Stop the page's clock at (about) its current time (after `clock.install()`).

    Note: Playwright for Python reads a NUMBER given to pause_at as SECONDS since
    the epoch (it multiplies by 1000); Date.now() is in milliseconds.
    """
    # The clock runs until the call lands, so aim a little ahead: pause_at refuses the past.
    page.clock.pause_at((now_ms(page) + 300) / 1000)


def advance(page, ms, step=50):
    """Move the paused clock forward by `ms`, in steps, letting the page's Python
    (WebSocket handlers, asyncio callbacks) run between the steps."""
    left = ms
    while left > 0:
        chunk = min(step, left)
        page.clock.run_for(chunk)
        left -= chunk


def settle(page, frames=4):
    """Let pending animation frames and zero-delay timers run on a paused clock."""
    for _ in range(frames):
        page.clock.run_for(20)


def after_frames(page, count=3):
    """Return once the page has run `count` animation frames (on a running clock): what a
    render, a ResizeObserver and a scroll-follow queued by now has been done and painted."""
    page.evaluate("""(n) => new Promise((done) => {
        const step = () => (--n > 0 ? requestAnimationFrame(step) : done());
        requestAnimationFrame(step);
    })""", count)


def images_settled(page):
    """Return once every <img> the browser fetches now has loaded or failed (its load/error
    event). A lazy image far out of view is not fetched until scrolled to: it is left out."""
    page.evaluate("""() => Promise.all(Array.from(document.images).map((img) => {
        const box = img.getBoundingClientRect();
        const inView = box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth;
        if (img.complete || (img.loading === 'lazy' && !inView)) return null;
        return new Promise((done) => { img.addEventListener('load', done); img.addEventListener('error', done); });
    }))""")


def animations_done(page):
    """Return once every finite CSS animation and transition now running has finished."""
    page.evaluate("""() => Promise.all(document.getAnimations()
        .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
        .map((a) => a.finished.catch(() => null)))""")


# ----- observation -----------------------------------------------------------------------

class SocketFrames:
    """Every text frame the page's WebSockets send and receive (Playwright events)."""

    def __init__(self, page):
        self.page = page
        self.sent = []
        self.received = []
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws):
        ws.on("framesent", lambda payload: self.sent.append(_parse(payload)))
        ws.on("framereceived", lambda payload: self.received.append(_parse(payload)))

    def typing_sent(self):
        return [f["is_typing"] for f in self.sent if isinstance(f, dict) and f.get("type") == "typing"]

    def received_of(self, kind):
        return [f for f in self.received if isinstance(f, dict) and f.get("type") == kind]


def _parse(payload):
    import json
    try:
        return json.loads(payload)
    except (TypeError, ValueError):
        return payload


def record_socket_sends(page):
    """Log, in the page, each frame its sockets send with the page's (fake) Date.now().

    Playwright's frame events say WHAT was sent; this says exactly WHEN on the page's
    clock. Patching the prototype reaches sockets that are already open.
    """
    page.evaluate("""() => {
        window.__uiSent = [];
        if (!WebSocket.prototype.__uiPatched) {
            const send = WebSocket.prototype.send;
            WebSocket.prototype.send = function (data) {
                (window.__uiSent || (window.__uiSent = [])).push([Date.now(), String(data)]);
                return send.call(this, data);
            };
            WebSocket.prototype.__uiPatched = true;
        }
    }""")


def typing_sends(page, since_ms):
    """[(ms after since_ms, is_typing)] for typing frames the page sent."""
    import json
    rows = page.evaluate("() => window.__uiSent || []")
    out = []
    for at, text in rows:
        frame = json.loads(text)
        if frame.get("type") == "typing":
            out.append((at - since_ms, frame["is_typing"]))
    return out


def advance_until(page, cid, predicate, max_ms, step=100):
    """Advance the paused clock in steps until predicate() holds; returns the ms advanced.

    A step may fire a reconnect timer; the attempt it starts (token, handshake) then runs on
    network events alone, with page time frozen. Before the next step the test waits, in
    real time, for that attempt to end (`wait_link_idle`), so page time never moves while
    the network works, however slow the machine: the ms returned are the page's own.
    """
    spent = 0
    while True:
        wait_link_idle(page, cid)
        if predicate():
            return spent
        if spent >= max_ms:
            raise AssertionError(f"not reached within {max_ms} ms of page time")
        page.clock.run_for(step)
        spent += step


def wait_link_idle(page, cid, timeout=WAIT_MS):
    """Wait until the chat's socket is not between attempt and outcome ('connecting').

    With the clock paused, the states that follow 'connecting' (connected, disconnected,
    failed) last until the test moves the clock, so this waits for a stable state."""
    page.wait_for_selector(
        f"[data-testid=chat-view][data-conversation-id='{cid}']:not([data-ws-state=connecting])",
        state="attached", timeout=timeout)


# A MutationObserver, installed by the test, that writes down every data-ws-state value the
# chat view takes, with the page's Date.now(), and whether a connection banner was ever put
# in the DOM. Polling the DOM (wait_for_selector) can miss a state that lasts one task; the
# observer cannot: each attribute record carries the value it replaced. What it has seen is
# mirrored into an attribute of <html>, so a test can wait for it with a selector.
LINK_RECORDER_JS = """(cid) => {
    const view = document.querySelector(`[data-testid=chat-view][data-conversation-id='${cid}']`);
    const isBanner = (n) => n.nodeType === 1 && (n.matches('[data-testid=connection-banner]')
        || n.querySelector('[data-testid=connection-banner]') !== null);
    const log = {states: [[view.getAttribute('data-ws-state'), Date.now()]],
                 banner: document.querySelector('[data-testid=connection-banner]') !== null};
    const note = (state, at) => {
        if (state !== log.states[log.states.length - 1][0]) log.states.push([state, at]);
    };
    if (window.__linkObserver) window.__linkObserver.disconnect();
    window.__linkObserver = new MutationObserver((records) => {
        const at = Date.now();
        const changes = records.filter((r) => r.type === 'attributes' && r.target === view);
        // Each record holds the value before its change: the values in between come from
        // the next record, the last one from the view itself.
        changes.slice(1).forEach((r) => note(r.oldValue, at));
        if (changes.length) note(view.getAttribute('data-ws-state'), at);
        for (const r of records) {
            if (r.type === 'childList' && Array.from(r.addedNodes).some(isBanner)) log.banner = true;
        }
        document.documentElement.setAttribute('data-e2e-link', log.states.map((s) => s[0]).join(' '));
    });
    window.__linkObserver.observe(document.body, {subtree: true, childList: true, attributes: true,
                                                  attributeOldValue: true, attributeFilter: ['data-ws-state']});
    window.__linkLog = log;
    document.documentElement.setAttribute('data-e2e-link', log.states[0][0]);
}"""


def record_link(page, cid):
    """Start writing down the chat's socket states and any banner (see LINK_RECORDER_JS)."""
    page.evaluate(LINK_RECORDER_JS, cid)


def link_log(page):
    """{"states": [[state, page ms], ...] (consecutive repeats dropped), "banner": bool}."""
    return page.evaluate("() => window.__linkLog")


def wait_link_left(page, state="connected", timeout=WAIT_MS):
    """Wait (real time) until the recorder has seen the chat leave `state`, however briefly."""
    page.wait_for_selector(f"html[data-e2e-link^='{state} ']", state="attached", timeout=timeout)


def requests_matching(page, fragment, since=0):
    return [u for u in page.watch.requests[since:] if fragment in u]


def tag_node(page, selector, name="__uiTag", value="tagged"):
    """Put a JS property on a DOM node, to prove later that it is the same node."""
    page.evaluate("([s, n, v]) => { document.querySelector(s)[n] = v; }", [selector, name, value])


def node_tag(page, selector, name="__uiTag"):
    return page.evaluate("([s, n]) => { const e = document.querySelector(s); return e ? (e[n] ?? null) : 'gone'; }",
                         [selector, name])


def scroll_metrics(page):
    return page.evaluate("""() => { const l = document.querySelector('[data-testid=message-list]');
        return {top: l.scrollTop, height: l.scrollHeight, client: l.clientHeight}; }""")


def at_bottom(page, slack=2):
    m = scroll_metrics(page)
    return m["height"] - m["client"] - m["top"] <= slack


def gets_of_messages(urls):
    return [u for u in urls if "/messages/" in u]


def open_frozen(page, server, cid):
    frames = SocketFrames(page)
    enter(page, server)
    open_chat(page, cid)
    record_socket_sends(page)
    freeze(page)
    return frames


def is_send(url):
    return url.split("?")[0].endswith("/send/")


def send_answer(page):
    """`with send_answer(page) as answer:` around what makes the page send: waits for the answer
    to that POST. Only then is the message surely readable over REST: the server publishes a
    message on the chat's socket inside its transaction (server/messaging.py `deliver`, for id
    order), so the bubble can stop being pending a moment before the commit."""
    return page.expect_response(lambda r: r.request.method == "POST" and is_send(r.url), timeout=WAIT_MS)
