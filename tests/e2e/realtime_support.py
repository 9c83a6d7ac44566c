"""Helpers for the real-time end-to-end tests (issue 3, part 5).

Two instruments are installed into the page before any of its scripts run
(`add_init_script`, which the page's CSP does not restrict):

* a recording subclass of `WebSocket`: every socket the page creates is logged in
  `window.__rtSockets` with the fake-clock time (`Date.now()`) of its creation,
  open, close (and close code), and every frame sent and received. The socket is
  the browser's own; the subclass only watches.
* a wrapper around `fetch` logging `[Date.now(), method, url]` in
  `window.__rtFetches` and counting requests still in flight.

Time: tests install Playwright's fake clock before the page loads, let the app
boot in (fake but flowing) time, then PAUSE it. From then on, fake time moves
only when a test calls `advance()`, so every timer of the app (backoff, pings,
polls) fires at an exact, known fake time, while network events (opens, closes,
frames, fetch answers) arrive in real time at a frozen fake time. The page's
rendering is batched per animation frame, and Playwright fakes
`requestAnimationFrame` too: `wait_rendered()` nudges the clock by one frame at
a time while it waits for the DOM.
"""

import json
import time
from urllib.parse import parse_qs, urlparse

from e2e_harness import login, open_conversation, wait_ready, wait_state, wait_until  # noqa: F401 - re-exported

RECORDER_JS = r"""
(() => {
  const sockets = [];
  const fetches = [];
  let inFlight = 0;
  Object.defineProperty(window, '__rtSockets', {value: sockets});
  Object.defineProperty(window, '__rtFetches', {value: fetches});
  Object.defineProperty(window, '__rtInFlight', {get: () => inFlight});
  const NativeFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || String(input);
    const method = (init && init.method) || (input && input.method) || 'GET';
    fetches.push([Date.now(), String(method).toUpperCase(), new URL(url, location.href).href]);
    inFlight += 1;
    const done = () => { inFlight -= 1; };
    const result = NativeFetch.apply(this, arguments);
    result.then(done, done);
    return result;
  };
  const Native = window.WebSocket;
  if (!Native) return;
  const records = new WeakMap();
  class RecordedWebSocket extends Native {
    constructor(url, protocols) {
      if (protocols === undefined) super(url); else super(url, protocols);
      const rec = {url: String(url), created: Date.now(), opened: null, closed: null, code: null,
                   closedBy: null, sent: [], received: []};
      sockets.push(rec);
      records.set(this, rec);
      this.addEventListener('open', () => { rec.opened = Date.now(); });
      this.addEventListener('close', (e) => { rec.closed = Date.now(); rec.code = e.code; });
      this.addEventListener('message', (e) => { rec.received.push([Date.now(), String(e.data)]); });
    }
    send(data) {
      const rec = records.get(this);
      if (rec) rec.sent.push([Date.now(), String(data)]);
      return super.send(data);
    }
    close(code, reason) {
      const rec = records.get(this);
      if (rec && rec.closedBy === null) rec.closedBy = [Date.now(), code === undefined ? null : code];
      return code === undefined ? super.close() : super.close(code, reason);
    }
  }
  window.WebSocket = RecordedWebSocket;
})();
"""

VIEW = "[data-testid=chat-view]"
BANNER = "[data-testid=connection-banner]"
FAILED_TEXT = "Real-time updates unavailable. Messages may be delayed."
PING = '{"type": "ping"}'

REAL_WAIT = 20.0  # seconds of real time we are willing to wait for the page to react


# ----------------------------------------------------------------------------- set-up


def install_recorder(page):
    page.add_init_script(RECORDER_JS)


def login_clocked(page, server, email="coach@example.com", query="", clock=True):
    """Recorder + fake clock (flowing, not paused yet), then log in.
    clock=False: recorder only, real time. `query` is added to the page URL (e.g. "?debug=1")."""
    install_recorder(page)
    if clock:
        page.clock.install()
    login(page, server, email, query=query)


def pause(page):
    """Stop fake time where it is now; returns that time in ms."""
    for _ in range(10):
        now = fake_now(page)
        try:
            page.clock.pause_at((now + 250) / 1000.0)  # Python's pause_at takes seconds
        except Exception as exc:  # time flowed past the target while we asked: try again
            if "past" not in str(exc):
                raise
            continue
        return fake_now(page)
    raise AssertionError("could not pause the fake clock")


def open_and_pause(page, cid):
    """Pause the clock, open the conversation, wait until connected; returns the fake time (ms).

    Paused first, so the socket opens at a frozen fake time that the page's machine and the
    recorder both see: the 30 s ping is then due at exactly `opened` + 30 000 ms. (Messages
    rendered on open wait for an animation frame: see wait_rendered.)"""
    t = pause(page)
    open_conversation(page, cid, "connected")
    wait_open(page, 0)
    assert fake_now(page) == t
    return t


def open_clocked_chat(page, server, fresh_conversation, messages=0):
    """How most real-time tests begin: a fresh conversation (with `messages` in its history),
    the recorder and fake clock, logged in, its chat open and connected with the clock paused.
    Returns (conversation id, the trainee's Peer)."""
    conv, peer = fresh_conversation(messages=messages)
    login_clocked(page, server)
    open_and_pause(page, conv["id"])
    return conv["id"], peer


# ----------------------------------------------------------------------------- reading the page


def fake_now(page):
    return page.evaluate("Date.now()")


def _all_sockets(page):
    return page.evaluate("JSON.parse(JSON.stringify(window.__rtSockets))")


def ws_log(page):
    """The page's conversation sockets, in order (the optional inbox socket is not one)."""
    return [rec for rec in _all_sockets(page) if "/ws/inbox/" not in rec["url"]]


def inbox_log(page):
    """The page's inbox sockets (and probes), in order (CONTRACT "Inbox socket")."""
    return [rec for rec in _all_sockets(page) if "/ws/inbox/" in rec["url"]]


def fetch_log(page):
    return page.evaluate("window.__rtFetches.slice()")


def ws_state(page):
    return page.get_attribute(VIEW, "data-ws-state")


def banner_state(page):
    """The banner's data-state, or None when no banner is in the DOM."""
    loc = page.locator(BANNER)
    if loc.count() == 0:
        return None
    assert loc.count() == 1, "more than one connection banner"
    return loc.get_attribute("data-state")


def token_of(url):
    return parse_qs(urlparse(url).query)["token"][0]


def stored_access_token(page):
    return page.evaluate("localStorage.getItem('access_token')")


def pings(record):
    """Fake times (ms) at which a socket sent a ping frame."""
    out = []
    for t, text in record["sent"]:
        try:
            frame = json.loads(text)
        except ValueError:
            continue
        if isinstance(frame, dict) and frame.get("type") == "ping":
            out.append(t)
    return out


def kind_of(url, cid):
    """Which poll/endpoint a fetch URL is: messages/gapfill/conversations/unread/refresh/other."""
    u = urlparse(url)
    path, query = u.path, parse_qs(u.query)
    if path == f"/api/messaging/conversations/{cid}/messages/":
        if "after" in query:
            return "gapfill"
        if "before" in query:
            return "older"
        return "messages"
    if path == "/api/messaging/conversations/":
        return "conversations"
    if path == "/api/messaging/unread-count/":
        return "unread"
    if path == "/api/auth/jwt/refresh/":
        return "refresh"
    if path.endswith("/read/"):
        return "read"
    return "other"


def fetch_times(page, cid, kind, since=None, until=None):
    """Fake times (ms) of fetches of one kind, in (since, until]."""
    out = []
    for t, _method, url in fetch_log(page):
        if kind_of(url, cid) != kind:
            continue
        if since is not None and t <= since:
            continue
        if until is not None and t > until:
            continue
        out.append(t)
    return out


# ----------------------------------------------------------------------------- waiting and time


def settle(page, quiet=0.15):
    """Wait (real time, clock untouched) until no fetch is in flight for `quiet` seconds."""
    deadline = time.time() + REAL_WAIT
    while time.time() < deadline:
        if page.evaluate("window.__rtInFlight") == 0:
            time.sleep(quiet)
            if page.evaluate("window.__rtInFlight") == 0:
                return
        time.sleep(0.03)
    raise AssertionError("requests still in flight after %ss" % REAL_WAIT)


def advance(page, ms, step=None):
    """Move fake time forward by `ms`, in steps of `step` ms, letting requests finish between
    steps (so that a poll is never skipped just because its previous fetch had no time to answer)."""
    step = step or ms
    left = ms
    while left > 0:
        chunk = min(step, left)
        page.clock.run_for(chunk)
        left -= chunk
        settle(page)


def wait_state_is(page, state, timeout=REAL_WAIT):
    page.wait_for_selector(f"{VIEW}[data-ws-state='{state}']", state="attached", timeout=timeout * 1000)


def wait_rendered(page, selector, count=1, timeout=REAL_WAIT, frame_ms=16):
    """Wait for `count` matches of `selector`, advancing fake time one frame at a time
    (rendering waits for requestAnimationFrame, which the fake clock controls).
    Returns the fake ms spent on nudging."""
    spent = 0
    deadline = time.time() + timeout
    while page.locator(selector).count() < count:
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {count} x {selector} "
                                 f"(have {page.locator(selector).count()})")
        page.clock.run_for(frame_ms)
        spent += frame_ms
        time.sleep(0.05)
    return spent


def wait_socket_count(page, n, what=None):
    return wait_until(lambda: len(ws_log(page)) >= n and ws_log(page), what or f"{n} sockets created")


def _socket_when(page, index, field):
    log = ws_log(page)
    return log[index] if len(log) > index and log[index][field] is not None else None


def wait_closed(page, index):
    return wait_until(lambda: _socket_when(page, index, "closed"), f"socket #{index} closed")


def wait_open(page, index):
    return wait_until(lambda: _socket_when(page, index, "opened"), f"socket #{index} open")


def wait_server_open(server, cid, n, timeout=REAL_WAIT):
    return wait_until(lambda: server.open_sockets(cid) == n, f"server has {n} open sockets on {cid}",
                      timeout=timeout)


def message_ids(page):
    loc = page.locator("[data-testid=message][data-message-id]")
    return [int(x) for x in loc.evaluate_all("els => els.map(e => e.getAttribute('data-message-id'))")]


def set_visibility(page, state):
    """Make document.visibilityState report `state` and fire visibilitychange (AC-6)."""
    page.evaluate(
        """(state) => {
            Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => state});
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => state !== 'visible'});
            document.dispatchEvent(new Event('visibilitychange'));
        }""", state)


# ----------------------------------------------------------------------------- retries

EPS = 50  # ms: each retry must come within (delay - EPS, delay + EPS] of the failure


def expect_no_new_socket(page, count, real_wait=0.4):
    settle(page)
    time.sleep(real_wait)
    assert len(ws_log(page)) == count, "a socket was created too early"


def expect_retry_after(page, index, t_fail, delay_ms, opens=False):
    """Socket #index must be created exactly delay_ms after t_fail (within EPS), not before;
    then waits for it to close (a refused retry) or, with opens=True, to open."""
    ahead = t_fail + delay_ms - EPS - fake_now(page)
    assert ahead > 0, "the test is already past the moment to check"
    advance(page, ahead)
    expect_no_new_socket(page, index)
    advance(page, 2 * EPS)
    rec = (wait_open if opens else wait_closed)(page, index)
    assert delay_ms - EPS < rec["created"] - t_fail <= delay_ms + EPS, (index, rec["created"] - t_fail)
    return rec
