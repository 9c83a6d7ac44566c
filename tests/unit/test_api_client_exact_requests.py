"""The REST client's requests and errors exactly: headers, the 2xx range, what an odd transport
answer or an odd login answer raises, and the ids and lengths at their edges."""
import asyncio

import pytest

from core import constants as paths
from core.api_client import (ApiClient, ApiError, NetworkError, error_detail, error_text,
                             make_refresh_call)
from core.tokens import AuthFailed, MemoryTokenStore, SessionExpired, TokenManager

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


def run(coro):
    return asyncio.run(coro)


def anonymous(*answers, api_base=BASE):
    transport = Transport(*answers)
    tokens = TokenManager(MemoryTokenStore(), None, lambda: 0.0)
    return ApiClient(api_base, transport, tokens), transport, tokens


def test_a_json_request_says_it_accepts_and_sends_json():
    api, transport, _ = anonymous((200, {"access": "a", "refresh": "r"}))
    run(api.login("c@example.com", "pw"))
    method, url, headers, body = transport.calls[0]
    assert (method, url) == ("POST", paths.api_url(BASE, paths.auth_create_path()))
    assert headers == {"Accept": "application/json", "Content-Type": "application/json"}
    assert "Authorization" not in headers  # the login carries no bearer


def test_the_refresh_call_posts_json_and_says_it_accepts_json():
    transport = Transport((200, {"access": "new"}))
    assert run(make_refresh_call(BASE + "/", transport)("R1")) == {"access": "new"}
    method, url, headers, body = transport.calls[0]
    assert (method, url) == ("POST", paths.api_url(BASE, paths.auth_refresh_path()))
    assert headers == {"Accept": "application/json", "Content-Type": "application/json"}


@pytest.mark.parametrize("status", [300, 301, 199])
def test_outside_200_to_299_a_refresh_answer_is_an_error_with_the_servers_detail(status):
    call = make_refresh_call(BASE, Transport((status, {"detail": "Moved."})))
    with pytest.raises(ApiError) as raised:
        run(call("R1"))
    assert (raised.value.status, raised.value.detail) == (status, "Moved.")


def test_a_refusal_of_the_refresh_and_an_answer_without_a_token_end_the_session_with_the_reason():
    with pytest.raises(AuthFailed, match="^refresh answered 401$"):
        run(make_refresh_call(BASE, Transport((401, None)))("R1"))
    with pytest.raises(AuthFailed, match="^refresh answer carried no access token$"):
        run(make_refresh_call(BASE, Transport((200, {"refresh": "x"})))("R1"))


@pytest.mark.parametrize("status", [300, 302, 199])
def test_a_request_answered_outside_200_to_299_raises_the_status(status):
    api, _, _ = anonymous((status, None))
    with pytest.raises(ApiError) as raised:
        run(api.request("GET", "/x", auth=False))
    assert raised.value.status == status
    assert str(raised.value) == f"{status}: {raised.value.detail}"


def test_the_api_base_loses_its_trailing_slashes_only():
    api, transport, _ = anonymous((200, {}), api_base="http://api.test/v//")
    run(api.request("GET", "/api/x/", auth=False))
    assert transport.calls[0][1] == "http://api.test/v/api/x/"


def test_json_body_and_form_together_are_a_programming_error():
    api, _, _ = anonymous()
    with pytest.raises(ValueError, match="^give json_body or form, not both$"):
        run(api.request("POST", "/x", json_body={}, form=object(), auth=False))


@pytest.mark.parametrize("answer, why", [
    ((200,), "transport returned no (status, data) pair"),
    ("ok", "transport returned no (status, data) pair"),
    ((200, None, None), "transport returned no (status, data) pair"),
    (("200", None), "transport returned no status"),
    ((True, None), "transport returned no status"),
])
def test_a_transport_answer_that_is_not_a_status_and_data_is_no_answer(answer, why):
    api, _, _ = anonymous(answer)
    with pytest.raises(NetworkError) as raised:
        run(api.request("GET", "/x", auth=False))
    assert str(raised.value) == why


def test_a_transport_that_raises_is_no_answer_named_after_the_failure():
    api, _, _ = anonymous(ConnectionResetError("reset"))
    with pytest.raises(NetworkError) as raised:
        run(api.request("GET", "/x", auth=False))
    assert str(raised.value) == "ConnectionResetError"


@pytest.mark.parametrize("answer", [
    {"access": "a"}, {"refresh": "r"}, {"access": "", "refresh": "r"}, {"access": "a", "refresh": ""},
    {"access": "a", "refresh": 5}, ["a", "r"], None,
])
def test_a_login_answer_without_both_tokens_is_a_502_with_a_calm_text(answer):
    api, _, tokens = anonymous((200, answer))
    with pytest.raises(ApiError) as raised:
        run(api.login("c@example.com", "pw"))
    assert (raised.value.status, raised.value.detail) == (502, "The server answered the login in an unexpected way.")


def test_an_error_detail_of_exactly_300_characters_is_kept_whole_and_301_is_cut():
    assert error_detail(400, {"detail": "x" * 300}) == "x" * 300
    assert error_detail(400, {"detail": "x" * 301}) == "x" * 297 + "..."


def test_an_empty_detail_says_the_fallback():
    assert error_text(ApiError(400, ""), "Could not send.") == "Could not send."
    assert error_text(ApiError(400, None), "Could not send.") == "Could not send."
    assert error_text(ApiError(400, "Too long."), "Could not send.") == "Too long."


@pytest.mark.parametrize("before", [0, 5])
def test_message_ids_from_zero_up_are_valid_cursors(before):
    api, transport, tokens = anonymous((200, {"results": [], "has_more": False}))
    tokens.set_tokens("h.eyJleHAiOiA5OTk5OTk5OTk5fQ.s", "R1")
    run(api.messages(3, before=before))
    assert f"before={before}" in transport.calls[0][1]


@pytest.mark.parametrize("before", [-1, True, "5", 1.0])
def test_a_negative_or_non_int_cursor_is_refused_before_any_request(before):
    api, transport, _ = anonymous()
    with pytest.raises(ValueError, match="^before must be a non-negative int$"):
        run(api.messages(3, before=before))
    assert transport.calls == []


def test_a_second_401_after_a_refresh_ends_the_session_with_the_reason():
    store = MemoryTokenStore()

    async def refresh(token):
        return {"access": "h.eyJleHAiOiA5OTk5OTk5OTk5fQ.t"}
    tokens = TokenManager(store, refresh, lambda: 0.0)
    tokens.set_tokens("h.eyJleHAiOiA5OTk5OTk5OTk5fQ.s", "R1")
    api = ApiClient(BASE, Transport((401, None), (401, None)), tokens)
    with pytest.raises(SessionExpired, match="^the server rejected a freshly refreshed token$"):
        run(api.request("GET", "/x"))


FRESH = "h.eyJleHAiOiA5OTk5OTk5OTk5fQ.s"  # expires in the year 2286


def signed_in(*answers):
    api, transport, tokens = anonymous(*answers)
    tokens.set_tokens(FRESH, "R1")
    return api, transport


def test_each_call_uses_its_method_and_path_with_the_bearer():
    form = object()
    api, transport = signed_in((200, {}), (200, {}), (200, {}), (201, {}))
    run(api.me())
    run(api.messages(3))
    run(api.unread_count())
    run(api.send(3, "ignored", form=form))
    assert [(method, url.split("?")[0], headers["Authorization"]) for method, url, headers, _ in transport.calls] == [
        ("GET", paths.api_url(BASE, paths.auth_me_path()), "Bearer " + FRESH),
        ("GET", paths.api_url(BASE, paths.messages_path(3)), "Bearer " + FRESH),
        ("GET", paths.api_url(BASE, paths.unread_count_path()), "Bearer " + FRESH),
        ("POST", paths.api_url(BASE, paths.send_path(3)), "Bearer " + FRESH),
    ]
    assert transport.calls[3][3] is form  # the multipart form goes as it is


def test_a_page_request_with_two_cursors_or_a_limit_that_is_not_an_int_is_refused_with_the_reason():
    api, transport = signed_in()
    with pytest.raises(ValueError, match="^give before or after, not both$"):
        run(api.messages(3, before=5, after=2))
    with pytest.raises(ValueError, match="^limit must be an int$"):
        run(api.messages(3, limit="5"))
    with pytest.raises(ValueError, match="^after must be a non-negative int$"):
        run(api.messages(3, after=-1))
    assert transport.calls == []


def test_a_root_relative_base_or_one_ending_in_x_keeps_its_letters_and_slashes_in_front():
    for base, expected in (("/api/", "/api/x/"), ("http://BOX/", "http://BOX/x/")):
        api, transport, _ = anonymous((200, {}), api_base=base)
        run(api.request("GET", "/x/", auth=False))
        assert transport.calls[0][1] == expected
