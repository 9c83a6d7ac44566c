"""Catching up (edge 7, AC-9): the gap fill, the poll, and the point up to which all is held.

`synced_id` is the newest id up to which EVERY message is held. A send's own answer or a poll
can bring a newer id while the other party's messages in between were missed, so a fill asks
`after=synced_id`, never after the log's last id. Exactly one fill runs at a time; one asked
for meanwhile makes it go round once more (Gap.FILLING_QUEUED). Live socket messages move
`synced_id` only while nothing is known missing (Gap.SYNCED). A poll whose newest page does not
reach back to `synced_id` starts a fill, and stays busy until that fill ends.

The conversation merges each page into the log itself and then asks here what to fetch next:

    sync = CatchUp()
    sync.ask_fill()                     # the machine's GapFill -> [FetchPage(GAP, 200, after=...)]
    sync.gap_page(messages, has_more)   # -> the next page, a fill round once more, or []
    sync.poll(); sync.poll_page(messages)
    sync.fetch_failed(Purpose.GAP)      # the gap stays MISSED: the next link or poll fills
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from core.chat_effects import FetchPage, Purpose
from core.conversation_states import Gap, Poll, move

PAGE_SIZE = 50  # CONTRACT: the default page
GAP_PAGE_SIZE = 200  # CONTRACT: the largest page, for catching up
MAX_GAP_PAGES = 50  # a fill stops after this many pages (10,000 messages)

_FILLING = (Gap.FILLING, Gap.FILLING_QUEUED)


class CatchUp:
    """The gap fill and the poll of one open conversation; see the module docstring."""

    def __init__(self) -> None:
        self.synced_id: Optional[int] = None
        self.gap = Gap.SYNCED
        self.poll_state = Poll.IDLE
        self._after: Optional[int] = None  # the newest id the running fill has brought
        self._pages = 0

    @property
    def filling(self) -> bool:
        return self.gap in _FILLING

    @property
    def live_complete(self) -> bool:
        """Live messages may move synced_id: the link has been up since the last completed fill."""
        return self.gap is Gap.SYNCED

    def note_synced(self, ids: List[int]) -> None:
        if ids:
            top = max(ids)
            if self.synced_id is None or top > self.synced_id:
                self.synced_id = top

    def ask_fill(self) -> List[FetchPage]:
        """A fill is wanted (the link is back, or a poll found a gap): start one, or queue one."""
        was_filling = self.filling
        self.gap = move(self.gap, "fill")
        return [] if was_filling else [self._first_fetch()]

    def gap_page(self, messages: List[Dict[str, Any]], has_more: bool) -> List[FetchPage]:
        """A fill's page, merged: the next page, a queued fill's first, or nothing (done)."""
        if messages:
            self._after = max(m["id"] for m in messages)
        if has_more and messages and self.synced_id is not None and self._pages < MAX_GAP_PAGES:
            return [self._fetch()]
        if self._after is not None:
            self.note_synced([self._after])
        self.gap = move(self.gap, "filled")
        if self.gap is Gap.FILLING:  # one was asked for meanwhile: round once more
            return [self._first_fetch()]
        self._fill_ended()
        return []

    def poll(self) -> List[FetchPage]:
        """AC-9/AC-13: the newest page, one poll at a time."""
        if self.poll_state is not Poll.IDLE:
            return []
        self.poll_state = move(self.poll_state, "poll")
        return [FetchPage(Purpose.POLL, PAGE_SIZE)]

    def poll_page(self, messages: List[Dict[str, Any]]) -> List[FetchPage]:
        """A poll's page, merged: it reaches back to synced_id, or more than a page was missed."""
        if messages and self.synced_id is not None and messages[0]["id"] > self.synced_id:
            if self.filling:
                self.gap = move(self.gap, "fill")  # the running fill goes round once more
                self.poll_state = move(self.poll_state, "answered")
                return []
            self.poll_state = move(self.poll_state, "gap_found")
            return self.ask_fill()  # fill from the last complete point
        if messages:
            self.note_synced([m["id"] for m in messages])  # the page reaches back to what we had
        self.poll_state = move(self.poll_state, "answered")
        return []

    def fetch_failed(self, purpose: Purpose) -> None:
        if purpose is Purpose.GAP:
            self.gap = move(self.gap, "fill_failed")
            self._fill_ended()
        elif purpose is Purpose.POLL:
            self.poll_state = move(self.poll_state, "failed")

    def _fill_ended(self) -> None:
        if self.poll_state is Poll.AWAITING_FILL:
            self.poll_state = move(self.poll_state, "fill_ended")  # the poll that started it is done

    def _first_fetch(self) -> FetchPage:
        self._pages = 0
        self._after = self.synced_id
        return self._fetch()

    def _fetch(self) -> FetchPage:
        self._pages += 1
        if self._after is None:
            return FetchPage(Purpose.GAP, PAGE_SIZE)
        return FetchPage(Purpose.GAP, GAP_PAGE_SIZE, after=self._after)
