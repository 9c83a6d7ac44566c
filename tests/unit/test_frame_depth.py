"""Issue 6 item 7: deeply nested frames are refused before json.loads.

In Chromium, json.loads of ~1,000 nested brackets overflowed Pyodide's JavaScript stack
(RangeError in the console) before Python's RecursionError could be caught; the parser now
refuses any frame nested deeper than MAX_FRAME_DEPTH without parsing it.
"""

import json

from hypothesis import given, settings, strategies as st

from core.ws_events import MAX_FRAME_DEPTH, NewMessage, classify_server_frame

SENDER = {"id": 2, "first_name": "A", "last_name": "B", "profile_image": None}


def message_frame(content):
    return json.dumps({"type": "new_message", "message": {
        "id": 1, "conversation_id": 7, "sender": SENDER, "content": content, "image": None,
        "is_read": False, "read_at": None, "created_at": "2026-11-25T12:00:00Z"}})


def test_deep_arrays_and_objects_are_refused_without_parsing():
    for text in ("[" * 20000, "[" * (MAX_FRAME_DEPTH + 1), '{"a":' * 500 + "1" + "}" * 500):
        assert classify_server_frame(text, 7) == (None, "frame nested too deeply")


def test_nesting_at_the_limit_is_parsed_normally():
    text = "[" * MAX_FRAME_DEPTH + "]" * MAX_FRAME_DEPTH
    assert classify_server_frame(text, 7) == (None, "frame is a JSON list, not an object")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]{}\"\\x ", max_size=2000))
def test_brackets_inside_message_text_never_cause_a_refusal(content):
    event, why = classify_server_frame(message_frame(content), 7)
    assert why == "" and isinstance(event, NewMessage) and event.message["content"] == content
