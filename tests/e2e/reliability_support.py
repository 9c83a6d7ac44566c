"""Helpers for the reliability tests (issue 6): a TCP proxy that can go half-open,
page probes (shown ids, CSP violations, executed-payload flags) and small waits.

Nothing here asserts; the tests do.
"""

from __future__ import annotations

import socket
import threading

import httpx
import plain_http

from e2e_harness import login, token_for, wait_ready, wait_state, wait_until  # noqa: F401 - re-exported

# Registered before any page script: records CSP violations and exposes the flags the
# hostile payloads would set if they ever ran.
ARM_SCRIPT = """
(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(String(e.violatedDirective) + ' ' + String(e.blockedURI));
  });
})();
"""

# Makes the page believe WebSocket does not exist: it must fall back to polling (AC-9).
NO_WEBSOCKET_SCRIPT = "delete window.WebSocket;"


def arm(page):
    page.add_init_script(ARM_SCRIPT)


def csp_violations(page):
    """Violations seen by the page plus console lines that mention the CSP."""
    seen = list(page.evaluate("window.__csp || []"))
    seen += [text for _kind, text in page.watch.console if "Content Security Policy" in text]
    return seen




SHOWN_IDS_JS = """
() => Array.from(document.querySelectorAll('[data-testid=message-list] [data-testid=message][data-message-id]'))
        .map((n) => Number(n.getAttribute('data-message-id')))
"""

PENDING_JS = """
() => Array.from(document.querySelectorAll('[data-testid=message][data-pending=true]'))
        .map((n) => [n.getAttribute('data-client-message-id'), n.getAttribute('data-status'), n.textContent])
"""

TEXTS_JS = """
() => Object.fromEntries(Array.from(document.querySelectorAll('[data-testid=message][data-message-id]'))
        .map((n) => { const t = n.querySelector('.message-text');
                      return [n.getAttribute('data-message-id'), t ? t.textContent : null]; }))
"""


def shown_ids(page):
    """Ids of the real (not pending) messages, in render order."""
    return page.evaluate(SHOWN_IDS_JS)


def pending(page):
    """[(client_message_id, status, text)] of the outbox as rendered."""
    return page.evaluate(PENDING_JS)


def shown_texts(page):
    """{message id (str): textContent of its text span}."""
    return page.evaluate(TEXTS_JS)


def ws_state(page):
    return page.get_attribute("[data-testid=chat-view]", "data-ws-state")


def send_from_page(page, text):
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("send-button").click()


def retry_failed(page):
    """Click every Retry button once; the number clicked."""
    buttons = page.locator("[data-testid=retry-send]")
    n = buttons.count()
    for i in range(n - 1, -1, -1):
        try:
            buttons.nth(i).click(timeout=2_000)
        except Exception:
            pass  # resolved between count and click
    return n


def db_messages(server, conversation_id, token):
    """Every message of the conversation, ascending, straight from the API."""
    out, before = [], None
    with plain_http.Client(base_url=server.origin, headers={"Authorization": "Bearer " + token}, timeout=10) as http:
        while True:
            params = {"limit": 200}
            if before:
                params["before"] = before
            page = http.get(f"/api/messaging/conversations/{conversation_id}/messages/", params=params).json()
            out = page["results"] + out
            if not page["has_more"] or not page["results"]:
                return out
            before = page["results"][0]["id"]


class TcpProxy:
    """Forwards TCP both ways between 127.0.0.1:<port> and a target port.

    stall(): every connection open now stops forwarding, in both directions, WITHOUT being
    closed (bytes are swallowed): a half-open link as after a NAT timeout or a sleeping laptop.
    New connections made while stalled are swallowed too.
    heal(): the swallowed connections are reset (as the OS finally would) and new ones forward.
    """

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.links = []  # [client, upstream, dead flag dict]
        self.stalled = False
        self.closed = False
        self.swallowed_bytes = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            link = {"client": client, "upstream": upstream, "dead": self.stalled}
            with self.lock:
                self.links.append(link)
            threading.Thread(target=self._pump, args=(link, client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, upstream, client), daemon=True).start()

    def _pump(self, link, src, dst):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                if not link["dead"]:
                    self._close_link(link)
                return
            if link["dead"]:
                self.swallowed_bytes += len(data)
                continue
            try:
                dst.sendall(data)
            except OSError:
                self._close_link(link)
                return

    def _close_link(self, link):
        for s in (link["client"], link["upstream"]):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        with self.lock:
            if link in self.links:
                self.links.remove(link)

    def stall(self):
        with self.lock:
            self.stalled = True
            for link in self.links:
                link["dead"] = True

    def heal(self):
        with self.lock:
            self.stalled = False
            dead = [link for link in self.links if link["dead"]]
        for link in dead:
            self._close_link(link)

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            links = list(self.links)
        for link in links:
            self._close_link(link)


def relogin(peer):
    """Access tokens live 5 minutes; the long forms outlive them."""
    peer.access = token_for(peer.server.origin, peer.email)["access"]
    peer.http.headers["Authorization"] = "Bearer " + peer.access
    return peer.access


def send_as_peer(peer, cid, text):
    """peer.send that logs in again once when the access token has expired."""
    try:
        return peer.send(cid, text)
    except httpx.HTTPStatusError as error:
        if error.response.status_code != 401:
            raise
        relogin(peer)
        return peer.send(cid, text)
