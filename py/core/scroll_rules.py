"""Scroll rules for the message list (AC-14, AC-23, edge case 8).

Pure functions of the numbers the DOM gives (``scrollTop``, ``clientHeight``,
``scrollHeight``), so each rule is tested without a browser.

The adapter measures "near the bottom" BEFORE it inserts a new message or
shows/hides the typing indicator, then follows to the bottom only if
``should_follow(...)`` says so; otherwise the counter below feeds the
scroll-to-bottom button.
"""

from __future__ import annotations

NEAR_BOTTOM_PX = 120
LOAD_OLDER_PX = 200


def is_near_bottom(
    scroll_top: float, client_height: float, scroll_height: float, threshold: float = NEAR_BOTTOM_PX
) -> bool:
    """True when at most ``threshold`` px of content lie below the viewport.

    Content shorter than the viewport counts as at the bottom.
    """
    distance = scroll_height - client_height - scroll_top
    return distance <= threshold


def should_follow(near_bottom: bool, own: bool = False) -> bool:
    """Scroll to the bottom after new content? (AC-14, AC-23, edge 8)

    Yes if the reader was already near the bottom, or the message is the
    user's own send; never yank a reader who scrolled up into history.
    """
    return near_bottom or own


def scroll_top_after_prepend(
    old_scroll_top: float, old_scroll_height: float, new_scroll_height: float
) -> float:
    """``scrollTop`` that keeps the same messages on screen after older ones
    were inserted above them: shift by exactly the height that was added."""
    return max(0, old_scroll_top + (new_scroll_height - old_scroll_height))


UNREAD_LINE_MARGIN_PX = 48


def scroll_top_for_unread_line(
    line_top: float, client_height: float, scroll_height: float, margin: float = UNREAD_LINE_MARGIN_PX
) -> float | None:
    """Where a conversation opened with a "New messages" line at ``line_top`` (px from the
    top of the content) starts: None (at the bottom, as usual) when the line is on screen
    there; else with the line ``margin`` px below the top of the view (issue 14)."""
    bottom_view_top = max(0.0, scroll_height - client_height)
    if line_top >= bottom_view_top:
        return None
    return max(0.0, line_top - margin)


def should_load_older(
    scroll_top: float, threshold: float = LOAD_OLDER_PX, loading: bool = False, has_more: bool = True
) -> bool:
    """Fetch the previous page? When near the top, not already fetching, and
    the server said there is more (``has_more``)."""
    return has_more and not loading and scroll_top <= threshold


class NewMessagesCounter:
    """Messages that arrived while the reader was away from the bottom (edge 8).

        counter = NewMessagesCounter()
        counter.on_message(own=False, near_bottom=False)  -> True (count == 1)
        counter.on_scroll(near_bottom=True)               -> True (count == 0)

    Methods return True when ``count`` changed, so the adapter re-renders the
    button's label only then.
    """

    def __init__(self) -> None:
        self.count = 0

    def on_message(self, own: bool, near_bottom: bool) -> bool:
        """A new message was appended; count it if the reader will not see it."""
        if should_follow(near_bottom, own):
            return self.reset()
        self.count += 1
        return True

    def on_scroll(self, near_bottom: bool) -> bool:
        """The reader scrolled; reaching the bottom means they saw everything."""
        if near_bottom:
            return self.reset()
        return False

    def reset(self) -> bool:
        """Back to zero (bottom reached, conversation switched)."""
        changed = self.count != 0
        self.count = 0
        return changed

    def label(self) -> str:
        """Text for the button: "" (no count), "1 new message", "3 new messages"."""
        if self.count == 0:
            return ""
        if self.count == 1:
            return "1 new message"
        return f"{self.count} new messages"
