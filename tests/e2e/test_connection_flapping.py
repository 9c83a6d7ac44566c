"""Flapping. The server closes the page's socket at random moments (codes
1006, 1001, 1011, 1000) while the other party sends: nothing lost, nothing duplicated, render
order equals id order, and the server never sees more than one open socket for the tab
(sampled every 20 ms by a background thread).
"""

import random
import threading
import time

import httpx
import plain_http
import pytest

from e2e_harness import login, open_conversation
from reliability_support import (arm, csp_violations, db_messages, relogin, send_as_peer, shown_ids, wait_until,
                                 ws_state)


class SocketSampler:
    """Polls the server's open-socket count for one conversation; keeps the maximum."""

    def __init__(self, server, cid):
        self.server, self.cid = server, cid
        self.max_open = 0
        self.samples = 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        with plain_http.Client(timeout=5) as http:
            while not self.stop_flag:
                try:
                    counts = http.get(self.server.origin + "/__faults/sockets").json()["open"]
                    self.max_open = max(self.max_open, int(counts.get(str(self.cid), 0)))
                    self.samples += 1
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)

    def stop(self):
        self.stop_flag = True
        self.thread.join(5)


def run_flapping(page, server, fresh_conversation, closes):
    rng = random.Random(6004)
    conv, peer = fresh_conversation(messages=5)
    cid = conv["id"]
    arm(page)
    login(page, server)
    open_conversation(page, cid)
    sampler = SocketSampler(server, cid)
    started = time.time()
    hits, sent = 0, 0
    try:
        for i in range(closes):
            # Wait for the link (at most the 1+2+4+8 s backoff), then the other party sends while
            # the link lives a random 0-6 s (so some links reach the 5 s stability that resets the
            # backoff and some do not), then the server closes it with a random code.
            try:
                page.wait_for_selector("[data-testid=chat-view][data-ws-state=connected]", timeout=18_000)
            except Exception:
                pass  # still backing off, or exhausted -> polling; messages must still all arrive
            life_end = time.time() + rng.uniform(0, 6)
            for _ in range(rng.randint(1, 3)):
                send_as_peer(peer, cid, f"flap {i} {sent}")
                sent += 1
                time.sleep(max(0.0, min(rng.uniform(0, 2), life_end - time.time())))
            time.sleep(max(0.0, life_end - time.time()))
            hits += server.fault("close", conversation_id=cid, code=rng.choice([1006, 1001, 1011, 1000]))["closed"]
            send_as_peer(peer, cid, f"flap {i} after close {sent}")
            sent += 1
        db_ids = [m["id"] for m in db_messages(server, cid, relogin(peer))]
        wait_until(lambda: shown_ids(page) == db_ids, timeout=60, interval=0.3, what="page ids == db ids")
        # One more message: whatever brings it (socket or poll) brings it after any late copy
        # of an earlier one, so once it shows, a duplicate would be on the page too.
        send_as_peer(peer, cid, "flap sentinel")
        db_ids = [m["id"] for m in db_messages(server, cid, relogin(peer))]
        wait_until(lambda: shown_ids(page)[-1:] == db_ids[-1:], timeout=60, interval=0.3, what="the last message")
        shown = shown_ids(page)
    finally:
        sampler.stop()
    lost = len(set(db_ids) - set(shown))
    duplicated = len(shown) - len(set(shown))
    print(f"FIGURE flapping: closes={closes} closes_that_hit_a_socket={hits} messages={sent} lost={lost} "
          f"duplicated={duplicated} order_ok={shown == sorted(shown)} max_open_sockets={sampler.max_open} "
          f"samples={sampler.samples} final_state={ws_state(page)} seconds={time.time() - started:.1f}")
    assert shown == db_ids and shown == sorted(shown)
    assert lost == 0 and duplicated == 0
    assert sampler.max_open == 1
    assert hits >= closes // 2  # the closes really did hit the live socket
    assert csp_violations(page) == []


def test_flapping_short(page, server, fresh_conversation):
    run_flapping(page, server, fresh_conversation, closes=8)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_flapping_50_closes(page, server, fresh_conversation):
    run_flapping(page, server, fresh_conversation, closes=50)
