"""Tokens when a refresh races a logout and a new login, what a logout hands back, and why a
session ends (each reason exactly as raised)."""
import asyncio
import base64
import json

import pytest

from core.tokens import ACCESS_KEY, REFRESH_KEY, MemoryTokenStore, SessionExpired, TokenManager, jwt_lifetime

NOW = 1_700_000_000.0


def token(tag, exp, iat=None):
    claims = {"exp": exp, "tag": tag}
    if iat is not None:
        claims["iat"] = iat
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"h.{payload}.s"


class Gate:
    """A refresh call that answers when the test opens the gate."""

    def __init__(self, answer):
        self.answer = answer
        self.opened = None

    async def __call__(self, refresh_token):
        self.opened = asyncio.get_running_loop().create_future()
        await self.opened
        return self.answer


def manager(refresh_call, store=None):
    store = store or MemoryTokenStore()
    return TokenManager(store, refresh_call, lambda: NOW), store


def test_a_refresh_started_before_a_logout_and_a_new_login_keeps_the_new_logins_token():
    old, new_login, late = token("old", NOW - 10), token("login", NOW + 600), token("late", NOW + 600)
    gate = Gate({"access": late})
    tm, store = manager(gate)
    tm.set_tokens(old, "R1")

    async def scenario():
        waiting = asyncio.ensure_future(tm.get_access_token())
        while gate.opened is None:  # until the refresh call is under way
            await asyncio.sleep(0)
        tm.clear()  # logout while the refresh is under way
        tm.set_tokens(new_login, "R2")  # and a new login
        gate.opened.set_result(None)
        return await waiting

    assert asyncio.run(scenario()) == new_login
    assert (store.get(ACCESS_KEY), store.get(REFRESH_KEY)) == (new_login, "R2")


def test_a_refresh_that_outlives_a_logout_says_why_the_session_ended():
    gate = Gate({"access": token("late", NOW + 600)})
    tm, _ = manager(gate)
    tm.set_tokens(token("old", NOW - 10), "R1")

    async def scenario():
        waiting = asyncio.ensure_future(tm.get_access_token())
        while gate.opened is None:  # until the refresh call is under way
            await asyncio.sleep(0)
        tm.clear()
        gate.opened.set_result(None)
        return await waiting

    with pytest.raises(SessionExpired, match="^logged out during refresh$"):
        asyncio.run(scenario())


def test_logout_hands_back_the_refresh_token_to_revoke_and_none_for_an_empty_one():
    tm, store = manager(None)
    tm.set_tokens(token("a", NOW + 600), "R1")
    assert tm.clear() == "R1"
    store.set(REFRESH_KEY, "")
    assert tm.clear() is None


def test_after_logout_a_token_is_judged_by_its_own_expiry():
    tm, _ = manager(None)
    access = token("a", NOW + 600)
    tm.set_tokens(access, "R1")
    tm.clear()
    assert tm.is_fresh(access) is True
    assert tm.is_fresh(token("b", NOW + 1)) is False


def test_an_access_token_alone_is_a_session():
    tm, store = manager(None)
    store.set(ACCESS_KEY, token("a", NOW + 600))
    assert tm.has_session() is True


def test_a_refreshed_token_is_fresh_for_its_lifetime_from_when_it_arrived_whatever_the_clocks_say():
    # The server's clock is 1,000 s behind ours: by our clock its token expired already.
    skewed = token("skewed", NOW - 700, iat=NOW - 1000)
    tm, _ = manager(lambda refresh: _answer({"access": skewed}))
    tm.set_tokens(token("old", NOW - 10), "R1")
    assert asyncio.run(tm.get_access_token()) == skewed
    assert tm.is_fresh(skewed) is True


def test_an_empty_rotated_refresh_token_keeps_the_old_one():
    tm, store = manager(lambda refresh: _answer({"access": token("new", NOW + 600), "refresh": ""}))
    tm.set_tokens(token("old", NOW - 10), "R1")
    asyncio.run(tm.get_access_token())
    assert store.get(REFRESH_KEY) == "R1"


@pytest.mark.parametrize("refresh_token, answer, why", [
    (None, None, "no refresh token"),
    ("R1", {"refresh": "R2"}, "refresh answer carried no access token"),
])
def test_each_way_a_session_ends_says_why(refresh_token, answer, why):
    tm, store = manager(lambda refresh: _answer(answer))
    store.set(ACCESS_KEY, token("old", NOW - 10))
    if refresh_token:
        store.set(REFRESH_KEY, refresh_token)
    with pytest.raises(SessionExpired, match=f"^{why}$"):
        asyncio.run(tm.get_access_token())


def test_a_rejected_refresh_says_so():
    from core.tokens import AuthFailed

    async def refuse(refresh):
        raise AuthFailed("401")
    tm, store = manager(refuse)
    tm.set_tokens(token("old", NOW - 10), "R1")
    with pytest.raises(SessionExpired, match="^refresh rejected$"):
        asyncio.run(tm.get_access_token())


def test_a_token_whose_exp_is_its_iat_has_no_lifetime():
    assert jwt_lifetime(token("t", NOW, iat=NOW)) is None
    assert jwt_lifetime(token("t", NOW + 1, iat=NOW)) == 1


async def _answer(value):
    return value
