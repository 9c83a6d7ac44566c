"""CONTRACT "Optional features": the capabilities answer read strictly, and the optional calls'
exact requests (method, path, body, query)."""
import asyncio
import base64
import json

import pytest

from core import constants as paths
from core.api_client import ApiClient, ApiError, NetworkError
from core.capabilities import NO_CAPABILITIES, Capabilities, parse_capabilities
from core.tokens import MemoryTokenStore, TokenManager

BASE = "http://api.test"


class Transport:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    async def __call__(self, method, url, headers, body):
        self.calls.append((method, url, headers, body))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


NOW = 1_000_000.0
ACCESS = "h." + base64.urlsafe_b64encode(json.dumps({"exp": NOW + 300}).encode()).rstrip(b"=").decode() + ".s"


def signed_in(*answers):
    transport = Transport(*answers)
    tokens = TokenManager(MemoryTokenStore(), None, lambda: NOW)
    tokens.set_tokens(ACCESS, "R")
    return ApiClient(BASE, transport, tokens), transport


def run(coro):
    return asyncio.run(coro)


def test_only_a_literal_true_turns_a_feature_on():
    caps = parse_capabilities({"edit": True, "delete": 1, "saved_replies": "yes", "search": [True]})
    assert caps == Capabilities(edit=True)


def test_a_missing_key_is_false_and_extra_keys_are_ignored():
    assert parse_capabilities({"search": True, "video": True}) == Capabilities(search=True)


@pytest.mark.parametrize("data", [None, [], "edit", 3, [{"edit": True}]])
def test_an_answer_that_is_no_object_offers_nothing(data):
    assert parse_capabilities(data) is NO_CAPABILITIES


@pytest.mark.parametrize("status", [404, 405])
def test_a_backend_without_the_call_offers_nothing(status):
    api, transport = signed_in((status, {"detail": "Not found."}))
    assert run(api.capabilities()) is NO_CAPABILITIES
    method, url, headers, _ = transport.calls[0]
    assert (method, url) == ("GET", BASE + paths.capabilities_path())
    assert headers["Authorization"] == "Bearer " + ACCESS


def test_a_failing_capabilities_call_raises_so_it_can_be_asked_again():
    api, _ = signed_in((500, None))
    with pytest.raises(ApiError):
        run(api.capabilities())
    api, _ = signed_in(OSError("offline"))
    with pytest.raises(NetworkError):
        run(api.capabilities())


def test_the_capabilities_answer_is_parsed():
    api, _ = signed_in((200, {"edit": True, "delete": True, "saved_replies": True, "search": True}))
    assert run(api.capabilities()) == Capabilities(True, True, True, True)


def test_edit_and_delete_requests():
    api, transport = signed_in((200, {"id": 7}), (204, None))
    assert run(api.edit_message(7, "fixed")) == {"id": 7}
    assert run(api.delete_message(7)) is None
    (m1, u1, h1, b1), (m2, u2, _, b2) = transport.calls
    assert (m1, u1, json.loads(b1)) == ("PATCH", BASE + "/api/messaging/messages/7/", {"content": "fixed"})
    assert h1["Content-Type"] == "application/json"
    assert (m2, u2, b2) == ("DELETE", BASE + "/api/messaging/messages/7/", None)


@pytest.mark.parametrize("bad", [True, -1, "7", None, 1.0])
def test_a_message_id_that_is_not_a_non_negative_int_is_refused_before_any_request(bad):
    api, transport = signed_in()
    with pytest.raises(ValueError):
        run(api.edit_message(bad, "x"))
    with pytest.raises(ValueError):
        run(api.delete_message(bad))
    assert transport.calls == []


def test_saved_reply_requests():
    api, transport = signed_in((200, []), (201, {"id": 3}), (200, {"id": 3}), (204, None))
    run(api.saved_replies())
    run(api.add_saved_reply("Hello", "Hi there"))
    run(api.change_saved_reply(3, content="Hi!"))
    run(api.delete_saved_reply(3))
    seen = [(m, u, json.loads(b) if b else None) for m, u, _, b in transport.calls]
    assert seen == [
        ("GET", BASE + "/api/messaging/saved-replies/", None),
        ("POST", BASE + "/api/messaging/saved-replies/", {"title": "Hello", "content": "Hi there"}),
        ("PATCH", BASE + "/api/messaging/saved-replies/3/", {"content": "Hi!"}),
        ("DELETE", BASE + "/api/messaging/saved-replies/3/", None),
    ]


def test_search_request_leaves_out_what_is_not_given_and_clamps_the_limit():
    api, transport = signed_in((200, {"results": [], "has_more": False}), (200, {"results": [], "has_more": False}))
    run(api.search("meal plan"))
    run(api.search("a&b", conversation_id=4, limit=999, before=90))
    assert transport.calls[0][1] == BASE + "/api/messaging/search/?q=meal+plan&limit=50"
    assert transport.calls[1][1] == BASE + "/api/messaging/search/?q=a%26b&conversation_id=4&limit=200&before=90"
