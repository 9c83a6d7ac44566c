"""The query cache: single source of truth with batched notification (SPEC decision 2)."""
import pytest

from core.message_log import MessageLog, with_messages, with_read_receipt
from query_cache import (
    CONVERSATIONS_KEY,
    ME_KEY,
    UNREAD_COUNT_KEY,
    QueryCache,
    messages_key,
)


def msg(i, sender=2, read=False, cid=7):
    return {
        "id": i,
        "conversation_id": cid,
        "sender": {"id": sender, "first_name": "A", "last_name": "B", "profile_image": None},
        "content": f"m{i}",
        "image": None,
        "is_read": read,
        "read_at": None,
        "created_at": f"2024-01-01T00:00:{i % 60:02d}Z",
    }


class Clock:
    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture
def cache():
    return QueryCache(clock=Clock())


def recorder(cache, key=None):
    calls = []
    cache.subscribe(calls.append, key)
    return calls


# -- keys and values -------------------------------------------------------------


def test_key_helpers_give_the_documented_tuples():
    assert CONVERSATIONS_KEY == ("conversations",)
    assert UNREAD_COUNT_KEY == ("unread_count",)
    assert ME_KEY == ("me",)
    assert messages_key(7) == ("messages", 7)


def test_missing_key_reads_as_none(cache):
    assert cache.get_query_data(ME_KEY) is None
    assert cache.updated_at(ME_KEY) is None
    assert cache.has_query(ME_KEY) is False


def test_set_value_then_get_it_back(cache):
    cache.set_query_data(UNREAD_COUNT_KEY, 3)
    assert cache.get_query_data(UNREAD_COUNT_KEY) == 3
    assert cache.has_query(UNREAD_COUNT_KEY) is True


def test_updater_receives_old_value_and_its_result_is_stored(cache):
    cache.set_query_data(UNREAD_COUNT_KEY, 3)
    returned = cache.set_query_data(UNREAD_COUNT_KEY, lambda old: old + 2)
    assert returned == 5
    assert cache.get_query_data(UNREAD_COUNT_KEY) == 5


def test_updater_receives_none_when_key_absent(cache):
    seen = []
    cache.set_query_data(UNREAD_COUNT_KEY, lambda old: seen.append(old) or 1)
    assert seen == [None]
    assert cache.get_query_data(UNREAD_COUNT_KEY) == 1


def test_a_string_key_is_refused():
    with pytest.raises(TypeError):
        QueryCache().set_query_data("conversations", [])
    with pytest.raises(TypeError):
        QueryCache().get_query_data(())


def test_updated_at_comes_from_the_injected_clock_or_now_argument():
    clock = Clock(10.0)
    cache = QueryCache(clock=clock)
    cache.set_query_data(ME_KEY, {"id": 1})
    assert cache.updated_at(ME_KEY) == 10.0
    clock.t = 20.0
    cache.set_query_data(ME_KEY, {"id": 1})  # equal value: still fresh
    assert cache.updated_at(ME_KEY) == 20.0
    cache.set_query_data(ME_KEY, {"id": 1}, now=33.5)
    assert cache.updated_at(ME_KEY) == 33.5


def test_updated_at_is_per_key(cache):
    cache.set_query_data(ME_KEY, {"id": 1}, now=1.0)
    cache.set_query_data(UNREAD_COUNT_KEY, 0, now=2.0)
    assert cache.updated_at(ME_KEY) == 1.0
    assert cache.updated_at(UNREAD_COUNT_KEY) == 2.0


# -- notification ------------------------------------------------------------------


def test_listener_hears_a_change_immediately_outside_a_batch(cache):
    calls = recorder(cache)
    cache.set_query_data(UNREAD_COUNT_KEY, 1)
    assert calls == [UNREAD_COUNT_KEY]


def test_key_listener_hears_only_its_key(cache):
    calls = recorder(cache, messages_key(7))
    cache.set_query_data(messages_key(8), 1)
    cache.set_query_data(UNREAD_COUNT_KEY, 1)
    cache.set_query_data(messages_key(7), 1)
    assert calls == [messages_key(7)]


def test_equal_value_notifies_nobody(cache):
    cache.set_query_data(CONVERSATIONS_KEY, [{"id": 1, "unread_count": 0}])
    calls = recorder(cache)
    cache.set_query_data(CONVERSATIONS_KEY, [{"id": 1, "unread_count": 0}])
    cache.set_query_data(CONVERSATIONS_KEY, lambda old: old)
    assert calls == []
    cache.set_query_data(CONVERSATIONS_KEY, [{"id": 1, "unread_count": 1}])
    assert calls == [CONVERSATIONS_KEY]


def test_unsubscribe_stops_notifications_and_is_idempotent(cache):
    calls = []
    unsubscribe = cache.subscribe(calls.append)
    cache.set_query_data(UNREAD_COUNT_KEY, 1)
    unsubscribe()
    unsubscribe()
    cache.set_query_data(UNREAD_COUNT_KEY, 2)
    assert calls == [UNREAD_COUNT_KEY]


def test_listener_unsubscribed_by_an_earlier_listener_is_not_called(cache):
    calls = []
    holder = {}
    cache.subscribe(lambda key: holder["second"]())
    holder["second"] = cache.subscribe(lambda key: calls.append("second"))
    cache.set_query_data(UNREAD_COUNT_KEY, 1)
    assert calls == []


def test_batch_notifies_once_per_changed_key_at_the_end(cache):
    calls = recorder(cache)
    with cache.batch():
        cache.set_query_data(UNREAD_COUNT_KEY, 1)
        cache.set_query_data(CONVERSATIONS_KEY, [])
        cache.set_query_data(UNREAD_COUNT_KEY, 2)
        assert calls == []
    assert calls == [UNREAD_COUNT_KEY, CONVERSATIONS_KEY]


def test_nested_batches_notify_only_at_the_end_of_the_outermost(cache):
    calls = recorder(cache)
    with cache.batch():
        with cache.batch():
            cache.set_query_data(UNREAD_COUNT_KEY, 1)
        assert calls == []
        cache.set_query_data(UNREAD_COUNT_KEY, 2)
    assert calls == [UNREAD_COUNT_KEY]


def test_batch_with_no_real_change_notifies_nobody(cache):
    cache.set_query_data(UNREAD_COUNT_KEY, 1)
    calls = recorder(cache)
    with cache.batch():
        cache.set_query_data(UNREAD_COUNT_KEY, 1)
    assert calls == []


def test_batch_still_notifies_changes_made_before_an_error(cache):
    calls = recorder(cache)
    with pytest.raises(RuntimeError):
        with cache.batch():
            cache.set_query_data(UNREAD_COUNT_KEY, 1)
            raise RuntimeError("boom")
    assert calls == [UNREAD_COUNT_KEY]


def test_a_failing_listener_does_not_starve_the_others(cache):
    calls = []

    def broken(key):
        raise ValueError("view bug")

    cache.subscribe(broken)
    cache.subscribe(calls.append)
    with pytest.raises(ValueError):
        cache.set_query_data(UNREAD_COUNT_KEY, 1)
    assert calls == [UNREAD_COUNT_KEY]
    assert cache.get_query_data(UNREAD_COUNT_KEY) == 1


# -- removal -------------------------------------------------------------------------


def test_remove_query_forgets_the_value_and_notifies(cache):
    cache.set_query_data(messages_key(7), 1)
    calls = recorder(cache)
    cache.remove_query(messages_key(7))
    cache.remove_query(messages_key(7))  # absent: silent
    assert calls == [messages_key(7)]
    assert cache.get_query_data(messages_key(7)) is None
    assert cache.updated_at(messages_key(7)) is None


def test_clear_forgets_everything_notifies_each_key_once_and_keeps_subscribers(cache):
    cache.set_query_data(ME_KEY, {"id": 1})
    cache.set_query_data(UNREAD_COUNT_KEY, 4)
    calls = recorder(cache)
    cache.clear()
    assert sorted(calls) == sorted([ME_KEY, UNREAD_COUNT_KEY])
    assert cache.keys() == []
    cache.set_query_data(ME_KEY, {"id": 2})
    assert calls[-1] == ME_KEY


def test_none_written_to_an_absent_key_leaves_it_absent(cache):
    calls = recorder(cache)
    cache.set_query_data(messages_key(7), with_read_receipt(1, "2024-01-01T00:00:00Z"))
    assert cache.has_query(messages_key(7)) is False
    assert calls == []


# -- mutable values (MessageLog) -------------------------------------------------------


def test_in_place_change_of_a_log_is_noticed_through_its_revision(cache):
    key = messages_key(7)
    cache.set_query_data(key, with_messages([msg(1)], conversation_id=7))
    calls = recorder(cache, key)
    cache.set_query_data(key, with_messages([msg(2)]))
    assert calls == [key]
    assert cache.get_query_data(key).ids() == (1, 2)


def test_ac12_redelivered_message_does_not_notify(cache):
    key = messages_key(7)
    cache.set_query_data(key, with_messages([msg(1)], conversation_id=7))
    calls = recorder(cache, key)
    cache.set_query_data(key, with_messages([msg(1)]))
    assert calls == []


def test_ac24_read_receipt_through_the_cache_notifies_the_log_key(cache):
    key = messages_key(7)
    cache.set_query_data(key, with_messages([msg(1, sender=2), msg(2, sender=1)], conversation_id=7))
    calls = recorder(cache, key)
    cache.set_query_data(key, with_read_receipt(reader_id=1, read_at="2024-01-02T00:00:00Z"))
    assert calls == [key]
    log = cache.get_query_data(key)
    assert log.get(1)["is_read"] is True
    assert log.get(2)["is_read"] is False


def test_a_replaced_log_object_counts_as_a_change(cache):
    key = messages_key(7)
    cache.set_query_data(key, MessageLog([msg(1)]))
    calls = recorder(cache, key)
    cache.set_query_data(key, MessageLog([msg(1)]))
    assert calls == [key]
