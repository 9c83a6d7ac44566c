"""The outbox holds, then sends (issue 13, point 2): a message written while the server is
unreachable waits as "sending" with a clock mark, never as "Not sent", and goes out by itself,
in the order written and exactly once, when the server answers again, also across a reload.
Only a refusal by the server (4xx) says "Not sent", with the server's reason, and offers Retry.
"""

import uuid

from e2e_harness import Server, open_conversation
from reliability_support import arm, db_messages, login, pending, send_from_page, token_for, wait_until


def _setup(tmp_path):
    srv = Server(tmp_path).start()
    email = f"outbox{uuid.uuid4().hex[:8]}@example.com"
    conv = srv.fault("conversation", trainer_email="coach@example.com", trainee_email=email, messages=0)
    return srv, email, conv["id"]


def _contents(srv, cid, email):
    return [m["content"] for m in db_messages(srv, cid, token_for(srv.origin, email)["access"])]


def test_three_messages_written_while_the_server_is_down_arrive_once_in_order_without_a_click(page, tmp_path):
    srv, email, cid = _setup(tmp_path)
    try:
        arm(page)
        login(page, srv.origin)
        open_conversation(page, cid)
        srv.stop()
        texts = [f"held {n} {uuid.uuid4().hex[:6]}" for n in range(3)]
        for text in texts:
            send_from_page(page, text)
        # Each waits with a clock mark, in the order written; none says "Not sent".
        wait_until(lambda: [s for _, s, _ in pending(page)] == ["held"] * 3, timeout=20,
                   what="three held sends")
        shown = pending(page)
        assert [t.removesuffix(" Sending…") for _, _, t in shown] == texts  # a drawn clock: no emoji
        assert page.locator("[data-testid=send-held]").count() == 3
        assert page.locator("[data-testid=retry-send]").count() == 0
        for _ in range(2):  # two of the page's requests (a held probe, a poll) fail meanwhile ...
            page.wait_for_event("requestfailed", timeout=30_000)
        # ... and the sends are still held, still no "Not sent".
        assert [s for _, s, _ in pending(page)] == ["held"] * 3
        srv.start()  # same port, same database
        wait_until(lambda: pending(page) == [], timeout=60, interval=0.2, what="the outbox to empty by itself")
        assert _contents(srv, cid, email) == texts  # once each, in order
        shown_texts = page.locator("[data-testid=message-list] [data-testid=message][data-message-id] .message-text")
        assert shown_texts.all_text_contents()[-3:] == texts
    finally:
        srv.stop()


def test_held_sends_survive_a_reload_and_go_by_themselves_once_the_server_answers(page, tmp_path):
    srv, email, cid = _setup(tmp_path)
    try:
        arm(page)
        login(page, srv.origin)
        open_conversation(page, cid)
        # The send requests get no answer (as with no network); the rest of the page works.
        page.route("**/send/", lambda route: route.abort("internetdisconnected"))
        texts = [f"kept {n} {uuid.uuid4().hex[:6]}" for n in range(2)]
        for text in texts:
            send_from_page(page, text)
        wait_until(lambda: [s for _, s, _ in pending(page)] == ["held"] * 2, timeout=20, what="two held sends")
        page.reload()
        open_conversation(page, cid)
        # Restored into the conversation's pending list, still held (the route still fails them).
        wait_until(lambda: [s for _, s, _ in pending(page)] == ["held"] * 2, timeout=20,
                   what="the held sends back after the reload")
        assert [c for c, _, _ in pending(page)] and _contents(srv, cid, email) == []
        page.unroute("**/send/")
        wait_until(lambda: pending(page) == [], timeout=60, interval=0.2, what="the restored sends to go")
        assert _contents(srv, cid, email) == texts
    finally:
        srv.stop()


def test_a_refusal_says_the_servers_reason_and_offers_retry(page, tmp_path):
    srv, email, cid = _setup(tmp_path)
    try:
        arm(page)
        login(page, srv.origin)
        open_conversation(page, cid)
        page.route("**/send/", lambda route: route.fulfill(
            status=400, content_type="application/json", body='{"detail": "Messages are closed here."}'))
        send_from_page(page, "refused one")
        wait_until(lambda: [s for _, s, _ in pending(page)] == ["failed"], timeout=20, what="a refused send")
        assert "Not sent: Messages are closed here." in pending(page)[0][2]
        page.unroute("**/send/")
        page.get_by_test_id("retry-send").click()
        wait_until(lambda: pending(page) == [], timeout=20, what="the retried send")
        assert _contents(srv, cid, email) == ["refused one"]
    finally:
        srv.stop()
