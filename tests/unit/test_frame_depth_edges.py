"""The depth check of incoming frames at its edges: exactly MAX_FRAME_DEPTH deep among more
brackets than the limit, a deep nest after a closed sibling, brackets in strings with
escaped quotes."""
import json

from core.ws_events import MAX_FRAME_DEPTH, NewMessage, classify_server_frame

TOO_DEEP = (None, "frame nested too deeply")
A_LIST = (None, "frame is a JSON list, not an object")
SENDER = {"id": 2, "first_name": "A", "last_name": "B", "profile_image": None}


def nest(depth):
    return "[" * depth + "]" * depth


def test_exactly_the_limit_deep_is_parsed_even_among_more_brackets_than_the_limit():
    siblings = "[]," * 5
    assert classify_server_frame("[" + siblings + nest(MAX_FRAME_DEPTH - 1) + "]", 7) == A_LIST
    assert classify_server_frame("[" + siblings + nest(MAX_FRAME_DEPTH) + "]", 7) == TOO_DEEP


def test_half_the_limit_deep_is_parsed():
    depth = MAX_FRAME_DEPTH // 2 + 1
    assert classify_server_frame("[" + "[]," * MAX_FRAME_DEPTH + nest(depth - 1) + "]", 7) == A_LIST


def test_a_closed_sibling_does_not_reset_the_depth_of_what_follows():
    text = "[[[[]" + "[" * (MAX_FRAME_DEPTH - 2) + "]" * (MAX_FRAME_DEPTH + 1)
    assert classify_server_frame(text, 7) == TOO_DEEP


def message_frame(content):
    return json.dumps({"type": "new_message", "message": {
        "id": 1, "conversation_id": 7, "sender": SENDER, "content": content, "image": None,
        "is_read": False, "read_at": None, "created_at": "2026-11-25T12:00:00Z"}})


def test_brackets_in_a_string_never_count_even_after_an_escaped_quote_or_backslash():
    for content in ("[" * 40, '"' + "[" * 40, "\\" + "[" * 40, '\\"' + "{" * 40, "x" + "[" * 40):
        event, why = classify_server_frame(message_frame(content), 7)
        assert why == "" and isinstance(event, NewMessage) and event.message["content"] == content
