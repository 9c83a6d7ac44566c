"""Scroll rules: follow new content only near the bottom (AC-14, AC-23, edge 8)."""

import pytest

from core.scroll_rules import (
    LOAD_OLDER_PX,
    NEAR_BOTTOM_PX,
    NewMessagesCounter,
    is_near_bottom,
    scroll_top_after_prepend,
    should_follow,
    should_load_older,
)


class TestNearBottom:
    def test_threshold_is_120px(self):
        assert NEAR_BOTTOM_PX == 120

    @pytest.mark.parametrize(
        "scroll_top,expected",
        [
            (1500, True),  # exactly at the bottom: 2000 - 500 - 1500 = 0
            (1380, True),  # 120 px below the viewport: still near
            (1379.5, False),  # 120.5 px: not near
            (1000, False),
            (0, False),
        ],
    )
    def test_distance_to_bottom_against_threshold(self, scroll_top, expected):
        assert is_near_bottom(scroll_top, 500, 2000) is expected

    def test_short_content_counts_as_bottom(self):
        assert is_near_bottom(0, 800, 300) is True

    def test_custom_threshold(self):
        assert is_near_bottom(1450, 500, 2000, threshold=40) is False
        assert is_near_bottom(1460, 500, 2000, threshold=40) is True


class TestFollowAC14AC23:
    def test_follows_when_reader_was_near_bottom_AC14(self):
        assert should_follow(near_bottom=True) is True

    def test_does_not_force_scroll_a_reader_up_in_history_edge8(self):
        assert should_follow(near_bottom=False) is False

    def test_own_send_always_follows(self):
        assert should_follow(near_bottom=False, own=True) is True


class TestPrependKeepsViewStill:
    def test_shift_by_added_height(self):
        # 30 px from the top, 800 px of older messages inserted above
        assert scroll_top_after_prepend(30, 2000, 2800) == 830

    def test_nothing_added_changes_nothing(self):
        assert scroll_top_after_prepend(30, 2000, 2000) == 30

    def test_never_negative(self):
        assert scroll_top_after_prepend(10, 2000, 1900) == 0


class TestLoadOlder:
    def test_near_top_loads(self):
        assert LOAD_OLDER_PX == 200
        assert should_load_older(200) is True
        assert should_load_older(0) is True

    def test_far_from_top_does_not_load(self):
        assert should_load_older(201) is False

    def test_not_while_loading(self):
        assert should_load_older(0, loading=True) is False

    def test_not_when_history_is_exhausted(self):
        assert should_load_older(0, has_more=False) is False

    def test_custom_threshold(self):
        assert should_load_older(350, threshold=400) is True


class TestNewMessagesCounterEdge8:
    def test_counts_arrivals_while_scrolled_up(self):
        c = NewMessagesCounter()
        assert c.on_message(own=False, near_bottom=False) is True
        assert c.on_message(own=False, near_bottom=False) is True
        assert c.count == 2
        assert c.label() == "2 new messages"

    def test_singular_label(self):
        c = NewMessagesCounter()
        c.on_message(own=False, near_bottom=False)
        assert c.label() == "1 new message"

    def test_arrivals_at_the_bottom_are_not_counted(self):
        c = NewMessagesCounter()
        assert c.on_message(own=False, near_bottom=True) is False
        assert c.count == 0
        assert c.label() == ""

    def test_reaching_bottom_resets(self):
        c = NewMessagesCounter()
        c.on_message(own=False, near_bottom=False)
        assert c.on_scroll(near_bottom=False) is False
        assert c.count == 1
        assert c.on_scroll(near_bottom=True) is True
        assert c.count == 0
        assert c.on_scroll(near_bottom=True) is False

    def test_own_message_follows_to_bottom_and_clears(self):
        c = NewMessagesCounter()
        c.on_message(own=False, near_bottom=False)
        assert c.on_message(own=True, near_bottom=False) is True
        assert c.count == 0

    def test_reset(self):
        c = NewMessagesCounter()
        c.on_message(own=False, near_bottom=False)
        assert c.reset() is True
        assert c.reset() is False


# ----- the unread line (issue 14) ---------------------------------------------------------

from core.scroll_rules import UNREAD_LINE_MARGIN_PX, scroll_top_for_unread_line  # noqa: E402


def test_an_unread_line_on_screen_at_the_bottom_keeps_the_usual_bottom():
    # content 2000 px, view 600 px: the bottom view starts at 1400
    assert scroll_top_for_unread_line(1400, 600, 2000) is None
    assert scroll_top_for_unread_line(1900, 600, 2000) is None


def test_an_unread_line_above_the_bottom_view_is_brought_near_the_top():
    assert scroll_top_for_unread_line(1399, 600, 2000) == 1399 - UNREAD_LINE_MARGIN_PX
    assert scroll_top_for_unread_line(500, 600, 2000, margin=40) == 460


def test_an_unread_line_at_the_very_top_scrolls_to_zero_not_below():
    assert scroll_top_for_unread_line(10, 600, 2000) == 0


def test_short_content_never_scrolls_for_the_line():
    assert scroll_top_for_unread_line(0, 600, 300) is None
