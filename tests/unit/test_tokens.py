"""Token manager: reading exp, refreshing once for many callers, ending the session."""

import asyncio
import base64
import json

import pytest

from core.tokens import (
    ACCESS_KEY,
    REFRESH_KEY,
    AuthFailed,
    MemoryTokenStore,
    SessionExpired,
    TokenManager,
    jwt_exp,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(payload, header=None) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(payload).encode()),
            b64url(b"not-a-real-signature"),
        ]
    )


NOW = 1_700_000_000.0


class FakeClock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


class FakeRefresh:
    """Records refresh calls; answers with the next scripted result."""

    def __init__(self, *results, delay=0.0):
        self.results = list(results)
        self.calls = []
        self.delay = delay

    async def __call__(self, refresh_token):
        self.calls.append(refresh_token)
        if self.delay:
            await asyncio.sleep(self.delay)
        else:
            await asyncio.sleep(0)
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, BaseException):
            raise result
        return result


def manager(refresh, access=None, refresh_token="R1", margin=30, clock=None):
    store = MemoryTokenStore()
    ended = []
    tm = TokenManager(
        store,
        refresh,
        clock or FakeClock(),
        on_session_end=lambda: ended.append(True),
        margin=margin,
    )
    if access is not None:
        tm.set_tokens(access, refresh_token)
    elif refresh_token is not None:
        store.set(REFRESH_KEY, refresh_token)
    return tm, store, ended


# --- jwt_exp ---------------------------------------------------------------


class TestJwtExp:
    def test_reads_integer_exp_from_payload(self):
        assert jwt_exp(make_jwt({"exp": 1700000123, "user_id": 1})) == 1700000123.0

    def test_reads_float_exp(self):
        assert jwt_exp(make_jwt({"exp": 1700000123.5})) == 1700000123.5

    def test_payload_needing_padding_is_decoded(self):
        # payload lengths that are not a multiple of 4 once padding is stripped
        for extra in ["", "a", "ab", "abc"]:
            token = make_jwt({"exp": 42, "x": extra})
            assert jwt_exp(token) == 42.0

    def test_urlsafe_alphabet_is_used(self):
        # "?>?" encodes to "Pz4_" in base64url: a '_' that standard base64 rejects
        payload = {"exp": 7, "pad": "?>?>?>"}
        token = make_jwt(payload)
        assert "-" in token.split(".")[1] or "_" in token.split(".")[1]
        assert jwt_exp(token) == 7.0

    @pytest.mark.parametrize(
        "token",
        [
            None,
            123,
            b"a.b.c",
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            "a..c",
            "a.!!!!.c",
            "a." + b64url(b"not json") + ".c",
            "a." + b64url(b"\xff\xfe") + ".c",
            "a." + b64url(b"[1,2]") + ".c",
            "a." + b64url(b'"exp"') + ".c",
            make_jwt({"user_id": 1}),
            make_jwt({"exp": "1700000000"}),
            make_jwt({"exp": True}),
            make_jwt({"exp": None}),
            make_jwt({"exp": [1]}),
            "a." + b64url(b'{"exp": 1e400}') + ".c",
            "a." + b64url(b'{"exp": NaN}') + ".c",
            "a." + b64url(b"[" * 5000 + b"]" * 5000) + ".c",
            "x" * 20000,
        ],
    )
    def test_garbage_gives_none_and_never_raises(self, token):
        assert jwt_exp(token) is None


# --- TokenManager ----------------------------------------------------------


def fresh_access(ttl=300, tag="A"):
    return make_jwt({"exp": NOW + ttl, "user_id": 1, "tag": tag})


class TestGetAccessToken:
    def test_fresh_token_is_returned_without_refresh(self):
        refresh = FakeRefresh({"access": "never"})
        access = fresh_access(300)
        tm, _, _ = manager(refresh, access=access)
        assert asyncio.run(tm.get_access_token()) == access
        assert refresh.calls == []

    def test_token_inside_margin_is_refreshed(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new})
        tm, store, _ = manager(refresh, access=fresh_access(30))  # exactly margin: stale
        assert asyncio.run(tm.get_access_token()) == new
        assert refresh.calls == ["R1"]
        assert store.get(ACCESS_KEY) == new

    def test_token_just_outside_margin_is_kept(self):
        refresh = FakeRefresh({"access": "never"})
        access = fresh_access(31)
        tm, _, _ = manager(refresh, access=access)
        assert asyncio.run(tm.get_access_token()) == access
        assert refresh.calls == []

    def test_margin_is_measured_against_the_injected_clock(self):
        refresh = FakeRefresh({"access": fresh_access(999, tag="new")})
        clock = FakeClock()
        access = fresh_access(100)
        tm, _, _ = manager(refresh, access=access, clock=clock)
        assert asyncio.run(tm.get_access_token()) == access
        clock.now = NOW + 71  # 29 s left
        assert asyncio.run(tm.get_access_token()) != access
        assert refresh.calls == ["R1"]

    def test_expired_token_is_refreshed_before_use_AC4(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new})
        tm, _, _ = manager(refresh, access=fresh_access(-10))
        assert asyncio.run(tm.get_access_token()) == new

    def test_unreadable_token_is_refreshed(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new})
        tm, _, _ = manager(refresh, access="opaque-token")
        assert asyncio.run(tm.get_access_token()) == new
        assert refresh.calls == ["R1"]

    def test_missing_access_token_is_refreshed(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new})
        tm, _, _ = manager(refresh, access=None, refresh_token="R1")
        assert asyncio.run(tm.get_access_token()) == new

    def test_force_refresh_refreshes_a_fresh_token(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new})
        tm, _, _ = manager(refresh, access=fresh_access(300))
        assert asyncio.run(tm.get_access_token(force_refresh=True)) == new
        assert refresh.calls == ["R1"]


def issued(lifetime, at=NOW, tag="A"):
    """A token as a server issues it: iat when it was made, exp `lifetime` s later."""
    return make_jwt({"iat": at, "exp": at + lifetime, "user_id": 1, "tag": tag})


class TestStalenessFollowsTheTokensLifetime:
    """Bug 2: a fixed 30 s margin made every short-lived token stale on arrival: a storm of
    refreshes, one per API call. The margin follows exp - iat, and a token just received
    serves the calls that follow it."""

    def test_a_short_token_from_login_serves_the_calls_that_follow_it(self):
        refresh = FakeRefresh({"access": issued(6, tag="new")})
        clock = FakeClock()
        tm, _, _ = manager(refresh, access=issued(6), clock=clock)
        for second in (0, 1, 2, 3, 4, 5.3):
            clock.now = NOW + second
            asyncio.run(tm.get_access_token())
        assert refresh.calls == []
        clock.now = NOW + 5.5  # inside the last tenth of its life
        asyncio.run(tm.get_access_token())
        assert refresh.calls == ["R1"]

    def test_a_freshly_refreshed_short_token_serves_the_next_calls_without_another_refresh(self):
        clock = FakeClock(NOW + 10)
        new = issued(6, at=NOW + 10, tag="new")
        refresh = FakeRefresh({"access": new})
        tm, store, _ = manager(refresh, clock=clock)
        store.set(ACCESS_KEY, issued(6))  # stored before a reload; expired 4 s ago
        assert asyncio.run(tm.get_access_token()) == new
        clock.now = NOW + 10.1
        assert asyncio.run(tm.get_access_token()) == new
        assert asyncio.run(tm.get_access_token()) == new
        assert refresh.calls == ["R1"]

    def test_a_token_just_received_serves_even_when_this_clock_runs_ahead_of_the_servers(self):
        clock = FakeClock(NOW + 100)  # this machine is 100 s ahead; the token lives 60 s
        refresh = FakeRefresh({"access": issued(60, tag="new")})
        tm, _, _ = manager(refresh, access=issued(60), clock=clock)
        asyncio.run(tm.get_access_token())
        clock.now = NOW + 150  # 50 s after it arrived: more than its margin (6 s) left
        asyncio.run(tm.get_access_token())
        assert refresh.calls == []
        clock.now = NOW + 155  # 55 s after it arrived: within its last 6 s
        asyncio.run(tm.get_access_token())
        assert refresh.calls == ["R1"]

    def test_a_long_lived_token_keeps_the_30_s_margin(self):
        clock = FakeClock()
        refresh = FakeRefresh({"access": issued(3600, tag="new")})
        tm, _, _ = manager(refresh, access=issued(3600), clock=clock)
        clock.now = NOW + 3569
        asyncio.run(tm.get_access_token())
        assert refresh.calls == []
        clock.now = NOW + 3570
        asyncio.run(tm.get_access_token())
        assert refresh.calls == ["R1"]

    def test_a_stored_short_token_after_a_reload_is_judged_by_its_exp_and_lifetime(self):
        clock = FakeClock(NOW + 3)
        refresh = FakeRefresh({"access": issued(6, at=NOW + 3, tag="new")})
        tm, store, _ = manager(refresh, clock=clock)
        store.set(ACCESS_KEY, issued(6))  # left by the page before the reload: 3 s to live
        asyncio.run(tm.get_access_token())
        assert refresh.calls == []
        clock.now = NOW + 5.5
        asyncio.run(tm.get_access_token())
        assert refresh.calls == ["R1"]


class TestSharedRefresh:
    def test_ten_concurrent_callers_share_one_refresh(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new}, delay=0.01)
        tm, _, _ = manager(refresh, access=fresh_access(-1))

        async def main():
            return await asyncio.gather(*(tm.get_access_token() for _ in range(10)))

        assert asyncio.run(main()) == [new] * 10
        assert refresh.calls == ["R1"]

    def test_a_later_stale_token_triggers_a_new_refresh(self):
        first = fresh_access(-5, tag="first")  # already stale when it arrives
        second = fresh_access(300, tag="second")
        refresh = FakeRefresh({"access": first}, {"access": second})
        tm, _, _ = manager(refresh, access=fresh_access(-1))

        async def main():
            a = await tm.get_access_token()
            b = await tm.get_access_token()
            return a, b

        assert asyncio.run(main()) == (first, second)
        assert len(refresh.calls) == 2

    def test_cancelling_one_waiter_does_not_cancel_the_shared_refresh(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new}, delay=0.01)
        tm, store, _ = manager(refresh, access=fresh_access(-1))

        async def main():
            a = asyncio.ensure_future(tm.get_access_token())
            b = asyncio.ensure_future(tm.get_access_token())
            await asyncio.sleep(0)
            a.cancel()
            return await b

        assert asyncio.run(main()) == new
        assert store.get(ACCESS_KEY) == new
        assert refresh.calls == ["R1"]

    def test_rejected_token_causes_one_refresh_for_many_rejections(self):
        old = fresh_access(300, tag="old")
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new}, delay=0.01)
        tm, _, _ = manager(refresh, access=old)

        async def main():
            first = await asyncio.gather(*(tm.token_after_rejection(old) for _ in range(5)))
            later = await tm.token_after_rejection(old)  # already replaced
            return first, later

        first, later = asyncio.run(main())
        assert first == [new] * 5
        assert later == new
        assert refresh.calls == ["R1"]


class TestRotationAndFailure:
    def test_rotated_refresh_token_is_stored(self):
        new = fresh_access(300, tag="new")
        refresh = FakeRefresh({"access": new, "refresh": "R2"})
        tm, store, _ = manager(refresh, access=fresh_access(-1))
        asyncio.run(tm.get_access_token())
        assert store.get(REFRESH_KEY) == "R2"
        assert store.get(ACCESS_KEY) == new

    def test_answer_without_rotation_keeps_refresh_token(self):
        refresh = FakeRefresh({"access": fresh_access(300, tag="new")})
        tm, store, _ = manager(refresh, access=fresh_access(-1))
        asyncio.run(tm.get_access_token())
        assert store.get(REFRESH_KEY) == "R1"

    def test_rejected_refresh_clears_tokens_ends_session_once_and_raises(self):
        refresh = FakeRefresh(AuthFailed("401"), delay=0.01)
        tm, store, ended = manager(refresh, access=fresh_access(-1))

        async def main():
            return await asyncio.gather(
                *(tm.get_access_token() for _ in range(4)), return_exceptions=True
            )

        results = asyncio.run(main())
        assert all(isinstance(r, SessionExpired) for r in results)
        assert store.get(ACCESS_KEY) is None
        assert store.get(REFRESH_KEY) is None
        assert ended == [True]
        assert refresh.calls == ["R1"]
        assert tm.has_session() is False

    def test_after_session_end_further_calls_raise_without_second_notice(self):
        refresh = FakeRefresh(AuthFailed("401"))
        tm, _, ended = manager(refresh, access=fresh_access(-1))
        with pytest.raises(SessionExpired):
            asyncio.run(tm.get_access_token())
        with pytest.raises(SessionExpired):
            asyncio.run(tm.get_access_token())
        assert ended == [True]
        assert refresh.calls == ["R1"]  # no refresh token left to try

    def test_new_login_rearms_the_session_end_notice(self):
        refresh = FakeRefresh(AuthFailed("401"))
        tm, _, ended = manager(refresh, access=fresh_access(-1))
        with pytest.raises(SessionExpired):
            asyncio.run(tm.get_access_token())
        tm.set_tokens(fresh_access(-1), "R9")
        with pytest.raises(SessionExpired):
            asyncio.run(tm.get_access_token())
        assert ended == [True, True]
        assert refresh.calls == ["R1", "R9"]

    @pytest.mark.parametrize("answer", [{}, {"access": ""}, {"access": 5}, ["x"], None])
    def test_refresh_answer_without_access_ends_session(self, answer):
        refresh = FakeRefresh(answer)
        tm, store, ended = manager(refresh, access=fresh_access(-1))
        with pytest.raises(SessionExpired):
            asyncio.run(tm.get_access_token())
        assert store.values == {}
        assert ended == [True]

    def test_network_failure_during_refresh_keeps_the_session(self):
        class Offline(Exception):
            pass

        stale = fresh_access(-1)
        refresh = FakeRefresh(Offline())
        tm, store, ended = manager(refresh, access=stale)
        with pytest.raises(Offline):
            asyncio.run(tm.get_access_token())
        assert store.get(ACCESS_KEY) == stale
        assert store.get(REFRESH_KEY) == "R1"
        assert ended == []

    def test_no_refresh_token_ends_session(self):
        refresh = FakeRefresh({"access": "never"})
        tm, store, ended = manager(refresh, access=None, refresh_token=None)
        with pytest.raises(SessionExpired):
            asyncio.run(tm.get_access_token())
        assert refresh.calls == []
        assert ended == [True]

    def test_logout_during_refresh_is_not_undone(self):
        refresh = FakeRefresh({"access": fresh_access(300, tag="new")}, delay=0.01)
        tm, store, ended = manager(refresh, access=fresh_access(-1))

        async def main():
            pending = asyncio.ensure_future(tm.get_access_token())
            await asyncio.sleep(0)
            tm.clear()
            return await pending

        with pytest.raises(SessionExpired):
            asyncio.run(main())
        assert store.values == {}
        assert ended == []  # a deliberate logout is not "session expired"


class TestSessionBookkeeping:
    def test_set_tokens_stores_under_the_dashboard_keys(self):
        tm, store, _ = manager(FakeRefresh({}), access=None, refresh_token=None)
        tm.set_tokens("A", "R")
        assert store.values == {"access_token": "A", "refresh_token": "R"}
        assert tm.has_session() is True

    def test_clear_removes_both_and_does_not_notify(self):
        tm, store, ended = manager(FakeRefresh({}), access="A", refresh_token="R")
        tm.clear()
        assert store.values == {}
        assert tm.has_session() is False
        assert ended == []

    def test_refresh_token_alone_is_a_session(self):
        tm, _, _ = manager(FakeRefresh({}), access=None, refresh_token="R")
        assert tm.has_session() is True

    def test_failed_refresh_message_carries_no_token(self):
        secret = "R-SECRET-VALUE"
        refresh = FakeRefresh(AuthFailed("401"))
        tm, _, _ = manager(refresh, access="A-SECRET", refresh_token=secret)
        with pytest.raises(SessionExpired) as info:
            asyncio.run(tm.get_access_token())
        assert secret not in str(info.value)
        assert "A-SECRET" not in str(info.value)
