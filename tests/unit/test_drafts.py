"""Drafts per user and conversation (issue 14 point 1)."""

import pytest

from core.drafts import MAX_DRAFT_CHARS, PREFIX, Drafts, draft_key


class DictStorage:
    def __init__(self):
        self.data = {}

    def get_item(self, key):
        return self.data.get(key)

    def set_item(self, key, value):
        self.data[key] = value

    def remove_item(self, key):
        self.data.pop(key, None)

    def keys(self):
        return list(self.data)


class RefusingStorage(DictStorage):
    def set_item(self, key, value):
        raise RuntimeError("QuotaExceededError")

    def get_item(self, key):
        raise RuntimeError("SecurityError")

    def keys(self):
        raise RuntimeError("SecurityError")


def test_a_draft_comes_back_for_its_conversation_only():
    store = DictStorage()
    drafts = Drafts(store, 7)
    drafts.save(3, "half a repl")
    assert drafts.load(3) == "half a repl"
    assert drafts.load(4) == ""
    assert store.data == {f"{PREFIX}7.3": "half a repl"}


def test_drafts_survive_a_new_instance_like_a_reload():
    store = DictStorage()
    Drafts(store, 7).save(3, "keep me")
    assert Drafts(store, 7).load(3) == "keep me"


def test_another_user_never_sees_my_draft():
    store = DictStorage()
    Drafts(store, 7).save(3, "mine")
    assert Drafts(store, 8).load(3) == ""


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None, 5])
def test_blank_text_removes_the_draft(blank):
    store = DictStorage()
    drafts = Drafts(store, 7)
    drafts.save(3, "something")
    drafts.save(3, blank)
    assert store.data == {}


def test_sending_clears_the_conversation_draft_only():
    store = DictStorage()
    drafts = Drafts(store, 7)
    drafts.save(3, "a")
    drafts.save(4, "b")
    drafts.clear(3)
    assert drafts.load(3) == "" and drafts.load(4) == "b"


def test_logout_clears_every_draft_of_the_user_and_no_one_elses():
    store = DictStorage()
    Drafts(store, 7).save(3, "a")
    Drafts(store, 7).save(4, "b")
    Drafts(store, 70).save(3, "other user, prefix-alike id")
    store.data["unrelated"] = "x"
    Drafts(store, 7).clear_all()
    assert store.data == {f"{PREFIX}70.3": "other user, prefix-alike id", "unrelated": "x"}


def test_a_huge_paste_is_kept_up_to_the_cap():
    store = DictStorage()
    drafts = Drafts(store, 7)
    drafts.save(3, "x" * (MAX_DRAFT_CHARS + 5))
    assert drafts.load(3) == "x" * MAX_DRAFT_CHARS


def test_a_stored_value_that_is_not_text_reads_as_no_draft():
    store = DictStorage()
    store.data[f"{PREFIX}7.3"] = 12
    assert Drafts(store, 7).load(3) == ""


def test_refusing_storage_never_raises():
    drafts = Drafts(RefusingStorage(), 7)
    drafts.save(3, "text")
    assert drafts.load(3) == ""
    drafts.clear_all()


@pytest.mark.parametrize("user, conversation", [(0, 3), (7, 0), (True, 3), ("7", 3), (7, None), (-1, 2)])
def test_bad_ids_have_no_key_and_store_nothing(user, conversation):
    store = DictStorage()
    assert draft_key(user, conversation) is None
    Drafts(store, user).save(conversation, "x")
    assert store.data == {}
    assert Drafts(store, user).load(conversation) == ""
