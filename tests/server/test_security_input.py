"""Issue 11 items 7 and 8: auth and fault routes take JSON only and no foreign Origin;
a lone UTF-16 surrogate is a 400, never a 500."""

import pytest
from server_harness import bearer, login

AUTH_POSTS = ["/api/auth/jwt/create/", "/api/auth/jwt/refresh/", "/api/auth/jwt/blacklist/"]
FAULT_POSTS = ["/__faults/reset", "/__faults/refuse", "/__faults/send_as", "/__faults/conversation"]


@pytest.mark.parametrize("path", AUTH_POSTS + FAULT_POSTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_routes_a_foreign_page_could_post_to_take_json_only(client, path, content_type):
    headers = {"content-type": content_type} if content_type else {}
    answer = client.post(path, content=b'{"email": "alex@example.com", "password": "x"}', headers=headers)
    assert answer.status_code == 415 and set(answer.json()) == {"detail"}


@pytest.mark.parametrize("path", AUTH_POSTS + FAULT_POSTS)
def test_a_foreign_origin_is_refused(client, path):
    answer = client.post(path, json={"email": "alex@example.com", "password": "x"},
                         headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403


def test_five_cross_site_posts_cannot_lock_an_account(client):
    for _ in range(6):
        client.post("/api/auth/jwt/create/", content=b'{"email": "alex@example.com", "password": "x"}',
                    headers={"content-type": "text/plain", "Origin": "https://evil.example"})
    login(client, "alex@example.com")  # not 429


def test_own_and_allowed_origins_may_log_in(make_app):
    from starlette.testclient import TestClient
    with TestClient(make_app(allowed_origins=["https://app.example"])) as client:
        for origin in ("http://testserver", "https://app.example"):
            answer = client.post("/api/auth/jwt/create/", json={"email": "coach@example.com",
                                                                "password": "coach-pass"}, headers={"Origin": origin})
            assert answer.status_code == 200, origin


LONE = '"\\ud800"'


@pytest.mark.parametrize("body", [
    '{"content": "a \\ud800 b"}', '{"content": "\\udfff"}', '{"content": "ok", "x": ["\\ud800"]}',
    '{"content": "ok", "\\ud800": 1}',
])
def test_lone_surrogate_in_a_message_is_400(client, body):
    coach = login(client)
    answer = client.post("/api/messaging/conversations/2/send/", content=body.encode(),
                         headers={**bearer(coach), "content-type": "application/json"})
    assert answer.status_code == 400 and "surrogate" in answer.json()["detail"]


@pytest.mark.parametrize("field", ["email", "password"])
def test_lone_surrogate_in_a_login_is_400(client, field):
    values = {"email": '"alex@example.com"', "password": '"alex-pass"'}
    values[field] = LONE
    body = '{"email": %s, "password": %s}' % (values["email"], values["password"])
    answer = client.post("/api/auth/jwt/create/", content=body.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 400


def test_a_valid_surrogate_pair_is_fine(client):
    coach = login(client)
    answer = client.post("/api/messaging/conversations/2/send/", content=b'{"content": "\\ud83d\\ude00"}',
                         headers={**bearer(coach), "content-type": "application/json"})
    assert answer.status_code == 201 and answer.json()["content"] == "\U0001F600"


def test_invalid_utf8_in_a_multipart_field_is_not_a_500(client):
    coach = login(client)
    body = (b"--b\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n\xed\xa0\x80 hi\r\n--b--\r\n")
    answer = client.post("/api/messaging/conversations/2/send/", content=body,
                         headers={**bearer(coach), "content-type": "multipart/form-data; boundary=b"})
    assert answer.status_code in (201, 400)
    if answer.status_code == 201:
        answer.json()["content"].encode("utf-8")  # whatever was stored is valid text
