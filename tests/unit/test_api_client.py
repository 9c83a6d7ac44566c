"""REST client: bearer auth, one refresh-and-retry on 401, errors, URL shapes."""

import asyncio
import base64
import json

import pytest

from core.api_client import ApiClient, ApiError, NetworkError, error_detail, make_refresh_call
from core.tokens import ACCESS_KEY, REFRESH_KEY, AuthFailed, MemoryTokenStore, SessionExpired, TokenManager

NOW = 1_700_000_000.0
BASE = "http://api.test"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(exp_in=300, tag="A") -> str:
    payload = json.dumps({"exp": NOW + exp_in, "user_id": 1, "tag": tag}).encode()
    return "h." + b64url(payload) + ".s"


ACCESS = jwt(tag="access-1")
ACCESS2 = jwt(tag="access-2")


class FakeTransport:
    """Answers from a script of (status, data) or exceptions; records every call."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    async def __call__(self, method, url, headers, body):
        self.calls.append({"method": method, "url": url, "headers": headers, "body": body})
        await asyncio.sleep(0)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(method, url, headers, body)
        return answer


class FakeRefresh:
    def __init__(self, *results):
        self.results = list(results)
        self.calls = 0

    async def __call__(self, refresh_token):
        self.calls += 1
        result = self.results.pop(0)
        if isinstance(result, BaseException):
            raise result
        return result


def client(*answers, refresh=None, access=ACCESS, refresh_token="R1", api_base=BASE):
    store = MemoryTokenStore()
    ended = []
    refresh = refresh or FakeRefresh({"access": ACCESS2})
    tokens = TokenManager(store, refresh, lambda: NOW, on_session_end=lambda: ended.append(1))
    if access:
        tokens.set_tokens(access, refresh_token)
    transport = FakeTransport(*answers)
    return ApiClient(api_base, transport, tokens), transport, store, refresh, ended


def run(coro):
    return asyncio.run(coro)


class TestBearerAuth:
    def test_request_carries_bearer_and_returns_parsed_answer(self):
        api, transport, _, _, _ = client((200, [{"id": 1}]))
        assert run(api.conversations()) == [{"id": 1}]
        call = transport.calls[0]
        assert call["method"] == "GET"
        assert call["url"] == BASE + "/api/messaging/conversations/"
        assert call["headers"]["Authorization"] == "Bearer " + ACCESS
        assert call["body"] is None

    def test_stale_token_is_refreshed_before_the_request_AC4(self):
        api, transport, _, refresh, _ = client((200, {}), access=jwt(exp_in=5))
        run(api.me())
        assert refresh.calls == 1
        assert transport.calls[0]["headers"]["Authorization"] == "Bearer " + ACCESS2

    def test_401_refreshes_once_and_retries_once(self):
        api, transport, store, refresh, ended = client(
            (401, {"detail": "Token is invalid or expired"}), (200, {"unread_count": 3})
        )
        assert run(api.unread_count()) == {"unread_count": 3}
        assert refresh.calls == 1
        assert [c["headers"]["Authorization"] for c in transport.calls] == [
            "Bearer " + ACCESS,
            "Bearer " + ACCESS2,
        ]
        assert store.get(ACCESS_KEY) == ACCESS2
        assert ended == []

    def test_second_401_ends_the_session(self):
        api, transport, store, refresh, ended = client((401, None), (401, None))
        with pytest.raises(SessionExpired):
            run(api.conversations())
        assert len(transport.calls) == 2
        assert refresh.calls == 1
        assert store.values == {}
        assert ended == [1]

    def test_rejected_refresh_after_401_ends_the_session_without_retry(self):
        api, transport, store, _, ended = client(
            (401, None), refresh=FakeRefresh(AuthFailed("401"))
        )
        with pytest.raises(SessionExpired):
            run(api.conversations())
        assert len(transport.calls) == 1
        assert store.values == {}
        assert ended == [1]

    def test_no_session_raises_session_expired_without_calling_server(self):
        api, transport, _, _, _ = client(access=None, refresh_token=None)
        with pytest.raises(SessionExpired):
            run(api.conversations())
        assert transport.calls == []

    def test_concurrent_401s_share_one_refresh(self):
        answers = [(401, None)] * 3 + [(200, {"n": i}) for i in range(3)]
        api, transport, _, refresh, _ = client(*answers)

        async def main():
            return await asyncio.gather(api.me(), api.me(), api.me())

        assert run(main()) == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert refresh.calls == 1


class TestErrors:
    def test_non_2xx_raises_api_error_with_server_detail(self):
        api, _, _, _, _ = client((403, {"detail": "You are not a participant."}))
        with pytest.raises(ApiError) as info:
            run(api.messages(3))
        assert info.value.status == 403
        assert info.value.detail == "You are not a participant."

    @pytest.mark.parametrize(
        "status,data,detail",
        [
            (404, None, "Not found."),
            (413, "<html>too big</html>", "The file is too large."),
            (429, {}, "Too many requests. Please wait a moment."),
            (500, None, "The server had a problem. Please try again."),
            (503, {"detail": ""}, "The server had a problem. Please try again."),
            (418, None, "Something went wrong (418)."),
            (400, {"content": ["Ensure this field has no more than 2000 characters."]},
             "Ensure this field has no more than 2000 characters."),
            (400, {"detail": 5}, "The request was not accepted."),
        ],
    )
    def test_error_detail_falls_back_to_calm_text(self, status, data, detail):
        assert error_detail(status, data) == detail

    def test_overlong_detail_is_cut(self):
        text = error_detail(400, {"detail": "x" * 1000})
        assert len(text) == 300 and text.endswith("...")

    def test_transport_exception_becomes_network_error(self):
        api, _, _, _, _ = client(OSError("Failed to fetch"))
        with pytest.raises(NetworkError):
            run(api.conversations())

    def test_transport_returning_garbage_is_a_network_error(self):
        api, _, _, _, _ = client("nonsense")
        with pytest.raises(NetworkError):
            run(api.conversations())

    def test_error_text_never_carries_the_token(self):
        api, _, _, _, _ = client(OSError("boom"))
        with pytest.raises(NetworkError) as info:
            run(api.conversations())
        assert ACCESS not in str(info.value)


class TestLoginLogout:
    def test_login_sends_credentials_without_bearer_and_stores_tokens(self):
        api, transport, store, _, _ = client(
            (200, {"access": "NEW-A", "refresh": "NEW-R"}), access=None, refresh_token=None
        )
        assert run(api.login("coach@example.com", "coach-pass")) is None
        call = transport.calls[0]
        assert call["method"] == "POST"
        assert call["url"] == BASE + "/api/auth/jwt/create/"
        assert "Authorization" not in call["headers"]
        assert call["headers"]["Content-Type"] == "application/json"
        assert json.loads(call["body"]) == {"email": "coach@example.com", "password": "coach-pass"}
        assert store.values == {ACCESS_KEY: "NEW-A", REFRESH_KEY: "NEW-R"}

    def test_wrong_password_raises_401_api_error_and_does_not_refresh(self):
        api, transport, store, refresh, ended = client(
            (401, {"detail": "No active account found with the given credentials"}),
            access=None,
            refresh_token=None,
        )
        with pytest.raises(ApiError) as info:
            run(api.login("coach@example.com", "nope"))
        assert info.value.status == 401
        assert info.value.detail == "No active account found with the given credentials"
        assert refresh.calls == 0 and len(transport.calls) == 1
        assert store.values == {} and ended == []

    def test_login_answer_without_tokens_is_an_error(self):
        api, _, store, _, _ = client((200, {"access": "A"}), access=None, refresh_token=None)
        with pytest.raises(ApiError):
            run(api.login("a@b.c", "x"))
        assert store.values == {}

    def test_logout_clears_tokens_at_once_and_hands_back_the_refresh_token(self):
        api, transport, store, _, ended = client()
        assert api.logout() == "R1"
        assert store.values == {}
        assert transport.calls == [] and ended == []

    def test_logout_without_tokens_has_nothing_to_revoke(self):
        api, transport, _, _, _ = client(access=None, refresh_token=None)
        assert api.logout() is None
        assert run(api.revoke(None)) is False
        assert transport.calls == []

    def test_revoke_posts_the_refresh_token_to_the_blacklist_without_a_bearer(self):
        api, transport, _, _, _ = client((200, {}))
        assert run(api.revoke(api.logout())) is True
        [call] = transport.calls
        assert call["method"] == "POST"
        assert call["url"] == BASE + "/api/auth/jwt/blacklist/"
        assert json.loads(call["body"]) == {"refresh": "R1"}
        assert "Authorization" not in call["headers"]

    @pytest.mark.parametrize("answer", [(404, {"detail": "Not found."}), (405, None), (401, {"detail": "bad"}),
                                        (500, None), NetworkError("offline")])
    def test_revoke_failing_in_any_way_is_quiet_and_never_ends_a_session(self, answer):
        api, transport, store, refresh, ended = client(answer)
        assert run(api.revoke(api.logout())) is False
        assert len(transport.calls) == 1
        assert store.values == {} and refresh.calls == 0 and ended == []


class TestMessagingCalls:
    def test_messages_default_page(self):
        api, transport, _, _, _ = client((200, {"results": [], "has_more": False}))
        assert run(api.messages(7)) == {"results": [], "has_more": False}
        assert transport.calls[0]["url"] == BASE + "/api/messaging/conversations/7/messages/?limit=50"

    def test_messages_before_and_after(self):
        api, transport, _, _, _ = client((200, {}), (200, {}))
        run(api.messages(7, limit=20, before=101))
        run(api.messages(7, after=120))
        assert transport.calls[0]["url"].endswith("/conversations/7/messages/?limit=20&before=101")
        assert transport.calls[1]["url"].endswith("/conversations/7/messages/?limit=50&after=120")

    def test_messages_limit_is_clamped_to_contract_range(self):
        api, transport, _, _, _ = client((200, {}), (200, {}))
        run(api.messages(1, limit=1000))
        run(api.messages(1, limit=0))
        assert transport.calls[0]["url"].endswith("?limit=200")
        assert transport.calls[1]["url"].endswith("?limit=1")

    def test_messages_rejects_before_and_after_together(self):
        api, _, _, _, _ = client()
        with pytest.raises(ValueError):
            run(api.messages(1, before=5, after=3))

    @pytest.mark.parametrize("cid", ["1/../../admin", -1, True, 1.5, None])
    def test_conversation_id_must_be_an_int(self, cid):
        api, transport, _, _, _ = client()
        with pytest.raises((TypeError, ValueError)):  # core/constants.py: TypeError for a non-int
            run(api.mark_read(cid))
        assert transport.calls == []

    def test_send_json_with_client_message_id(self):
        msg = {"id": 9, "content": "hi"}
        api, transport, _, _, _ = client((201, msg))
        assert run(api.send(4, "hi", "uuid-1")) == msg
        call = transport.calls[0]
        assert call["method"] == "POST"
        assert call["url"] == BASE + "/api/messaging/conversations/4/send/"
        assert call["headers"]["Content-Type"] == "application/json"
        assert json.loads(call["body"]) == {"content": "hi", "client_message_id": "uuid-1"}

    def test_send_without_client_message_id_omits_it(self):
        api, transport, _, _, _ = client((201, {}))
        run(api.send(4, "hi"))
        assert json.loads(transport.calls[0]["body"]) == {"content": "hi"}

    def test_send_form_is_passed_through_untouched_and_reused_on_retry(self):
        form = object()
        api, transport, _, _, _ = client((401, None), (201, {"id": 1}))
        run(api.send(4, "ignored", "uuid-2", form=form))
        assert [c["body"] for c in transport.calls] == [form, form]
        assert "Content-Type" not in transport.calls[0]["headers"]  # browser sets the boundary

    def test_mark_read_posts_without_body(self):
        api, transport, _, _, _ = client((200, {"marked_read": 3}))
        assert run(api.mark_read(2)) == {"marked_read": 3}
        call = transport.calls[0]
        assert (call["method"], call["url"], call["body"]) == (
            "POST",
            BASE + "/api/messaging/conversations/2/read/",
            None,
        )

    def test_unread_count_and_me_paths(self):
        api, transport, _, _, _ = client((200, {"unread_count": 1}), (200, {"id": 1}))
        run(api.unread_count())
        run(api.me())
        assert [c["url"] for c in transport.calls] == [
            BASE + "/api/messaging/unread-count/",
            BASE + "/api/auth/users/me/",
        ]

    def test_empty_api_base_gives_root_relative_urls(self):
        api, transport, _, _, _ = client((200, []), api_base="")
        run(api.conversations())
        assert transport.calls[0]["url"] == "/api/messaging/conversations/"

    def test_trailing_slash_on_api_base_is_not_doubled(self):
        api, transport, _, _, _ = client((200, []), api_base=BASE + "/")
        run(api.conversations())
        assert transport.calls[0]["url"] == BASE + "/api/messaging/conversations/"


class TestRefreshCall:
    def test_posts_refresh_token_and_returns_answer(self):
        transport = FakeTransport((200, {"access": "A2", "refresh": "R2"}))
        call = make_refresh_call(BASE, transport)
        assert run(call("R1")) == {"access": "A2", "refresh": "R2"}
        sent = transport.calls[0]
        assert sent["url"] == BASE + "/api/auth/jwt/refresh/"
        assert "Authorization" not in sent["headers"]
        assert json.loads(sent["body"]) == {"refresh": "R1"}

    @pytest.mark.parametrize("answer", [(401, {"detail": "Token is blacklisted"}), (400, None),
                                        (200, {"refresh": "R2"}), (200, None)])
    def test_rejection_or_bad_answer_is_auth_failed(self, answer):
        call = make_refresh_call(BASE, FakeTransport(answer))
        with pytest.raises(AuthFailed):
            run(call("R1"))

    def test_server_error_is_not_auth_failed(self):
        call = make_refresh_call(BASE, FakeTransport((502, None)))
        with pytest.raises(ApiError) as info:
            run(call("R1"))
        assert info.value.status == 502

    def test_offline_refresh_keeps_the_session(self):
        store = MemoryTokenStore()
        transport = FakeTransport(OSError("offline"))
        tokens = TokenManager(store, make_refresh_call(BASE, transport), lambda: NOW)
        tokens.set_tokens(jwt(exp_in=-5), "R1")
        with pytest.raises(NetworkError):
            run(tokens.get_access_token())
        assert store.get(REFRESH_KEY) == "R1"
