"""Catching up (core/catch_up.py) at its limits: a fill of more than MAX_GAP_PAGES pages stops
at exactly that many, a fill with nothing synced yet asks the default page, and a poll that
finds a gap while a fill runs makes that fill go round once more and frees the poll."""
from core.catch_up import GAP_PAGE_SIZE, MAX_GAP_PAGES, PAGE_SIZE, CatchUp
from core.chat_effects import FetchPage, Purpose
from core.conversation_states import Gap, Poll


def page(first_id, count=3):
    return [{"id": i} for i in range(first_id, first_id + count)]


def test_a_fill_with_nothing_synced_asks_the_default_page_with_no_after():
    assert CatchUp().ask_fill() == [FetchPage(Purpose.GAP, PAGE_SIZE)]


def test_a_fill_with_more_always_to_come_stops_after_exactly_max_gap_pages():
    sync = CatchUp()
    sync.note_synced([10])
    asked = sync.ask_fill()
    last = 10
    while asked:
        assert len(asked) == 1
        last += 3
        asked = sync.gap_page(page(last - 2), has_more=True)
        if asked:
            assert asked == [FetchPage(Purpose.GAP, GAP_PAGE_SIZE, after=last)]
    fetched_pages = (last - 10) // 3
    assert fetched_pages == MAX_GAP_PAGES
    assert sync.gap is Gap.SYNCED and sync.synced_id == last


def test_a_second_fill_counts_its_pages_from_one_again():
    sync = CatchUp()
    sync.note_synced([10])
    sync.ask_fill()
    sync.gap_page(page(11), has_more=False)
    pages = 1 if sync.ask_fill() else 0
    while sync.gap_page(page(100 + pages * 3), has_more=True):
        pages += 1
    assert pages == MAX_GAP_PAGES


def test_a_poll_that_finds_a_gap_during_a_fill_queues_one_more_round_and_is_answered():
    sync = CatchUp()
    sync.note_synced([10])
    sync.ask_fill()
    assert sync.poll() == [FetchPage(Purpose.POLL, PAGE_SIZE)]
    assert sync.poll_page(page(50)) == []
    assert sync.gap is Gap.FILLING_QUEUED and sync.poll_state is Poll.IDLE
    assert sync.poll() == [FetchPage(Purpose.POLL, PAGE_SIZE)]  # the next poll may go
    # The running fill's last page: the queued round starts from what is now held.
    assert sync.gap_page(page(11), has_more=False) == [FetchPage(Purpose.GAP, GAP_PAGE_SIZE, after=13)]
    assert sync.gap is Gap.FILLING
