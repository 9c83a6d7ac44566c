"""Which conversation a page shows (issue 14): deep links, a reload, Back and Forward."""

from core.chat_routing import Navigation, after_navigation, conversation_to_reopen

LIST = {3, 7}.__contains__


def test_a_deep_link_opens_its_conversation_before_the_remembered_one():
    assert conversation_to_reopen(7, "3", LIST) == 7


def test_a_reload_without_a_hash_reopens_the_conversation_this_tab_had_open():
    assert conversation_to_reopen(None, "3", LIST) == 3


def test_a_conversation_not_in_the_list_is_never_opened():
    assert conversation_to_reopen(9, None, LIST) is None
    assert conversation_to_reopen(None, "9", LIST) is None
    # A deep link to a conversation not in the list does not fall back to the remembered one.
    assert conversation_to_reopen(9, "3", LIST) is None


def test_a_remembered_value_that_is_not_an_id_is_ignored():
    for remembered in (None, "", "abc", "-3", "3.0", 3):
        assert conversation_to_reopen(None, remembered, LIST) is None


def test_back_to_a_conversation_url_opens_it():
    assert after_navigation(3, LIST, chat_open=False) is Navigation.OPEN
    assert after_navigation(3, LIST, chat_open=True) is Navigation.OPEN


def test_back_to_the_list_url_closes_the_open_chat():
    assert after_navigation(None, LIST, chat_open=True) is Navigation.TO_LIST
    assert after_navigation(9, LIST, chat_open=True) is Navigation.TO_LIST  # not in the list


def test_back_to_the_list_with_no_chat_open_changes_nothing():
    assert after_navigation(None, LIST, chat_open=False) is Navigation.STAY
