"""Held sends go even when their conversation is not open (issue 13, point 2): written in A
during an outage, they are sent by the session once the server answers again, in order and
once each, while the trainer is in B or on the list after a reload; A's row shows the last.
"""

import json
import uuid

import plain_http
from e2e_harness import Server, open_conversation
from reliability_support import arm, db_messages, login, pending, send_from_page, token_for, wait_until


def _setup(tmp_path):
    srv = Server(tmp_path).start()
    emails = [f"held{n}{uuid.uuid4().hex[:8]}@example.com" for n in range(2)]
    a, b = (srv.fault("conversation", trainer_email="coach@example.com", trainee_email=e, messages=0)["id"]
            for e in emails)
    return srv, emails[0], a, b


def _contents_as_peer(srv, cid, email):
    return [m["content"] for m in db_messages(srv, cid, token_for(srv.origin, email)["access"])]


def _preview(page, cid):
    return page.locator(f"[data-testid=conversation-item][data-conversation-id='{cid}'] "
                        "[data-testid=conversation-preview]").text_content()


def _write_two_held(page, prefix):
    texts = [f"{prefix} {n} {uuid.uuid4().hex[:6]}" for n in range(2)]
    for text in texts:
        send_from_page(page, text)
    wait_until(lambda: [s for _, s, _ in pending(page)] == ["held"] * 2, timeout=20, what="two held sends")
    return texts


def test_held_sends_of_a_conversation_left_for_another_go_once_in_order_when_the_server_is_back(page, tmp_path):
    srv, email_a, a, b = _setup(tmp_path)
    try:
        arm(page)
        login(page, srv.origin)
        open_conversation(page, a)
        srv.stop()
        texts = _write_two_held(page, "left in A")
        open_conversation(page, b, state=None)  # the trainer moves on; A is not opened again
        page.wait_for_selector(f"[data-testid=chat-view][data-conversation-id='{b}']", timeout=20_000)
        assert page.locator(f"[data-testid=chat-view][data-conversation-id='{a}']").count() == 0
        srv.start()  # same port, same database
        wait_until(lambda: _contents_as_peer(srv, a, email_a) == texts, timeout=60, interval=0.5,
                   what="A's held sends to reach the server")
        wait_until(lambda: _preview(page, a) is not None and texts[-1] in _preview(page, a), timeout=20,
                   what="A's row to show the last one")
        assert page.locator(f"[data-testid=chat-view][data-conversation-id='{b}']").count() == 1  # still in B
        # Once each: once every send is answered the page holds nothing more to send (its stored
        # outbox is gone), so nothing can be stored later: then the server has each exactly once.
        _wait_outbox_empty(page, srv, a)
        assert _contents_as_peer(srv, a, email_a) == texts
    finally:
        srv.stop()


def test_held_sends_go_after_a_reload_onto_the_list_without_opening_their_conversation(page, tmp_path):
    srv, email_a, a, b = _setup(tmp_path)
    try:
        arm(page)
        login(page, srv.origin)
        open_conversation(page, a)
        # The send requests get no answer (as with no network); the rest of the page works.
        page.route("**/send/", lambda route: route.abort("internetdisconnected"))
        texts = _write_two_held(page, "kept from A")
        page.evaluate("sessionStorage.removeItem('open_conversation')")
        # Reload onto the list: the session tries the restored sends and the broken link refuses them.
        with page.expect_event("requestfailed", predicate=lambda r: "/send/" in r.url, timeout=60_000):
            page.goto(srv.origin + "/")
        page.get_by_test_id("conversation-item").first.wait_for(timeout=30_000)
        assert page.locator("[data-testid=chat-view]").count() == 0
        assert _contents_as_peer(srv, a, email_a) == []  # still held while the link is broken
        assert len(pending_in_storage(page, srv, a)) == 2
        page.unroute("**/send/")  # the link returns; the next list answer or probe sends them
        wait_until(lambda: _contents_as_peer(srv, a, email_a) == texts, timeout=90, interval=0.5,
                   what="A's restored held sends to reach the server")
        wait_until(lambda: texts[-1] in (_preview(page, a) or ""), timeout=20, what="A's row to show the last one")
        assert page.locator("[data-testid=chat-view]").count() == 0
        _wait_outbox_empty(page, srv, a)  # as above: nothing left to send, so each is stored once
        assert _contents_as_peer(srv, a, email_a) == texts
    finally:
        srv.stop()


def pending_in_storage(page, srv, cid):
    """The stored outbox's entries for cid (its JSON as core/outbox.py writes it), [] when none."""
    raw = page.evaluate(f"localStorage.getItem('outbox:' + {_my_id(srv)} + ':{cid}')")
    if raw is None:
        return []
    data = json.loads(raw)
    return data.get("entries", data) if isinstance(data, dict) else data


def _wait_outbox_empty(page, srv, cid):
    wait_until(lambda: pending_in_storage(page, srv, cid) == [], timeout=30, what="the stored outbox to empty")


def _my_id(srv):
    token = token_for(srv.origin, "coach@example.com")["access"]
    return plain_http.get(srv.origin + "/api/auth/users/me/", headers={"Authorization": "Bearer " + token},
                          timeout=10).json()["id"]
