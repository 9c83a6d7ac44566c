"""CSP and secrets in the browser: the page runs under serve.py's strict CSP with 0
violations through boot, login, opening a chat, sending, receiving, loading older messages
and a reload; and no token appears in any console message.

Every other reliability test in tests/e2e also arms the same `securitypolicyviolation`
recorder (reliability_support.arm) and asserts 0 violations.
"""

import plain_http

from e2e_harness import login, open_conversation, wait_ready
from reliability_support import arm, csp_violations, shown_ids, wait_until
from ui_support import after_frames, images_settled


def test_whole_flow_has_zero_csp_violations_and_no_token_in_the_console(page, server, fresh_conversation):
    document = plain_http.get(server.origin + "/")
    csp = document.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp and "'wasm-unsafe-eval'" in csp

    conv, peer = fresh_conversation(messages=80)  # more than one page: exercises "load older"
    cid = conv["id"]
    arm(page)
    login(page, server)
    open_conversation(page, cid)
    page.get_by_test_id("chat-input").fill("hello under a strict CSP")
    page.get_by_test_id("send-button").click()
    page.locator("[data-testid=message]:not([data-pending])", has_text="hello under a strict CSP").wait_for()
    peer.send(cid, "and back")
    page.locator("[data-testid=message]", has_text="and back").wait_for(timeout=20_000)

    def older_loaded():
        page.evaluate("document.querySelector('[data-testid=message-list]').scrollTop = 0")
        return len(shown_ids(page)) == 82
    wait_until(older_loaded, timeout=30, interval=0.5, what="older messages")
    page.get_by_test_id("chat-input").type("typing...", delay=20)  # typing frames
    page.reload()
    wait_ready(page, "messages")
    open_conversation(page, cid)
    # The reopened chat has rendered its last page (images included) and painted.
    page.locator("[data-testid=message]", has_text="and back").wait_for(timeout=20_000)
    images_settled(page)
    after_frames(page)

    violations = csp_violations(page)
    tokens = [page.evaluate("localStorage.getItem('access_token')"),
              page.evaluate("localStorage.getItem('refresh_token')"), peer.access]
    leaked = [text for _kind, text in page.watch.console for t in tokens if t and t in text]
    print(f"FIGURE csp: violations={len(violations)} console_messages={len(page.watch.console)} "
          f"token_in_console={len(leaked)} dialogs={len(page.watch.dialogs)}")
    assert violations == []
    assert leaked == []
    assert page.watch.errors == [] and page.watch.dialogs == []
