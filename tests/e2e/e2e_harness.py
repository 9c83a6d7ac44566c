"""End-to-end harness (imported by conftest.py and by tests as `e2e_harness`;
not `from conftest import`: several conftest.py files share that module name): one real serve.py (with fault controls) for the whole
session; one Chromium for the contexts tests make themselves, and one on a profile on disk
whose context each test's `context`/`page` borrows, emptied between tests (`WarmBrowser`).

The other party in a conversation is simulated over REST and a raw WebSocket
client (see `Peer`), so a test never trusts our own page for the other side.
"""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import plain_http
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright
from ports import free_port  # noqa: F401 - the tests take it from here (tests/ports.py)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1280, "height": 800}
BOOT_TIMEOUT_MS = 60_000
WAIT_MS = 30_000  # what a test waits for the page to react, on a loaded 2-core machine


class Server:
    """A serve.py subprocess; restartable on the same database."""

    def __init__(self, tmp, extra_args=(), root=ROOT):
        self.root = Path(root)  # a site root with its own serve.py (default: this checkout)
        self.port = free_port()
        self.db = tmp / "e2e.sqlite3"
        self.log_path = tmp / "server.log"
        self.extra_args = list(extra_args)
        self.proc = None
        self.origin = f"http://127.0.0.1:{self.port}"

    def start(self):
        log = open(self.log_path, "ab")
        # --keep-password-hashes: the demo's and the trainees' public passwords keep their ~1 ms
        # hashes, where the first login would store the shipped 0.18 s one; the suite logs in
        # ~360 times. The re-hash itself is tested in tests/server (test_security_login, test_server_live).
        self.proc = subprocess.Popen(
            [sys.executable, str(self.root / "serve.py"), "--port", str(self.port), "--db", str(self.db),
             "--faults", "--demo", "--keep-password-hashes", *self.extra_args],
            cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if plain_http.get(self.origin + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("serve.py exited: " + self.log_path.read_text()[-2000:])
            time.sleep(0.1)
        raise RuntimeError("serve.py did not become healthy")

    def stop(self, sig=None):
        if self.proc is None:
            return
        if sig is None:
            self.proc.terminate()
        else:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def kill(self):
        self.proc.kill()
        self.proc.wait(5)
        self.proc = None

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    # fault controls ------------------------------------------------------
    def fault(self, name, **body):
        r = plain_http.post(f"{self.origin}/__faults/{name}", json=body, timeout=10)
        r.raise_for_status()
        return r.json()

    def sockets(self):
        return plain_http.get(f"{self.origin}/__faults/sockets", timeout=10).json()

    def open_sockets(self, conversation_id):
        return int(self.sockets()["open"].get(str(conversation_id), 0))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    # The spec's backend: no inbox socket (CONTRACT "Inbox socket"), so every test of the
    # spec's behaviour sees it exactly (one inbox probe per login, refused). The live list
    # is tested against a serve.py with the inbox in test_inbox.py.
    # One server serves the whole e2e suite, whose peers send hundreds of messages in seconds
    # (hostile payloads through history, socket and polling): the per-user send limit is
    # raised here, and is itself tested in tests/server/test_security_sockets.py.
    srv = Server(tmp_path_factory.mktemp("server"), extra_args=["--no-inbox", "--send-rate", "10000/1000"]).start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _reset_faults(request):
    yield
    if "server" in request.fixturenames:
        srv = request.getfixturevalue("server")
        if srv.proc is not None:
            try:
                srv.fault("reset")
            except httpx.HTTPError:
                pass


@pytest.fixture(scope="session")
def _playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(_playwright):
    """Chromium for the contexts a test makes itself and the module tabs: each new context is
    a fresh profile in memory (nothing cached, every load compiles Pyodide anew)."""
    b = _playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield b
    b.close()


class PageWatch:
    """Everything a page did that a test may want to assert on."""

    def __init__(self, page):
        self.requests = []
        self.console = []
        self.errors = []
        self.dialogs = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def on_dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()
        page.on("dialog", on_dialog)

    def foreign_requests(self, origin):
        own = urlparse(origin)
        bad = []
        for url in self.requests:
            u = urlparse(url)
            if u.scheme in ("data", "blob", "about"):
                continue
            if (u.scheme, u.netloc) not in (("http", own.netloc), ("ws", own.netloc)):
                bad.append(url)
        return bad


class WarmBrowser:
    """A second Chromium, on an ordinary profile on disk, whose one context `context` lends to
    one test at a time and empties after it.

    An in-memory context (`browser.new_context()`) has no compiled-code cache: each of its
    loads compiles and optimizes Pyodide's WebAssembly and JavaScript anew, ~4.9 CPU-s for a
    load, login and list on this machine. Here a load after the first takes the HTTP cache's
    files and V8's cached code, ~2.5 CPU-s (measured with /proc/stat around six loads each).
    Between tests: the test's pages closed, routes and offline undone, cookies and
    permissions cleared, and every origin the test reached emptied of its storage (local and
    session storage, IndexedDB, service workers and their caches: CDP Storage.clearDataForOrigin
    "all"). What cannot be undone, a context init script or Playwright's fake clock (it is
    the context's), makes the context be closed and opened again on the same profile.
    A test that must see a first visit's cold cache takes `@pytest.mark.cold_context`."""

    def __init__(self, playwright, folder):
        self.playwright = playwright
        self.folder = folder
        self.ctx = None
        self.origins = set()

    def lend(self):
        if self.ctx is None:
            self._keep_only_the_caches()
            self.ctx = self.playwright.chromium.launch_persistent_context(
                self.folder, executable_path=CHROMIUM, args=LAUNCH_ARGS, viewport=VIEWPORT)
            # The page a profile opens with stays, on about:blank: the storage calls go through it.
            self.keeper = self.ctx.pages[0] if self.ctx.pages else self.ctx.new_page()
            self.cdp = self.ctx.new_cdp_session(self.keeper)
            self.ctx.on("request", self._seen)
        self.origins = set()
        return LentContext(self.ctx)

    def _keep_only_the_caches(self):
        """Before a (re)start: of the profile, only the HTTP cache and V8's code cache stay, so
        nothing a test stored survives a browser that ended without being emptied (a crash)."""
        keep = {Path("Default") / "Cache", Path("Default") / "Code Cache"}
        for path in sorted(Path(self.folder).rglob("*"), reverse=True):  # children before parents
            relative = path.relative_to(self.folder)
            if relative in keep or any(parent in keep for parent in relative.parents):
                continue
            if any(relative == parent for kept in keep for parent in kept.parents):
                continue  # "Default" itself
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()

    def _seen(self, request):
        url = urlparse(request.url)
        if url.scheme in ("http", "https"):
            self.origins.add(f"{url.scheme}://{url.netloc}")

    def give_back(self, lent):
        try:
            bent = lent.bent or self.keeper.evaluate("typeof globalThis.__pwClock") != "undefined"
            for pg in self.ctx.pages:
                if pg != self.keeper:
                    pg.close()
            self.ctx.unroute_all(behavior="ignoreErrors")
            self.ctx.set_offline(False)
            self.ctx.clear_cookies()
            self.ctx.clear_permissions()
            for origin in sorted(self.origins):
                self.cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        except Exception:
            bent = True  # a crashed or closed browser: start another
        if bent:
            self.close()

    def close(self):
        if self.ctx is not None:
            try:
                self.ctx.close()
            except Exception:
                pass
            self.ctx = None


class LentContext:
    """The warm context as a test sees it. An init script, or `close()` (which closes its pages),
    marks it for a fresh start after the test."""

    def __init__(self, ctx):
        self._ctx = ctx
        self.bent = False

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def add_init_script(self, *args, **kwargs):
        self.bent = True
        return self._ctx.add_init_script(*args, **kwargs)

    def close(self):
        self.bent = True
        for pg in self._ctx.pages:
            pg.close()


@pytest.fixture(scope="session")
def _warm_browser(_playwright, tmp_path_factory):
    warm = WarmBrowser(_playwright, tmp_path_factory.mktemp("chromium-profile"))
    yield warm
    warm.close()


@pytest.fixture
def context(request, browser, _warm_browser):
    if request.node.get_closest_marker("cold_context"):
        ctx = browser.new_context(viewport=VIEWPORT)
        yield ctx
        ctx.close()
        return
    lent = _warm_browser.lend()
    yield lent
    _warm_browser.give_back(lent)


@pytest.fixture
def page(context):
    pg = context.new_page()
    pg.watch = PageWatch(pg)
    yield pg


def wait_until(predicate, what="condition", timeout=20.0, interval=0.05):
    """Poll a Python-side predicate (server state, page probes) until it is truthy."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
        time.sleep(interval)


def wait_ready(page, state=None):
    # Selectors, not wait_for_function: the page's CSP forbids the eval that a
    # string predicate needs, and we test under the real CSP.
    page.wait_for_selector("body[data-app-ready=true]", state="attached", timeout=BOOT_TIMEOUT_MS)
    if state:
        wait_state(page, state)


def wait_state(page, state, timeout=BOOT_TIMEOUT_MS):
    page.wait_for_selector(f"body[data-app-state={state}]", state="attached", timeout=timeout)


def login(page, where, email="coach@example.com", password=None, query=""):
    """Load the app from `where` (a Server, or an origin such as a proxy's), log in through
    its form. `query` is added to the page URL (e.g. "?debug=1")."""
    page.goto(getattr(where, "origin", where) + "/" + query)
    wait_ready(page, "login")
    submit_login(page, email, password)


def submit_login(page, email="coach@example.com", password=None):
    """Fill the login form on screen, submit it, wait for the messages page and its list."""
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password or email.split("@")[0] + "-pass")
    page.get_by_test_id("login-submit").click()
    wait_state(page, "messages")
    page.get_by_test_id("conversation-item").first.wait_for(timeout=WAIT_MS)


def conversation_row(page, conversation_id):
    return page.locator(f"[data-testid=conversation-item][data-conversation-id='{conversation_id}']")


def chat_view(page, conversation_id):
    return page.locator(f"[data-testid=chat-view][data-conversation-id='{conversation_id}']")


def open_conversation(page, conversation_id, state="connected"):
    """Click the conversation's row; wait for its chat and (unless state is None) that socket state."""
    conversation_row(page, conversation_id).click()
    view = chat_view(page, conversation_id)
    try:
        view.wait_for(timeout=WAIT_MS)
    except PlaywrightTimeout:
        raise AssertionError(f"the click on conversation {conversation_id}'s row opened no chat: "
                             f"{_page_state(page)}") from None
    if state:
        wait_ws_state(page, conversation_id, state)
    return view


_PAGE_STATE = """() => ({url: location.href, state: document.body && document.body.dataset.appState,
    rows: [...document.querySelectorAll('[data-testid=conversation-item]')].map(r => r.dataset.conversationId).slice(0, 8),
    chats: [...document.querySelectorAll('[data-testid=chat-view]')].map(c => c.dataset.conversationId),
    focus: document.activeElement && document.activeElement.outerHTML.slice(0, 100)})"""


def _page_state(page):
    """What the page shows and said, for a failure message (once, in a loaded run, a row's click
    opened nothing and the cause was not found: this says more if it happens again)."""
    try:
        shown = page.evaluate(_PAGE_STATE)
    except Exception as error:  # a closed or crashed page
        shown = f"(unreadable: {error})"
    watch = getattr(page, "watch", None)
    said = f" console={watch.console[-20:]} errors={watch.errors}" if watch is not None else ""
    return f"{shown}{said}"


def wait_ws_state(page, conversation_id, state, timeout=WAIT_MS):
    """Wait for a socket state that lasts (a short one, such as 'connecting' while the clock
    runs, can come and go between two polls: record it instead, ui_support.record_link)."""
    page.wait_for_selector(
        f"[data-testid=chat-view][data-conversation-id='{conversation_id}'][data-ws-state='{state}']",
        state="attached", timeout=timeout)


def token_for(origin, email="coach@example.com"):
    """{"access", "refresh"} for a demo user (password: the name before @, then "-pass")."""
    r = plain_http.post(origin + "/api/auth/jwt/create/",
                   json={"email": email, "password": email.split("@")[0] + "-pass"}, timeout=10)
    r.raise_for_status()
    return r.json()


def session_script(tokens):
    """An init script that puts a session in localStorage before the page's own scripts run."""
    return (f"localStorage.setItem('access_token', {json.dumps(tokens['access'])});"
            f"localStorage.setItem('refresh_token', {json.dumps(tokens['refresh'])});")


class Peer:
    """The other party, over REST and a raw WebSocket: independent of our page."""

    def __init__(self, server, email):
        self.server = server
        self.email = email
        self.access = token_for(server.origin, email)["access"]
        self.http = plain_http.Client(base_url=server.origin, headers={"Authorization": "Bearer " + self.access}, timeout=10)

    def send(self, conversation_id, content, client_message_id=None):
        body = {"content": content}
        if client_message_id:
            body["client_message_id"] = client_message_id
        r = self.http.post(f"/api/messaging/conversations/{conversation_id}/send/", json=body)
        r.raise_for_status()
        return r.json()

    def mark_read(self, conversation_id):
        return self.http.post(f"/api/messaging/conversations/{conversation_id}/read/").json()

    def messages(self, conversation_id, **params):
        return self.http.get(f"/api/messaging/conversations/{conversation_id}/messages/", params=params).json()

    def all_ids(self, conversation_id):
        ids, before = [], None
        while True:
            params = {"limit": 200}
            if before:
                params["before"] = before
            page = self.messages(conversation_id, **params)
            ids = [m["id"] for m in page["results"]] + ids
            if not page["has_more"] or not page["results"]:
                return ids
            before = page["results"][0]["id"]

    def socket(self, conversation_id):
        from websockets.sync.client import connect
        return connect(f"ws://127.0.0.1:{self.server.port}/ws/messaging/{conversation_id}/?token={self.access}",
                       origin=self.server.origin, open_timeout=10)

    def close(self):
        self.http.close()


_counter = iter(range(1, 10_000_000))


@pytest.fixture
def fresh_conversation(server):
    """An isolated conversation coach <-> a new trainee; returns (conversation, trainee Peer)."""
    peers = []

    def make(messages=0, archived=False):
        email = f"t{uuid.uuid4().hex[:10]}@example.com"
        conv = server.fault("conversation", trainer_email="coach@example.com", trainee_email=email,
                            messages=messages, archived=archived)
        peer = Peer(server, email)
        peers.append(peer)
        return conv, peer
    yield make
    for p in peers:
        p.close()
