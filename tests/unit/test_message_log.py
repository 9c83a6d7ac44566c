"""MessageLog: one conversation's messages in id order, deduplicated, with a change journal."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import message_log
from core.message_log import Changes, MessageLog, with_messages, with_read_from, with_read_receipt

ME = 1
TRAINEE = 2
READ_AT = "2024-01-02T10:00:00Z"


def msg(i, sender=TRAINEE, read=False, read_at=None, content=None, cid=7, image=None):
    return {
        "id": i,
        "conversation_id": cid,
        "sender": {"id": sender, "first_name": "A", "last_name": "B", "profile_image": None},
        "content": f"m{i}" if content is None else content,
        "image": image,
        "is_read": read,
        "read_at": read_at,
        "created_at": "2024-01-01T00:00:00Z",
    }


def log_of(ids, **kwargs):
    return MessageLog([msg(i) for i in ids], conversation_id=7, **kwargs)


# -- order and lookup --------------------------------------------------------------


def test_empty_log_has_no_first_or_last_id():
    log = MessageLog(conversation_id=7)
    assert len(log) == 0
    assert log.first_id is None
    assert log.last_id is None
    assert log.ids() == ()
    assert log.revision == 0
    assert log.has_more_before is False


def test_messages_are_kept_in_id_order_whatever_order_they_arrive_in():
    log = MessageLog(conversation_id=7)
    log.merge([msg(5), msg(2)])
    log.merge([msg(9)])
    log.merge([msg(7), msg(1)])
    log.merge([msg(3)])
    assert log.ids() == (1, 2, 3, 5, 7, 9)
    assert [m["id"] for m in log] == [1, 2, 3, 5, 7, 9]
    assert (log.first_id, log.last_id, len(log)) == (1, 9, 6)


def test_get_returns_the_message_or_none():
    log = log_of([1, 2])
    assert log.get(2)["content"] == "m2"
    assert log.get(3) is None
    assert 2 in log and 3 not in log


def test_id_after_names_the_next_message_for_insertion():
    log = log_of([10, 20, 30])
    assert log.id_after(10) == 20
    assert log.id_after(15) == 20
    assert log.id_after(30) is None


def test_merge_stores_a_copy_not_the_callers_dict():
    original = msg(1)
    log = MessageLog([original], conversation_id=7)
    original["content"] = "changed by caller"
    assert log.get(1)["content"] == "m1"


def test_messages_of_another_conversation_are_ignored():
    log = MessageLog(conversation_id=7)
    added, updated = log.merge([msg(1, cid=8), msg(2)])
    assert (added, updated) == ([2], [])
    assert log.ids() == (2,)


def test_has_more_before_follows_the_latest_history_page():
    log = MessageLog(conversation_id=7)
    log.merge([msg(51), msg(52)], has_more_before=True)
    assert log.has_more_before is True
    revision = log.revision
    log.merge([], has_more_before=False)
    assert log.has_more_before is False
    assert log.revision == revision + 1
    log.merge([msg(53)])  # None leaves it alone
    assert log.has_more_before is False


# -- dedup (AC-12, edge 6) --------------------------------------------------------------


def test_ac12_merge_reports_added_ids():
    log = MessageLog(conversation_id=7)
    assert log.merge([msg(1), msg(2)]) == ([1, 2], [])


def test_ac12_same_id_with_equal_content_is_a_no_op():
    log = log_of([1, 2])
    revision = log.revision
    assert log.merge([msg(2)]) == ([], [])
    assert log.ids() == (1, 2)
    assert log.revision == revision


def test_edge6_send_answer_and_socket_delivery_show_the_message_once():
    log = log_of([1])
    sent = msg(2, sender=ME)
    assert log.merge([sent]) == ([2], [])  # HTTP answer first
    assert log.merge([dict(sent)]) == ([], [])  # then the socket's copy
    assert log.ids() == (1, 2)


def test_ac12_duplicate_inside_one_batch_is_added_once():
    log = MessageLog(conversation_id=7)
    assert log.merge([msg(1), msg(1), msg(2)]) == ([1, 2], [])
    assert log.ids() == (1, 2)


def test_changed_read_state_counts_as_an_update():
    log = log_of([1, 2])
    assert log.merge([msg(2, read=True, read_at=READ_AT)]) == ([], [2])
    assert log.get(2)["is_read"] is True
    assert log.get(2)["read_at"] == READ_AT


def test_changed_read_at_alone_counts_as_an_update():
    log = MessageLog([msg(1, read=True, read_at="2024-01-01T00:00:00Z")], conversation_id=7)
    assert log.merge([msg(1, read=True, read_at=READ_AT)]) == ([], [1])
    assert log.get(1)["read_at"] == READ_AT


def test_a_stale_page_does_not_unread_a_message_already_read():
    log = log_of([1])
    log.apply_read_receipt(ME, READ_AT)
    revision = log.revision
    assert log.merge([msg(1, read=False)]) == ([], [])
    assert log.get(1)["is_read"] is True
    assert log.get(1)["read_at"] == READ_AT
    assert log.revision == revision


# -- read receipts (AC-24, AC-28) ------------------------------------------------------


def test_ac24_read_receipt_marks_every_message_not_sent_by_the_reader():
    log = MessageLog([msg(1, sender=ME), msg(2, sender=ME), msg(3, sender=TRAINEE)], conversation_id=7)
    assert log.apply_read_receipt(reader_id=TRAINEE, read_at=READ_AT) == [1, 2]
    assert [log.get(i)["is_read"] for i in (1, 2, 3)] == [True, True, False]
    assert log.get(1)["read_at"] == READ_AT


def test_ac24_already_read_messages_keep_their_read_at():
    earlier = "2024-01-01T09:00:00Z"
    log = MessageLog([msg(1, sender=ME, read=True, read_at=earlier), msg(2, sender=ME)], conversation_id=7)
    assert log.apply_read_receipt(TRAINEE, READ_AT) == [2]
    assert log.get(1)["read_at"] == earlier


def test_ac24_receipt_with_nothing_to_mark_changes_nothing():
    log = MessageLog([msg(1, sender=ME, read=True, read_at=READ_AT)], conversation_id=7)
    revision = log.revision
    assert log.apply_read_receipt(TRAINEE, READ_AT) == []
    assert log.revision == revision


def test_ac24_receipt_replaces_the_stored_dict_rather_than_mutating_it():
    log = MessageLog([msg(1, sender=ME)], conversation_id=7)
    before = log.get(1)
    log.apply_read_receipt(TRAINEE, READ_AT)
    assert before["is_read"] is False
    assert log.get(1)["is_read"] is True


def test_ac28_mark_read_from_marks_only_the_other_partys_messages():
    log = MessageLog([msg(1, sender=ME), msg(2, sender=TRAINEE), msg(3, sender=TRAINEE)], conversation_id=7)
    assert log.mark_read_from(TRAINEE, READ_AT) == [2, 3]
    assert [log.get(i)["is_read"] for i in (1, 2, 3)] == [False, True, True]
    assert log.unread_ids() == (1,)


def test_unread_ids_track_merges_and_receipts():
    log = MessageLog([msg(1, sender=ME), msg(2, read=True, read_at=READ_AT), msg(3)], conversation_id=7)
    assert log.unread_ids() == (1, 3)
    log.merge([msg(3, read=True, read_at=READ_AT)])
    assert log.unread_ids() == (1,)


# -- changes_since: what a view must render -------------------------------------------


def test_revision_grows_by_one_per_effective_change():
    log = MessageLog(conversation_id=7)
    log.merge([msg(1)])
    log.merge([msg(1)])
    log.merge([msg(2), msg(3)])
    log.apply_read_receipt(ME, READ_AT)
    assert log.revision == 3


def test_changes_since_zero_lists_everything_added():
    log = MessageLog(conversation_id=7)
    log.merge([msg(2), msg(1)])
    log.merge([msg(3)])
    assert log.changes_since(0) == Changes(revision=2, added_ids=(1, 2, 3))


def test_changes_since_current_revision_is_empty():
    log = log_of([1, 2])
    assert log.changes_since(log.revision) == Changes(revision=log.revision)


def test_ac11_appended_message_is_the_only_thing_to_render():
    log = log_of(range(1, 51))
    seen = log.revision
    log.merge([msg(51)])
    assert log.changes_since(seen) == Changes(revision=seen + 1, added_ids=(51,))


def test_ac24_receipt_shows_up_as_updated_ids():
    log = MessageLog([msg(1, sender=ME), msg(2, sender=ME)], conversation_id=7)
    seen = log.revision
    log.apply_read_receipt(TRAINEE, READ_AT)
    assert log.changes_since(seen) == Changes(revision=seen + 1, updated_ids=(1, 2))


def test_updates_to_messages_added_in_the_same_window_are_reported_as_added_only():
    log = MessageLog([msg(1, sender=ME)], conversation_id=7)
    seen = log.revision
    log.merge([msg(2, sender=ME)])
    log.apply_read_receipt(TRAINEE, READ_AT)
    assert log.changes_since(seen) == Changes(revision=seen + 2, added_ids=(2,), updated_ids=(1,))


def test_older_history_is_reported_as_prepended():
    log = log_of(range(51, 101), has_more_before=True)
    seen = log.revision
    log.merge([msg(i) for i in range(1, 51)], has_more_before=False)
    changes = log.changes_since(seen)
    assert changes.prepended is True
    assert changes.added_ids == tuple(range(1, 51))
    assert log.ids() == tuple(range(1, 101))


def test_a_gap_fill_in_the_middle_is_not_prepended():
    log = log_of([1, 2, 5])
    seen = log.revision
    log.merge([msg(3), msg(4)])
    changes = log.changes_since(seen)
    assert (changes.added_ids, changes.prepended) == ((3, 4), False)


def test_a_single_older_message_is_prepended():
    log = log_of([5, 6])
    seen = log.revision
    log.merge([msg(4)])
    assert log.changes_since(seen).prepended is True


def test_a_subscriber_too_far_behind_gets_a_reset_with_every_id():
    log = MessageLog(conversation_id=7, journal_limit=3)
    for i in range(1, 6):
        log.merge([msg(i)])
    assert log.revision == 5
    assert log.changes_since(2) == Changes(revision=5, added_ids=(3, 4, 5))  # within the journal
    assert log.changes_since(1) == Changes(revision=5, added_ids=(1, 2, 3, 4, 5), reset=True)


def test_a_revision_from_the_future_gets_a_reset():
    log = log_of([1])
    assert log.changes_since(log.revision + 1).reset is True


def test_journal_stays_bounded():
    log = MessageLog(conversation_id=7, journal_limit=4)
    for i in range(1, 1001):
        log.merge([msg(i)])
    # Four merges back are still told as changes; five back, only a reset can answer.
    assert log.changes_since(log.revision - 4) == Changes(revision=1000, added_ids=(997, 998, 999, 1000))
    assert log.changes_since(log.revision - 5).reset is True


def test_journal_limit_must_be_positive():
    with pytest.raises(ValueError):
        MessageLog(journal_limit=0)


# -- cost: appending does not grow with history ------------------------------------------

COMPARISONS = [0]


class CountedId(int):
    """An id that counts every ordering/equality comparison made with it."""

    def _count(op):
        def compare(self, other):
            COMPARISONS[0] += 1
            return getattr(int, op)(self, other)

        return compare

    __lt__ = _count("__lt__")
    __le__ = _count("__le__")
    __gt__ = _count("__gt__")
    __ge__ = _count("__ge__")
    __eq__ = _count("__eq__")
    __ne__ = _count("__ne__")
    __hash__ = int.__hash__


def comparisons_to_append_one(history):
    log = MessageLog([msg(CountedId(i)) for i in range(1, history + 1)], conversation_id=7)
    seen = log.revision
    COMPARISONS[0] = 0
    log.merge([msg(CountedId(history + 1))])
    changes = log.changes_since(seen)
    count = COMPARISONS[0]
    assert changes.added_ids == (history + 1,)
    assert log.last_id == history + 1
    return count


def test_append_to_5000_messages_costs_the_same_comparisons_as_to_50():
    small = comparisons_to_append_one(50)
    large = comparisons_to_append_one(5000)
    assert small == large
    assert large <= 2  # one "newer than the last id?" check, nothing proportional to history


def test_append_never_sorts_more_than_the_new_batch(monkeypatch):
    log = MessageLog([msg(i) for i in range(1, 5001)], conversation_id=7)
    sorted_sizes = []
    real_sorted = sorted

    def spy(iterable, **kwargs):
        items = list(iterable)
        sorted_sizes.append(len(items))
        return real_sorted(items, **kwargs)

    monkeypatch.setattr(message_log, "sorted", spy, raising=False)
    for i in range(5001, 5011):
        seen = log.revision
        log.merge([msg(i)])
        log.changes_since(seen)
    assert all(size <= 1 for size in sorted_sizes)
    assert log.ids() == tuple(range(1, 5011))


def test_read_receipt_cost_follows_unread_messages_not_history():
    log = MessageLog([msg(CountedId(i), read=True, read_at=READ_AT) for i in range(1, 5001)], conversation_id=7)
    log.merge([msg(CountedId(5001), sender=ME)])
    COMPARISONS[0] = 0
    assert log.apply_read_receipt(TRAINEE, READ_AT) == [5001]
    assert COMPARISONS[0] <= 2



# -- newest_unread: the newest unread message from anyone but me --------------------------


def brute_newest_unread(log, other_than):
    return max((i for i in log.unread_ids() if log.get(i)["sender"]["id"] != other_than), default=None)


def test_newest_unread_follows_arrivals_reads_and_receipts():
    log = MessageLog([msg(1, sender=ME), msg(2), msg(3, sender=ME)], conversation_id=7)
    assert log.newest_unread(other_than=ME) == 2
    assert log.newest_unread(other_than=TRAINEE) == 3
    log.merge([msg(4), msg(5, sender=ME)])
    assert log.newest_unread(other_than=ME) == 4
    log.mark_read_from(TRAINEE, READ_AT, up_to=2)  # the call covered 2, not 4
    assert log.newest_unread(other_than=ME) == 4
    log.merge([msg(4, read=True, read_at=READ_AT)])  # a page says 4 is read now
    assert log.newest_unread(other_than=ME) is None
    log.apply_read_receipt(TRAINEE, READ_AT)  # the trainee read mine
    assert log.newest_unread(other_than=TRAINEE) is None
    log.merge([msg(6)])
    assert log.newest_unread(other_than=ME) == 6
    assert log.newest_unread(other_than=ME) == 6  # asking changes nothing


def test_newest_unread_finds_the_next_newest_when_the_newest_is_read():
    log = MessageLog([msg(1), msg(2), msg(3)], conversation_id=7)
    log.merge([msg(3, read=True, read_at=READ_AT)])
    assert log.newest_unread(other_than=ME) == 2
    log.merge([msg(2, read=True, read_at=READ_AT), msg(1, read=True, read_at=READ_AT)])
    assert log.newest_unread(other_than=ME) is None


def test_newest_unread_ignores_another_conversation_and_counts_a_third_sender():
    log = MessageLog([msg(1), msg(2, cid=8), msg(3, sender=99)], conversation_id=7)
    assert log.newest_unread(other_than=ME) == 3
    assert log.newest_unread(other_than=99) == 1


def test_newest_unread_costs_no_walk_of_the_unread_per_arrival():
    # The open chat asks after every batch of a burst: 2,000 unread must not cost 2,000 each time.
    log = MessageLog([msg(CountedId(i)) for i in range(1, 5001)], conversation_id=7)
    assert log.newest_unread(other_than=ME) == 5000
    log.merge([msg(CountedId(5001))])
    COMPARISONS[0] = 0
    assert log.newest_unread(other_than=ME) == 5001
    assert COMPARISONS[0] <= 2


OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(1, 30), st.sampled_from([ME, TRAINEE, 3]), st.booleans()),
    st.tuples(st.just("receipt"), st.sampled_from([ME, TRAINEE]), st.none(), st.none()),
    st.tuples(st.just("read_from"), st.sampled_from([ME, TRAINEE]), st.one_of(st.none(), st.integers(1, 30)), st.none()),
), max_size=40)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_newest_unread_matches_a_walk_of_the_unread_after_any_changes(ops):
    log = MessageLog(conversation_id=7)
    for op, a, b, c in ops:
        if op == "add":
            log.merge([msg(a, sender=b, read=c, read_at=READ_AT if c else None)])
        elif op == "receipt":
            log.apply_read_receipt(a, READ_AT)
        else:
            log.mark_read_from(a, READ_AT, up_to=b)
        for me in (ME, TRAINEE, 3):
            assert log.newest_unread(other_than=me) == brute_newest_unread(log, me)


# -- cache updaters ---------------------------------------------------------------------


def test_with_messages_creates_the_log_when_absent():
    log = with_messages([msg(2), msg(1)], conversation_id=7, has_more_before=True)(None)
    assert isinstance(log, MessageLog)
    assert (log.ids(), log.conversation_id, log.has_more_before) == ((1, 2), 7, True)


def test_with_messages_merges_into_the_same_log_object():
    log = log_of([1])
    assert with_messages([msg(2)])(log) is log
    assert log.ids() == (1, 2)


def test_read_updaters_leave_a_missing_log_missing_and_edit_an_existing_one():
    assert with_read_receipt(TRAINEE, READ_AT)(None) is None
    assert with_read_from(TRAINEE, READ_AT)(None) is None
    log = MessageLog([msg(1, sender=ME), msg(2, sender=TRAINEE)], conversation_id=7)
    assert with_read_receipt(TRAINEE, READ_AT)(log) is log
    assert log.unread_ids() == (2,)
    with_read_from(TRAINEE, READ_AT)(log)
    assert log.unread_ids() == ()


# -- property: a view replaying changes always matches the log ---------------------------


class View:
    """What a chat view does: render added ids in place, update updated ones."""

    def __init__(self):
        self.revision = 0
        self.order = []
        self.read = {}

    def catch_up(self, log):
        changes = log.changes_since(self.revision)
        if changes.reset:
            self.order, self.read = [], {}
        for message_id in reversed(changes.added_ids):
            assert message_id not in self.read
            after = log.id_after(message_id)
            at = len(self.order) if after is None else self.order.index(after)
            self.order.insert(at, message_id)
            self.read[message_id] = log.get(message_id)["is_read"]
        for message_id in changes.updated_ids:
            assert message_id in self.read
            self.read[message_id] = log.get(message_id)["is_read"]
        self.revision = changes.revision


operation = st.one_of(
    st.tuples(st.just("merge"), st.lists(st.tuples(st.integers(1, 40), st.booleans()), max_size=6)),
    st.tuples(st.just("receipt"), st.sampled_from([ME, TRAINEE])),
)


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(operation, max_size=25),
    journal_limit=st.integers(1, 6),
    view_every=st.integers(1, 4),
)
def test_a_view_replaying_changes_since_always_matches_the_log(ops, journal_limit, view_every):
    log = MessageLog(conversation_id=7, journal_limit=journal_limit)
    view = View()
    all_ids = set()
    for step, (kind, arg) in enumerate(ops):
        if kind == "merge":
            log.merge([msg(i, sender=ME if i % 2 else TRAINEE, read=r, read_at=READ_AT if r else None) for i, r in arg])
            all_ids.update(i for i, _ in arg)
        else:
            log.apply_read_receipt(arg, READ_AT)
        if step % view_every == 0:
            view.catch_up(log)
    view.catch_up(log)
    assert log.ids() == tuple(sorted(all_ids))
    assert view.order == list(log.ids())
    assert view.read == {i: log.get(i)["is_read"] for i in log.ids()}
