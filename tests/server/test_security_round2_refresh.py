"""Issue 23 item 6: a refresh replayed inside the grace gets the same successor pair (no
second branch of the session), and refreshing is rate limited per session."""

from server_harness import bearer, login

REFRESH = "/api/auth/jwt/refresh/"
ME = "/api/auth/users/me/"


def refresh(client, token):
    return client.post(REFRESH, json={"refresh": token})


def test_a_replay_inside_the_grace_gets_the_same_successor_pair(client, clock):
    tokens = login(client)
    first = refresh(client, tokens["refresh"])
    clock.advance(3)
    again = refresh(client, tokens["refresh"])
    clock.advance(6.5)
    third = refresh(client, tokens["refresh"])
    assert first.status_code == again.status_code == third.status_code == 200
    assert first.json() == again.json() == third.json()
    # one branch: its successor rotates once; a second use of the successor later is reuse
    successor = first.json()["refresh"]
    assert refresh(client, successor).status_code == 200
    clock.advance(60)
    assert refresh(client, successor).status_code == 401
    assert client.get(ME, headers=bearer(first.json())).status_code == 401  # the session is revoked


def test_a_thief_replaying_inside_the_grace_shares_the_victims_branch(client, clock):
    tokens = login(client)
    victim = refresh(client, tokens["refresh"]).json()
    thief = refresh(client, tokens["refresh"]).json()
    assert thief == victim
    victim_next = refresh(client, victim["refresh"])  # the victim's tab carries on
    assert victim_next.status_code == 200
    clock.advance(30)
    assert refresh(client, thief["refresh"]).status_code == 401  # reuse: the whole session ends
    assert client.get(ME, headers=bearer(victim_next.json())).status_code == 401


def test_refresh_is_rate_limited_per_session(client, clock):
    tokens = login(client)
    other = login(client)  # another session of the same user is not limited by the first
    for _ in range(10):
        answer = refresh(client, tokens["refresh"])
        assert answer.status_code == 200
        tokens = answer.json()
        clock.advance(1)
    limited = refresh(client, tokens["refresh"])
    assert limited.status_code == 429 and set(limited.json()) == {"detail"}
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert refresh(client, other["refresh"]).status_code == 200
    clock.advance(int(limited.headers["retry-after"]))
    answer = refresh(client, tokens["refresh"])  # the token was not spent by the refused try
    assert answer.status_code == 200
