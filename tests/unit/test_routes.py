"""Conversation URLs (issue 14 point 6): a hash names a conversation, anything else the list."""

import pytest

from core.routes import conversation_from_hash, hash_for


def test_a_conversation_hash_round_trips():
    assert hash_for(42) == "#/conversations/42"
    assert conversation_from_hash(hash_for(42)) == 42


@pytest.mark.parametrize("text", [
    "", "#", "#/", "#/conversations/", "#/conversations/0", "#/conversations/-3", "#/conversations/01",
    "#/conversations/4x", "#/conversations/4/", "#/conversations/1234567890123456789", " #/conversations/4",
    "#/conversations/４", "#/conversations/4?x=1", None, 4,
])
def test_anything_else_is_the_list(text):
    assert conversation_from_hash(text) is None


@pytest.mark.parametrize("value", [None, 0, -1, True, "4", 4.0])
def test_no_conversation_has_the_list_hash(value):
    assert hash_for(value) == ""
