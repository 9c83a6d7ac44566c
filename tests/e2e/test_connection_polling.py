"""AC-9, AC-13, AC-26, AC-27 over five simulated minutes in each state (slow form).

The short forms are in test_connection_heartbeat.py (3 minutes connected) and
test_connection_auth.py (2 minutes failed after 4003). Counting is exact: the clock moves
in 1 s steps aligned on the window's start, each interval divides the 300 s window, and a
poll's fetch is stamped inside the step in which its timer fired; so a window (t, t+300]
holds exactly 300/interval polls of each kind, whatever their phase.
"""

import pytest

from realtime_support import (advance, banner_state, fake_now, fetch_times, open_clocked_chat, wait_closed,
                              wait_state_is, ws_log, ws_state)

KINDS = ("messages", "conversations", "unread", "gapfill")


def counts(page, cid, since, until):
    return {kind: len(fetch_times(page, cid, kind, since=since, until=until)) for kind in KINDS}


@pytest.mark.slow
def test_ac9_ac13_ac26_ac27_five_simulated_minutes_connected_then_failed_exact_request_counts(
        page, server, fresh_conversation):
    cid, _peer = open_clocked_chat(page, server, fresh_conversation, messages=2)
    t0 = fake_now(page)
    advance(page, 300_000, step=1000)
    assert ws_state(page) == "connected" and len(ws_log(page)) == 1
    assert counts(page, cid, t0, t0 + 300_000) == {"messages": 0, "conversations": 5, "unread": 5, "gapfill": 0}

    server.fault("close", conversation_id=cid, code=4003)  # failed for good: no retries
    assert wait_closed(page, 0)["code"] == 4003
    wait_state_is(page, "failed")
    advance(page, 1000)
    t1 = fake_now(page)
    advance(page, 300_000, step=1000)
    assert counts(page, cid, t1, t1 + 300_000) == {"messages": 60, "conversations": 20, "unread": 10, "gapfill": 0}
    for kind, interval in (("messages", 5000), ("conversations", 15_000), ("unread", 30_000)):
        times = fetch_times(page, cid, kind, since=t1, until=t1 + 300_000)
        assert all(interval - 1000 <= b - a <= interval + 1000 for a, b in zip(times, times[1:])), (kind, times)
    assert len(ws_log(page)) == 1 and banner_state(page) is None
