"""Sending through trouble: a send whose answer is lost, and a reload with sends still pending.

The server stores the message but the page never sees the answer (504): the page holds the
send ("sending", clock mark) and sends it again by itself with the same client_message_id,
which leaves exactly one message. A reload while sends are pending never drops one silently:
one that reached the server is recognised in the history and shown once as sent; one that did
not is restored as held and goes out by itself, exactly once, without a click.
"""

import time

from e2e_harness import open_conversation, login
from reliability_support import (arm, csp_violations, db_messages, pending, shown_ids, wait_until)


def count_in_db(server, cid, peer, text):
    return [m["content"] for m in db_messages(server, cid, peer.access)].count(text)


def test_lost_answer_is_held_and_resent_by_itself_leaving_exactly_one(page, server, fresh_conversation):
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
    # No "Not sent": a 504 is no answer about the message, so it is held and sent again.
    wait_until(lambda: pending(page) == [], timeout=30, what="the held send to go again by itself")
    assert page.get_by_test_id("retry-send").count() == 0
    db = db_messages(server, cid, peer.access)
    wait_until(lambda: shown_ids(page) == [m["id"] for m in db], timeout=30, what="page ids == db ids")
    copies = [m["content"] for m in db].count(text)
    print(f"FIGURE lost_answer: after_automatic_resend={copies} shown={shown_ids(page).count(db[-1]['id'])}")
    assert copies == 1
    assert page.locator("[data-testid=message]:not([data-pending])", has_text=text).count() == 1
    assert csp_violations(page) == []


def test_reload_with_pending_sends_restores_them_held_and_sends_each_once_by_itself(page, server, fresh_conversation):
    conv, peer = fresh_conversation(messages=1)
    cid = conv["id"]
    arm(page)
    login(page, server)
    open_conversation(page, cid)

    stored = "stored but unanswered " + str(time.time())
    waiting = "waiting behind it " + str(time.time())

    holding = [True]

    def hold(route):
        # The first send reaches the server and its answer never comes back; sends go one at a
        # time, so the second waits behind it. (Not page.unroute: that would let held requests go on.)
        if not holding[0]:
            route.continue_()
            return
        body = route.request.post_data or ""
        if stored in body:
            route.fetch()
        # no fulfil: the request hangs until the page goes away

    page.context.route("**/api/messaging/conversations/*/send/", hold)
    for text in (stored, waiting):
        page.get_by_test_id("chat-input").fill(text)
        page.get_by_test_id("send-button").click()
    # The route handler above runs only while this thread is inside a Playwright call (the sync
    # API dispatches events then): give it those turns while waiting on the database.
    wait_until(lambda: page.wait_for_timeout(20) or count_in_db(server, cid, peer, stored) == 1, timeout=30,
               what="the first send to be stored")
    # Its socket copy (or not, by the time of the reload) confirms it; the second is still on its way.
    wait_until(lambda: any(waiting in shown and s == "pending" for _, s, shown in pending(page)), timeout=30,
               what="the second send pending")
    assert count_in_db(server, cid, peer, waiting) == 0  # one at a time, in order

    stored_outbox = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('outbox:'))")
    assert len(stored_outbox) == 1, stored_outbox
    page.reload()
    holding[0] = False
    page.wait_for_selector("body[data-app-state=messages]", state="attached", timeout=60_000)
    open_conversation(page, cid)
    # The send that reached the server is recognised in the history (shown once, as sent); the
    # one that never left goes out by itself once the server is heard: no Retry to press.
    wait_until(lambda: pending(page) == [], timeout=30, what="the restored send to go by itself")
    assert page.get_by_test_id("retry-send").count() == 0
    db = db_messages(server, cid, peer.access)
    wait_until(lambda: shown_ids(page) == [m["id"] for m in db], timeout=30, what="page ids == db ids")
    counts = (count_in_db(server, cid, peer, stored), count_in_db(server, cid, peer, waiting))
    print(f"FIGURE reload_pending: pending_at_reload=2 recognised_as_sent=1 sent_by_itself=1 "
          f"copies stored={counts[0]} waiting={counts[1]}")
    assert counts == (1, 1)
    assert [m["content"] for m in db][-2:] == [stored, waiting]  # in the order written
    assert page.locator("[data-testid=message]:not([data-pending])", has_text=waiting).count() == 1
    assert csp_violations(page) == []
