"""The CONTRACT.md shapes: cleaned dicts with the right types, or None; never an exception."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core.models import parse_conversation, parse_message, parse_user


def user(**over):
    base = {"id": 2, "first_name": "Alex", "last_name": "Runner", "profile_image": None}
    base.update(over)
    return base


def message(**over):
    base = {"id": 10, "conversation_id": 1, "sender": user(), "content": "hi", "image": None,
            "is_read": False, "read_at": None, "created_at": "2024-01-01T10:00:00Z"}
    base.update(over)
    return base


def conversation(**over):
    base = {"id": 1, "trainer": user(id=1, first_name="Casey", last_name="Coach"), "trainee": user(),
            "last_message_at": "2024-01-01T10:00:00Z", "last_message_preview": "hi",
            "unread_count": 3, "is_archived": False, "created_at": "2023-12-01T00:00:00Z"}
    base.update(over)
    return base


# ---- User

def test_user_valid_is_copied_with_known_fields_only():
    raw = user(extra="x", is_staff=True)
    assert parse_user(raw) == {"id": 2, "first_name": "Alex", "last_name": "Runner", "profile_image": None}


def test_user_me_keeps_email_and_role():
    got = parse_user(user(email="alex@example.com", role="TRAINEE"))
    assert got["email"] == "alex@example.com" and got["role"] == "TRAINEE"


@pytest.mark.parametrize("bad_id", [True, False, "2", 2.0, None])
def test_user_id_must_be_a_real_int(bad_id):
    assert parse_user(user(id=bad_id)) is None


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_user_names_must_be_strings(field):
    assert parse_user(user(**{field: 5})) is None
    assert parse_user({k: v for k, v in user().items() if k != field}) is None


@pytest.mark.parametrize("value, kept", [
    ("https://cdn.example.com/a.png", "https://cdn.example.com/a.png"),
    ("/media/a.png", "/media/a.png"),
    ("javascript:alert(1)", None),
    ("data:image/png;base64,AAAA", None),
    ("a.png", None),
    ("", None),
    (5, None),
    (["/x.png"], None),
    (None, None),
])
def test_profile_image_kept_only_when_a_contract_url(value, kept):
    assert parse_user(user(profile_image=value))["profile_image"] == kept


def test_user_missing_profile_image_reads_as_none():
    raw = user()
    del raw["profile_image"]
    assert parse_user(raw)["profile_image"] is None


# ---- Message

def test_message_valid():
    assert parse_message(message()) == message()


def test_message_keeps_client_message_id_when_str_only():
    assert parse_message(message(client_message_id="u-1"))["client_message_id"] == "u-1"
    assert "client_message_id" not in parse_message(message(client_message_id=5))


def test_message_drops_unknown_fields_and_cleans_sender():
    got = parse_message(message(html="<b>", sender=user(password="x")))
    assert "html" not in got and "password" not in got["sender"]


@pytest.mark.parametrize("field, bad", [
    ("id", True), ("id", "10"), ("conversation_id", None), ("conversation_id", 1.5),
    ("sender", None), ("sender", {"id": 1}), ("content", 5), ("is_read", 1), ("is_read", "false"),
    ("created_at", None), ("created_at", 5),
])
def test_message_with_a_wrong_required_field_is_invalid(field, bad):
    assert parse_message(message(**{field: bad})) is None


@pytest.mark.parametrize("field", ["id", "conversation_id", "sender", "created_at"])
def test_message_missing_required_field_is_invalid(field):
    raw = message()
    del raw[field]
    assert parse_message(raw) is None


def test_message_image_only_has_null_content_read_as_empty():
    got = parse_message(message(content=None, image="/media/x.jpg"))
    assert got["content"] == "" and got["image"] == "/media/x.jpg"


def test_message_image_not_a_url_is_dropped():
    assert parse_message(message(image="javascript:x"))["image"] is None
    assert parse_message(message(image={"url": "/x"}))["image"] is None


def test_message_read_at_wrong_type_reads_as_none():
    assert parse_message(message(read_at=12))["read_at"] is None
    assert parse_message(message(is_read=True, read_at="2024-01-02T00:00:00Z"))["read_at"] == \
        "2024-01-02T00:00:00Z"


def test_message_missing_is_read_reads_as_false():
    raw = message()
    del raw["is_read"]
    assert parse_message(raw)["is_read"] is False


# ---- Conversation

def test_conversation_valid():
    assert parse_conversation(conversation()) == conversation()


@pytest.mark.parametrize("field, bad", [
    ("id", False), ("trainer", None), ("trainee", {"id": "x"}), ("unread_count", "3"),
    ("unread_count", True), ("is_archived", "no"),
])
def test_conversation_with_a_wrong_field_is_invalid(field, bad):
    assert parse_conversation(conversation(**{field: bad})) is None


def test_conversation_nullable_fields():
    got = parse_conversation(conversation(last_message_at=None, last_message_preview=None, created_at=7))
    assert (got["last_message_at"], got["last_message_preview"], got["created_at"]) == (None, None, None)


def test_conversation_negative_unread_is_clamped():
    assert parse_conversation(conversation(unread_count=-4))["unread_count"] == 0


# ---- Never raises

class HostileDict(dict):
    def get(self, *args, **kwargs):
        raise RuntimeError("boom")


@pytest.mark.parametrize("parse", [parse_user, parse_message, parse_conversation])
@pytest.mark.parametrize("junk", [None, 5, "x", [], [1, 2], (1,), {}, HostileDict(id=1), float("nan"), b"{}"])
def test_parsers_return_none_for_junk(parse, junk):
    assert parse(junk) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(list(message().keys()) + ["x"]), json_values))
def test_parsers_never_raise_on_arbitrary_json(obj):
    for parse in (parse_user, parse_message, parse_conversation):
        got = parse(obj)
        assert got is None or isinstance(got, dict)
