"""Issue 23 item 6 (the rest): refreshing is limited per address group as well as per
session, and rotated refresh rows are pruned while reuse detection keeps working."""

from __future__ import annotations

import jwt
from server_harness import bearer, login, run_app

REFRESH = "/api/auth/jwt/refresh/"
LOGIN = "/api/auth/jwt/create/"
BLACKLIST = "/api/auth/jwt/blacklist/"
ME = "/api/auth/users/me/"
COACH = {"email": "coach@example.com", "password": "coach-pass"}


def session_of(tokens: dict) -> str:
    return jwt.decode(tokens["refresh"], options={"verify_signature": False})["sid"]


def refresh_rows(client, session_id: str) -> int:
    row = client.portal.call(client.app.state.ctx.store.db.fetch_one,
                             "SELECT COUNT(*) AS n FROM refresh_tokens WHERE session_id = ?", (session_id,))
    return int(row["n"])


# --- per address ----------------------------------------------------------------------------

def test_refresh_is_limited_per_address_whatever_the_tokens(make_app, clock):
    async def scenario(browsers, ctx):
        tokens = (await browsers.at("192.0.2.1").post(LOGIN, json=COACH)).json()
        attacker = browsers.at("203.0.113.7")
        junk = [(await attacker.post(REFRESH, json={"refresh": f"junk{i}"})).status_code for i in range(60)]
        limited = await attacker.post(REFRESH, json={"refresh": tokens["refresh"]})
        same_64 = await browsers.at("2001:db8:5:6::1").post(REFRESH, json={"refresh": "junk"})
        elsewhere = await browsers.at("198.51.100.2").post(REFRESH, json={"refresh": "junk"})
        clock.advance(float(limited.headers["retry-after"]))
        later = await attacker.post(REFRESH, json={"refresh": tokens["refresh"]})  # not spent by the refusal
        return junk, limited, same_64.status_code, elsewhere.status_code, later
    junk, limited, same_64, elsewhere, later = run_app(make_app(), scenario)
    assert junk == [401] * 60
    assert limited.status_code == 429 and set(limited.json()) == {"detail"}
    assert limited.headers["retry-after"] == "1"  # 60 at once, then 1 per second
    assert same_64 == 401 and elsewhere == 401
    assert later.status_code == 200 and set(later.json()) == {"access", "refresh"}


def test_many_sessions_from_one_address_share_its_refresh_allowance(make_app):
    async def scenario(browsers, ctx):
        home = browsers.at("203.0.113.7")
        sessions = [(await home.post(LOGIN, json=COACH)).json() for _ in range(70)]
        return [(await home.post(REFRESH, json={"refresh": s["refresh"]})).status_code for s in sessions]
    answers = run_app(make_app(), scenario)
    assert answers == [200] * 60 + [429] * 10


def test_an_ipv6_64_shares_one_refresh_allowance(make_app):
    async def scenario(browsers, ctx):
        for i in range(60):
            await browsers.at(f"2001:db8:7:8::{i + 1:x}").post(REFRESH, json={"refresh": "junk"})
        return ((await browsers.at("2001:db8:7:8:ffff::1").post(REFRESH, json={"refresh": "junk"})).status_code,
                (await browsers.at("2001:db8:7:9::1").post(REFRESH, json={"refresh": "junk"})).status_code)
    assert run_app(make_app(), scenario) == (429, 401)


# --- pruning -----------------------------------------------------------------------------------

def test_rotation_prunes_used_rows_and_a_pruned_token_still_revokes_its_session(client, clock):
    first = login(client)
    session_id = session_of(first)
    tokens = first
    for _ in range(30):
        clock.advance(31)
        answer = client.post(REFRESH, json={"refresh": tokens["refresh"]})
        assert answer.status_code == 200
        tokens = answer.json()
    # kept: the rows used in the last 120 s (4 rotations 31 s apart) and the unused newest one
    assert refresh_rows(client, session_id) == 5
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    stolen = client.post(REFRESH, json={"refresh": first["refresh"]})  # its row was pruned long ago
    assert stolen.status_code == 401 and set(stolen.json()) == {"detail"}
    assert client.get(ME, headers=bearer(tokens)).status_code == 401  # the whole session ended
    assert client.post(REFRESH, json={"refresh": tokens["refresh"]}).status_code == 401
    assert refresh_rows(client, session_id) == 0


def test_a_burst_of_rotations_leaves_a_bounded_number_of_rows(client, clock):
    tokens = login(client)
    session_id = session_of(tokens)
    answers = []
    for _ in range(100):  # the probe's 100 rotations at once
        answer = client.post(REFRESH, json={"refresh": tokens["refresh"]})
        answers.append(answer.status_code)
        if answer.status_code == 200:
            tokens = answer.json()
    assert answers == [200] * 10 + [429] * 90
    assert refresh_rows(client, session_id) == 11
    for _ in range(20):  # an hour later, rotating now and then
        clock.advance(180)
        tokens = client.post(REFRESH, json={"refresh": tokens["refresh"]}).json()
    assert refresh_rows(client, session_id) == 2  # the last one used (120 s are kept) and the newest


def test_logout_deletes_the_sessions_refresh_rows(client):
    tokens = login(client)
    session_id = session_of(tokens)
    tokens = client.post(REFRESH, json={"refresh": tokens["refresh"]}).json()
    assert refresh_rows(client, session_id) == 2
    assert client.post(BLACKLIST, json={"refresh": tokens["refresh"]}).status_code == 200
    assert refresh_rows(client, session_id) == 0
    assert client.post(REFRESH, json={"refresh": tokens["refresh"]}).status_code == 401
