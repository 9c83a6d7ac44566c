"""Marking the open chat read (core/mark_read.py) counts and waits only on the other party's
messages, never our own; without an observer the visible chat counts as seen; a call's answer
is reported even when a trailing call starts with it; `note_seen` moves only forwards."""
from core.chat_effects import ConversationRead, PostMarkRead
from core.mark_read import MarkRead
from core.message_log import with_messages
from core.query_cache import QueryCache

ME, OTHER, CID = 1, 2, 9
KEY = ("messages", CID)
T0 = 1_700_000_000.0


def message(mid, sender):
    return {"id": mid, "conversation_id": CID, "content": "hi", "image": None, "is_read": False,
            "read_at": None, "created_at": "2024-01-01T10:00:00Z",
            "sender": {"id": sender, "first_name": "A", "last_name": "B", "profile_image": None}}


def chat(*messages, **options):
    cache = QueryCache()
    cache.set_query_data(KEY, with_messages(list(messages), conversation_id=CID))
    return cache, MarkRead(cache, KEY, CID, ME, OTHER, **options)


def arrive(cache, *messages):
    cache.set_query_data(KEY, with_messages(list(messages)))


def test_without_an_observer_the_visible_chat_counts_as_seen():
    _, reads = chat(message(1, OTHER))
    assert reads.want(T0) == [PostMarkRead(1)]


def test_only_our_own_unread_messages_are_nothing_to_mark_read():
    _, reads = chat(message(1, ME), message(2, ME))
    assert not reads.unread_from_other()
    _, theirs = chat(message(1, ME), message(2, OTHER))
    assert theirs.unread_from_other()


def test_our_own_newer_message_does_not_wait_to_be_seen():
    _, reads = chat(message(1, OTHER), message(2, ME), read_when_seen=True)
    assert reads.note_seen((1,))
    assert reads.want(T0) == [PostMarkRead(2)]


def test_what_arrived_during_the_call_is_counted_theirs_only():
    cache, reads = chat(message(1, OTHER))
    assert reads.want(T0) == [PostMarkRead(1)]
    arrive(cache, message(2, OTHER), message(3, ME))
    assert reads.done(True, T0 + 0.1) == [ConversationRead(CID, 1)]


def test_the_answer_is_reported_when_a_trailing_call_starts_with_it():
    cache, reads = chat(message(1, OTHER))
    reads.want(T0)
    arrive(cache, message(2, OTHER))
    assert reads.want(T0 + 0.1) == []  # one call in flight: this one trails
    assert reads.done(True, T0 + 5) == [ConversationRead(CID, 1), PostMarkRead(2)]


def test_seen_moves_only_forwards():
    _, reads = chat(message(5, OTHER), read_when_seen=True)
    assert not reads.note_seen(())
    assert reads.note_seen((4, 5))
    assert (reads.note_seen((5,)), reads.note_seen((3,))) == (False, False)
    assert reads.seen_up_to == 5
    assert reads.note_seen((6,)) and reads.seen_up_to == 6
