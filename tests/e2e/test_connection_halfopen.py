"""A half-open link. A TCP proxy between page and server stops forwarding
without closing anything; the page's heartbeat notices within 35 s (AC-7: ping every 30 s,
no pong within 5 s), it reconnects once the link works again, and a gap fill brings the
message the other party sent during the stall, exactly once.

The fast form runs the page's clock forward (page.clock); the slow form waits in real time.
"""

import time

import pytest

from e2e_harness import open_conversation
from reliability_support import (TcpProxy, arm, csp_violations, db_messages, login, shown_ids, wait_until,
                                 ws_state)


def run_half_open(page, server, fresh_conversation, fake_clock):
    conv, peer = fresh_conversation(messages=3)
    cid = conv["id"]
    proxy = TcpProxy(server.port)
    try:
        arm(page)
        if fake_clock:
            page.clock.install()
        login(page, proxy.origin)  # page, REST and socket all go through the proxy
        open_conversation(page, cid)
        assert server.open_sockets(cid) == 1

        proxy.stall()
        text = "sent during the stall " + str(time.time())
        peer.send(cid, text)
        if fake_clock:
            start = page.evaluate("Date.now()")
            page.clock.pause_at((start + 100) / 1000)  # seconds in the Python API
            detected = None
            for second in range(1, 41):
                # The ping, the pong deadline and the verdict are timers: they run inside run_for.
                page.clock.run_for(1000)
                if ws_state(page) != "connected":
                    detected = second
                    break
            page.clock.resume()
        else:
            start = time.time()
            wait_until(lambda: ws_state(page) != "connected", timeout=60, interval=0.2, what="dead link noticed")
            detected = time.time() - start
        assert detected is not None and detected <= 35.5, detected
        assert page.locator("[data-testid=message]", has_text=text).count() == 0  # it really was stalled

        proxy.heal()
        healed = time.time()
        page.wait_for_selector(f"[data-testid=chat-view][data-conversation-id='{cid}'][data-ws-state=connected]",
                               timeout=45_000)
        page.locator("[data-testid=message]", has_text=text).wait_for(timeout=30_000)
        reconnect = time.time() - healed
        db_ids = [m["id"] for m in db_messages(server, cid, peer.access)]
        wait_until(lambda: shown_ids(page) == db_ids, timeout=20, what="page ids == db ids")
        copies = page.locator("[data-testid=message]", has_text=text).count()
        print(f"FIGURE half_open: detected_after_s={detected:.1f} reconnect_and_fill_s={reconnect:.1f} "
              f"gap_message_copies={copies} fake_clock={fake_clock} swallowed_bytes={proxy.swallowed_bytes}")
        assert copies == 1
        wait_until(lambda: server.open_sockets(cid) == 1, timeout=20, what="one open socket")
        assert csp_violations(page) == []
    finally:
        proxy.close()


def test_half_open_link_noticed_by_heartbeat_reconnects_and_fills_gap(page, server, fresh_conversation):
    run_half_open(page, server, fresh_conversation, fake_clock=True)


@pytest.mark.slow
def test_half_open_link_in_real_time(page, server, fresh_conversation):
    run_half_open(page, server, fresh_conversation, fake_clock=False)
