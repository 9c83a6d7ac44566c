"""Connection banner: invisible when connected, no flash on quick reconnects (AC-29..AC-31)."""

import pytest

from core.banner import (
    BANNER_TEXT,
    OutageTracker,
    banner_for,
    banner_next_wakeup,
)


class TestBannerText:
    def test_texts_are_the_specs(self):
        assert BANNER_TEXT == {
            "reconnecting": "Reconnecting...",
            "failed": "Real-time updates unavailable. Messages may be delayed.",
        }


class TestBannerFor:
    def test_connected_shows_nothing_AC29(self):
        assert banner_for("connected", None, None, 100.0) is None
        assert banner_for("connected", None, 10.0, 100.0) is None  # stale since is ignored

    @pytest.mark.parametrize("state", ["disconnected", "connecting"])
    def test_outage_shows_reconnecting_after_grace_AC30(self, state):
        assert banner_for(state, None, 10.0, 10.999) is None
        assert banner_for(state, None, 10.0, 11.0) == "reconnecting"
        assert banner_for(state, None, 10.0, 60.0) == "reconnecting"

    def test_reconnect_within_a_second_never_flashes(self):
        # down at 10.0, connecting at 10.2, connected at 10.9
        assert banner_for("disconnected", None, 10.0, 10.0) is None
        assert banner_for("connecting", None, 10.0, 10.2) is None
        assert banner_for("connected", None, None, 10.9) is None

    @pytest.mark.parametrize("state", ["disconnected", "connecting"])
    def test_no_outage_known_shows_nothing(self, state):
        # the very first connect of a freshly opened chat
        assert banner_for(state, None, None, 1000.0) is None

    def test_exhausted_retries_show_failed_at_once_AC31(self):
        assert banner_for("failed", "exhausted", 10.0, 10.0) == "failed"
        assert banner_for("failed", "exhausted", None, 10.0) == "failed"

    @pytest.mark.parametrize("reason", ["forbidden", "auth", "unsupported"])
    def test_failures_the_error_table_keeps_silent(self, reason):
        assert banner_for("failed", reason, 10.0, 99.0) is None

    def test_failed_without_a_known_reason_still_warns(self):
        assert banner_for("failed", None, None, 0.0) == "failed"
        assert banner_for("failed", "something-new", None, 0.0) == "failed"

    def test_unknown_state_shows_nothing(self):
        assert banner_for("weird", None, 0.0, 100.0) is None

    def test_custom_grace(self):
        assert banner_for("disconnected", None, 0.0, 2.9, grace=3.0) is None
        assert banner_for("disconnected", None, 0.0, 3.0, grace=3.0) == "reconnecting"


class TestBannerNextWakeup:
    def test_wakes_when_grace_ends(self):
        assert banner_next_wakeup("disconnected", None, 10.0, 10.25) == 11.0
        assert banner_next_wakeup("connecting", None, 10.0, 10.25) == 11.0

    def test_nothing_to_wait_for_once_shown(self):
        assert banner_next_wakeup("disconnected", None, 10.0, 11.0) is None

    @pytest.mark.parametrize(
        "state,reason,since",
        [("connected", None, None), ("failed", "exhausted", 10.0), ("connecting", None, None)],
    )
    def test_nothing_to_wait_for_in_other_states(self, state, reason, since):
        assert banner_next_wakeup(state, reason, since, 10.5) is None


def drive(tracker, steps):
    """Feed (time, state) pairs; return the banner after each."""
    shown = []
    for now, state, reason in steps:
        tracker.on_state(state, now)
        shown.append(banner_for(state, reason, tracker.since, now))
    return shown


class TestOutageTracker:
    def test_first_connect_of_a_fresh_chat_shows_nothing(self):
        t = OutageTracker()
        t.on_state("connecting", 0.0)
        assert t.since is None
        assert banner_for("connecting", None, t.since, 5.0) is None

    def test_server_down_on_first_connect_shows_reconnecting_then_failed(self):
        # error table: connection refused -> "Reconnecting..." then fallback
        t = OutageTracker()
        shown = drive(t, [
            (0.0, "connecting", None),
            (0.1, "disconnected", None),
            (1.1, "connecting", None),
            (1.2, "disconnected", None),
            (31.0, "failed", "exhausted"),
        ])
        assert shown == [None, None, "reconnecting", "reconnecting", "failed"]
        assert t.since == 0.1

    def test_drop_after_connected_starts_the_outage(self):
        t = OutageTracker()
        drive(t, [(0.0, "connecting", None), (0.5, "connected", None)])
        assert drive(t, [(100.0, "disconnected", None)]) == [None]
        assert t.since == 100.0
        assert banner_for("connecting", None, t.since, 101.0) == "reconnecting"

    def test_direct_reconnect_after_connected_counts_as_outage(self):
        # e.g. a 4001 close followed at once by refresh-and-reconnect
        t = OutageTracker()
        drive(t, [(0.0, "connected", None)])
        t.on_state("connecting", 50.0)
        assert t.since == 50.0
        assert banner_for("connecting", None, t.since, 50.5) is None
        assert banner_for("connecting", None, t.since, 51.0) == "reconnecting"

    def test_outage_start_is_kept_across_retries(self):
        t = OutageTracker()
        drive(t, [(0.0, "connected", None), (10.0, "disconnected", None),
                  (11.0, "connecting", None), (11.5, "disconnected", None)])
        assert t.since == 10.0

    def test_reconnected_clears_the_outage(self):
        t = OutageTracker()
        shown = drive(t, [(0.0, "connected", None), (10.0, "disconnected", None),
                          (12.0, "connecting", None), (12.3, "connected", None)])
        assert shown == [None, None, "reconnecting", None]
        assert t.since is None

    def test_reset_makes_the_next_connect_fresh_again(self):
        t = OutageTracker()
        drive(t, [(0.0, "connected", None), (10.0, "disconnected", None)])
        t.reset()
        t.on_state("connecting", 20.0)
        assert t.since is None
