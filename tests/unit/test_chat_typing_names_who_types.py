"""Whom the open chat's typing indicator names (core/chat_typing.py, AC-20): the other party by
first name, "Someone" when they have none, and "Someone" for a user the chat does not know."""
from core.chat_effects import ShowTyping
from core.chat_typing import ChatTyping
from core.ws_events import TypingIndicator

ME, OTHER, STRANGER = 1, 2, 3
T0 = 1_700_000_000.0


def test_the_other_party_is_named_by_first_name():
    typing = ChatTyping(ME, {"id": OTHER, "first_name": "Alex"})
    assert typing.indicator(TypingIndicator(OTHER, True), T0) == [ShowTyping(("Alex",))]


def test_the_other_party_without_a_first_name_is_someone():
    typing = ChatTyping(ME, {"id": OTHER, "first_name": ""})
    assert typing.indicator(TypingIndicator(OTHER, True), T0) == [ShowTyping(("Someone",))]


def test_a_user_the_chat_does_not_know_is_someone_not_the_other_party():
    typing = ChatTyping(ME, {"id": OTHER, "first_name": "Alex"})
    assert typing.indicator(TypingIndicator(STRANGER, True), T0) == [ShowTyping(("Someone",))]
