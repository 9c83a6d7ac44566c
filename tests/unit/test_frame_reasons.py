"""Why a frame is ignored (edge case 11): each reason exactly as logged, the type cut to 40
characters at most, and the inbox's carried-conversation filter touching only new messages."""
from core.ws_events import (CARRIED_ELSEWHERE, InboxReadReceipt, NewMessage, classify_inbox_frame,
                            classify_server_frame, parse_server_frame)
from test_ws_events import MESSAGE, frame


def test_a_type_up_to_40_characters_as_written_is_named_whole():
    kind = "x" * 38  # repr adds the quotes: 40
    assert classify_server_frame(frame(type=kind)) == (None, f"unknown frame type {kind!r}")


def test_a_longer_type_is_cut_to_37_characters_and_an_ellipsis():
    kind = "x" * 39
    assert classify_server_frame(frame(type=kind)) == (None, "unknown frame type " + repr(kind)[:37] + "...")


def test_the_inbox_says_why_it_ignores_a_frame():
    assert classify_inbox_frame(frame(type="read_receipt", conversation_id="7", reader_id=2)) == (
        None, "read_receipt with a bad conversation_id or reader_id")
    assert classify_inbox_frame(frame(type="conversation_updated", conversation={"id": "x"})) == (
        None, "conversation_updated without a valid conversation")
    assert classify_inbox_frame(frame(type="typing_indicator", user_id=2, is_typing=True)) == (
        None, "typing_indicator on the inbox socket")


def test_an_inbox_read_receipt_keeps_a_string_read_at_only():
    assert classify_inbox_frame(frame(type="read_receipt", conversation_id=7, reader_id=2, read_at=5)) == (
        InboxReadReceipt(7, 2, None), "")
    assert classify_inbox_frame(frame(type="read_receipt", conversation_id=7, reader_id=2, read_at="t")) == (
        InboxReadReceipt(7, 2, "t"), "")


def test_only_the_carried_conversations_new_messages_are_dropped_from_the_inbox():
    assert classify_inbox_frame(frame(type="new_message", message=MESSAGE), carried=1) == (None, CARRIED_ELSEWHERE)
    assert classify_inbox_frame(frame(type="read_receipt", conversation_id=1, reader_id=2), carried=1) == (
        InboxReadReceipt(1, 2, None), "")
    assert classify_inbox_frame(frame(type="new_message", message=MESSAGE), carried=2) == (NewMessage(MESSAGE), "")


def test_parse_server_frame_ignores_another_conversations_message():
    assert parse_server_frame(frame(type="new_message", message=MESSAGE), 2) is None
    assert parse_server_frame(frame(type="new_message", message=MESSAGE), 1) == NewMessage(MESSAGE)
