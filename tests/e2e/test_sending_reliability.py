"""Sending through trouble: a send whose answer is lost, and a reload with sends still pending.

The server stores the message but the page never sees the answer: the page shows the
send as failed, and Retry (same client_message_id) leaves exactly one message. A reload
while sends are pending never drops one silently: one that reached the server is recognised
in the history by its client_message_id and shown once as sent; one that did not is restored
as "not sent" with Retry, and retrying stores it exactly once.
"""

import time

from e2e_harness import open_conversation, login
from reliability_support import (arm, csp_violations, db_messages, pending, shown_ids, wait_until)


def count_in_db(server, cid, peer, text):
    return [m["content"] for m in db_messages(server, cid, peer.access)].count(text)


def test_lost_answer_shows_failed_and_retry_leaves_exactly_one(page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=2)
    cid = conv["id"]
    arm(page)
    login(page, server)
    open_conversation(page, cid)

    # Stored, answered 504, not broadcast: the page has no way to know it was stored.
    server.fault("lose_send_answers", count=1, broadcast=False)
    text = "lost answer " + str(time.time())
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("send-button").click()
    page.wait_for_selector("[data-testid=message][data-pending=true][data-status=failed]", timeout=30_000)
    assert count_in_db(server, cid, peer, text) == 1  # it WAS stored
    [(cmid, status, shown)] = pending(page)
    assert status == "failed" and text in shown

    page.get_by_test_id("retry-send").click()
    wait_until(lambda: pending(page) == [], timeout=30, what="the retry to resolve")
    db = db_messages(server, cid, peer.access)
    wait_until(lambda: shown_ids(page) == [m["id"] for m in db], timeout=30, what="page ids == db ids")
    copies = [m["content"] for m in db].count(text)
    print(f"FIGURE lost_answer: stored_before_retry=1 after_retry={copies} shown={shown_ids(page).count(db[-1]['id'])}")
    assert copies == 1
    assert page.locator("[data-testid=message]:not([data-pending])", has_text=text).count() == 1
    assert csp_violations(page) == []


def test_reload_with_pending_sends_shows_them_not_sent_and_retry_sends_each_once(page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    arm(page)
    login(page, server)
    open_conversation(page, cid)

    never = "never left the page " + str(time.time())
    stored = "stored but unanswered " + str(time.time())

    holding = [True]

    def hold(route):
        # The first send never reaches the server; the second reaches it, its answer never comes
        # back. (Not page.unroute: that would let the held requests go on.)
        if not holding[0]:
            route.continue_()
            return
        body = route.request.post_data or ""
        if stored in body:
            route.fetch()
        # no fulfil: the request hangs until the page goes away

    page.route("**/api/messaging/conversations/*/send/", hold)
    for text in (never, stored):
        page.get_by_test_id("chat-input").fill(text)
        page.get_by_test_id("send-button").click()
    wait_until(lambda: len(pending(page)) == 2 and all(s == "pending" for _, s, _ in pending(page)),
               timeout=30, what="two pending sends")
    # The route handler above runs only while this thread is inside a Playwright call (the sync
    # API dispatches events then): give it those turns while waiting on the database.
    wait_until(lambda: page.wait_for_timeout(20) or count_in_db(server, cid, peer, stored) == 1, timeout=30,
               what="the held send to be stored")

    stored_outbox = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('outbox:'))")
    assert len(stored_outbox) == 1, stored_outbox
    page.reload()
    holding[0] = False
    page.wait_for_selector("body[data-app-state=messages]", state="attached", timeout=60_000)
    open_conversation(page, cid)
    page.wait_for_selector("[data-testid=message][data-pending=true][data-status=failed]", timeout=30_000)
    # The send that reached the server is recognised in the history by its client_message_id
    # (shown once, as sent); the one that never left is restored as not sent, with Retry.
    wait_until(lambda: len(pending(page)) == 1, timeout=30, what="only the unsent message left pending")
    [(_, status, shown)] = pending(page)
    assert status == "failed" and never in shown
    assert page.locator("[data-testid=message]:not([data-pending])", has_text=stored).count() == 1
    assert count_in_db(server, cid, peer, never) == 0

    page.get_by_test_id("retry-send").click()
    wait_until(lambda: pending(page) == [], timeout=30, what="the retry to resolve")
    db = db_messages(server, cid, peer.access)
    wait_until(lambda: shown_ids(page) == [m["id"] for m in db], timeout=30, what="page ids == db ids")
    counts = (count_in_db(server, cid, peer, never), count_in_db(server, cid, peer, stored))
    print(f"FIGURE reload_pending: pending_at_reload=2 restored_not_sent=1 recognised_as_sent=1 "
          f"copies_after_retry never={counts[0]} stored={counts[1]}")
    assert counts == (1, 1)
    assert page.locator("[data-testid=message]:not([data-pending])", has_text=never).count() == 1
    assert csp_violations(page) == []
