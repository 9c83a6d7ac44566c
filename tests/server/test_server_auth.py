"""CONTRACT "Auth": login, refresh, users/me, Bearer checks and the failed-login limit."""

import jwt
import pytest
from server_harness import bearer, login

CREATE = "/api/auth/jwt/create/"
REFRESH = "/api/auth/jwt/refresh/"
ME = "/api/auth/users/me/"


def test_login_returns_access_and_refresh_jwts_with_exp_and_user_id(client, clock):
    tokens = login(client, "alex@example.com")
    access = jwt.decode(tokens["access"], options={"verify_signature": False})
    refresh = jwt.decode(tokens["refresh"], options={"verify_signature": False})
    assert access["token_type"] == "access" and refresh["token_type"] == "refresh"
    assert access["user_id"] == refresh["user_id"] == 2
    assert access["exp"] >= clock.now + 300 and access["exp"] <= clock.now + 301
    assert refresh["exp"] >= clock.now + 86400
    assert access["jti"] != refresh["jti"]


def test_login_email_is_case_insensitive(client):
    assert client.post(CREATE, json={"email": "Coach@Example.com", "password": "coach-pass"}).status_code == 200


@pytest.mark.parametrize("body", [
    {"email": "coach@example.com", "password": "wrong"},
    {"email": "nobody@example.com", "password": "coach-pass"},
])
def test_wrong_credentials_are_401_with_detail(client, body):
    response = client.post(CREATE, json=body)
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found with the given credentials"}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"", b'{"email": 5, "password": "x"}',
                                 b'{"email": "coach@example.com"}', b"\xff\xfe"])
def test_malformed_login_bodies_are_400(client, raw):
    response = client.post(CREATE, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_repeated_failed_logins_are_limited_with_429_then_reset_clears_it(client):
    body = {"email": "sam@example.com", "password": "bad"}
    assert [client.post(CREATE, json=body).status_code for _ in range(5)] == [401] * 5
    limited = client.post(CREATE, json=body)
    assert limited.status_code == 429
    assert "detail" in limited.json() and int(limited.headers["Retry-After"]) >= 1
    # Once limited, even the right password waits: otherwise the limit would still leak it.
    assert client.post(CREATE, json={"email": "sam@example.com", "password": "sam-pass"}).status_code == 429
    # Other accounts are not affected.
    login(client, "alex@example.com")
    assert client.post("/__faults/reset", json={}).status_code == 200
    login(client, "sam@example.com")


def test_failed_login_limit_expires_with_the_window(client, clock):
    body = {"email": "jo@example.com", "password": "bad"}
    for _ in range(5):
        client.post(CREATE, json=body)
    assert client.post(CREATE, json=body).status_code == 429
    clock.advance(301)
    login(client, "jo@example.com")


def test_successful_logins_are_never_limited(client):
    for _ in range(8):
        login(client, "coach@example.com")


def test_me_returns_user_with_email_and_role(client):
    response = client.get(ME, headers=bearer(login(client)))
    assert response.status_code == 200
    assert response.json() == {"id": 1, "first_name": "Casey", "last_name": "Coach", "profile_image": None,
                               "email": "coach@example.com", "role": "TRAINER"}
    alex = client.get(ME, headers=bearer(login(client, "alex@example.com"))).json()
    assert alex["role"] == "TRAINEE" and alex["first_name"] == "Alex"


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Basic abc"},
    {"Authorization": "Bearer not-a-jwt"},
])
def test_missing_or_garbage_bearer_is_401(client, headers):
    response = client.get(ME, headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_expired_access_token_is_401(client, clock):
    tokens = login(client)
    clock.advance(301)
    assert client.get(ME, headers=bearer(tokens)).status_code == 401


def test_refresh_token_is_not_an_access_token(client):
    tokens = login(client)
    assert client.get(ME, headers=bearer(tokens["refresh"])).status_code == 401


def test_token_signed_with_another_secret_is_401(client, clock):
    forged = jwt.encode({"token_type": "access", "user_id": 1, "exp": clock.now + 100, "iat": clock.now,
                         "jti": "x"}, "not-the-secret-" * 4, algorithm="HS256")
    assert client.get(ME, headers=bearer(forged)).status_code == 401


def test_refresh_gives_a_working_access_token_and_rotates_the_refresh(client, clock):
    tokens = login(client)
    clock.advance(301)  # the access token is now expired
    response = client.post(REFRESH, json={"refresh": tokens["refresh"]})
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"} and fresh["refresh"] != tokens["refresh"]
    assert client.get(ME, headers=bearer(fresh)).json()["id"] == 1
    assert client.post(REFRESH, json={"refresh": fresh["refresh"]}).status_code == 200


@pytest.mark.parametrize("make_token", [
    lambda tokens: tokens["access"],  # wrong type
    lambda tokens: "garbage",
    lambda tokens: tokens["refresh"][:-3] + "abc",  # bad signature
])
def test_refresh_with_bad_or_wrong_type_token_is_401(client, make_token):
    response = client.post(REFRESH, json={"refresh": make_token(login(client))})
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_refresh_with_expired_refresh_token_is_401(client, clock):
    tokens = login(client)
    clock.advance(86401)
    assert client.post(REFRESH, json={"refresh": tokens["refresh"]}).status_code == 401


@pytest.mark.parametrize("raw", [b"{", b"[]", b'{"refresh": 1}', b"{}"])
def test_malformed_refresh_bodies_are_400(client, raw):
    assert client.post(REFRESH, content=raw, headers={"Content-Type": "application/json"}).status_code == 400


def test_tokens_survive_a_restart_because_the_secret_is_in_the_database(make_app, clock):
    from starlette.testclient import TestClient
    with TestClient(make_app()) as first:
        tokens = login(first)
    with TestClient(make_app()) as second:
        assert second.get(ME, headers=bearer(tokens)).status_code == 200
