"""Server frames (CONTRACT.md "WebSocket"): valid ones become events, anything else is ignored
with a reason (edge case 11), and nothing raises."""
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.ws_events import (
    PING_FRAME, NewMessage, Pong, ReadReceipt, TypingIndicator, classify_server_frame,
    parse_server_frame, typing_frame,
)

SENDER = {"id": 2, "first_name": "Alex", "last_name": "Runner", "profile_image": None}
MESSAGE = {"id": 10, "conversation_id": 1, "sender": SENDER, "content": "hi", "image": None,
           "is_read": False, "read_at": None, "created_at": "2024-01-01T10:00:00Z"}


def frame(**fields):
    return json.dumps(fields)


def test_pong():
    assert parse_server_frame('{"type": "pong"}') == Pong()


def test_new_message():
    assert parse_server_frame(frame(type="new_message", message=MESSAGE), 1) == NewMessage(MESSAGE)


def test_new_message_for_another_conversation_is_ignored():
    event, why = classify_server_frame(frame(type="new_message", message=MESSAGE), 2)
    assert event is None and why == "new_message for another conversation"


def test_new_message_with_an_invalid_message_is_ignored():
    event, why = classify_server_frame(frame(type="new_message", message={**MESSAGE, "id": "10"}), 1)
    assert event is None and why == "new_message without a valid message"


def test_typing_indicator():
    assert parse_server_frame(frame(type="typing_indicator", user_id=2, is_typing=True)) == \
        TypingIndicator(2, True)


@pytest.mark.parametrize("fields", [
    {"user_id": "2", "is_typing": True}, {"user_id": True, "is_typing": True},
    {"user_id": 2, "is_typing": "yes"}, {"user_id": 2}, {"is_typing": False},
])
def test_typing_indicator_with_bad_fields_is_ignored(fields):
    assert parse_server_frame(frame(type="typing_indicator", **fields)) is None


def test_read_receipt():
    assert parse_server_frame(frame(type="read_receipt", reader_id=1, read_at="2024-01-01T10:00:00Z")) == \
        ReadReceipt(1, "2024-01-01T10:00:00Z")


def test_read_receipt_without_read_at_still_counts():
    assert parse_server_frame(frame(type="read_receipt", reader_id=1)) == ReadReceipt(1, None)


def test_read_receipt_with_bad_reader_is_ignored():
    assert parse_server_frame(frame(type="read_receipt", reader_id=None, read_at="x")) is None


def test_edge11_unknown_type_is_ignored_with_reason():
    assert classify_server_frame('{"type": "hello"}') == (None, "unknown frame type 'hello'")


def test_edge11_reason_truncates_a_huge_type():
    _, why = classify_server_frame(frame(type="x" * 100000))
    assert len(why) < 80


@pytest.mark.parametrize("text, why", [
    ("not json", "frame is not JSON"),
    ("", "frame is not JSON"),
    ('{"type": "pong"', "frame is not JSON"),
    ('[{"type": "pong"}]', "frame is a JSON list, not an object"),
    ("42", "frame is a JSON int, not an object"),
    ('"pong"', "frame is a JSON str, not an object"),
    ("null", "frame is a JSON NoneType, not an object"),
    ('{"type": NaN}', "frame is not JSON"),
    ('{"type": "typing_indicator", "user_id": Infinity, "is_typing": true}', "frame is not JSON"),
    ('{"kind": "pong"}', "frame without a string type"),
    ('{"type": 5}', "frame without a string type"),
    ("[" * 100000 + "]" * 100000, "frame nested too deeply"),
    ('{"type": "read_receipt", "reader_id": ' + "9" * 5000 + "}", "frame is not JSON"),
])
def test_malformed_frames_are_ignored_with_reason(text, why):
    assert classify_server_frame(text) == (None, why)


@pytest.mark.parametrize("junk", [None, b'{"type": "pong"}', 5, ["pong"], {"type": "pong"}])
def test_non_text_frames_are_ignored(junk):
    event, why = classify_server_frame(junk)
    assert event is None and why.startswith("non-text frame")


def test_huge_but_legal_int_ids_are_fine():
    big = 10 ** 30
    assert parse_server_frame(frame(type="typing_indicator", user_id=big, is_typing=False)) == \
        TypingIndicator(big, False)


def test_client_frames():
    assert json.loads(PING_FRAME) == {"type": "ping"}
    assert json.loads(typing_frame(True)) == {"type": "typing", "is_typing": True}
    assert json.loads(typing_frame(0)) == {"type": "typing", "is_typing": False}


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.binary(), st.none(), st.integers(), st.floats()))
def test_classify_never_raises(anything):
    event, why = classify_server_frame(anything, 1)
    assert (event is None) == bool(why)
