"""Issue 11 item 6: refresh-token rotation with reuse detection, an absolute session lifetime,
and a server-side logout (CONTRACT's optional POST /api/auth/jwt/blacklist/)."""

import pytest
from server_harness import bearer, login
from starlette.websockets import WebSocketDisconnect

REFRESH = "/api/auth/jwt/refresh/"
BLACKLIST = "/api/auth/jwt/blacklist/"
ME = "/api/auth/users/me/"


def refresh(client, token):
    return client.post(REFRESH, json={"refresh": token})


def test_a_rotated_refresh_token_is_refused_later_and_revokes_its_family(client, clock):
    first = login(client)
    second = refresh(client, first["refresh"]).json()
    assert set(second) == {"access", "refresh"} and second["refresh"] != first["refresh"]
    clock.advance(60)  # past the grace for simultaneous refreshes of two tabs
    stolen = refresh(client, first["refresh"])
    assert stolen.status_code == 401 and set(stolen.json()) == {"detail"}
    # the whole family is gone: the rotated token and its access token too
    assert refresh(client, second["refresh"]).status_code == 401
    assert client.get(ME, headers=bearer(second)).status_code == 401
    # another login (another family) is untouched
    other = login(client)
    assert refresh(client, other["refresh"]).status_code == 200


def test_two_tabs_refreshing_the_same_token_at_once_both_succeed(client, clock):
    tokens = login(client)
    one, two = refresh(client, tokens["refresh"]), refresh(client, tokens["refresh"])
    assert one.status_code == two.status_code == 200
    clock.advance(5)
    assert refresh(client, two.json()["refresh"]).status_code == 200


def test_a_session_ends_at_its_absolute_lifetime_however_often_it_refreshes(make_app, clock):
    from starlette.testclient import TestClient
    with TestClient(make_app(session_ttl=3600, refresh_ttl=1800)) as client:
        tokens = login(client)
        for _ in range(3):  # 3 x 1000 s: each refresh inside the refresh TTL
            clock.advance(1000)
            answer = refresh(client, tokens["refresh"])
            assert answer.status_code == 200
            tokens = answer.json()
        clock.advance(601)  # 3,601 s after the login
        assert refresh(client, tokens["refresh"]).status_code == 401
        assert client.get(ME, headers=bearer(tokens)).status_code == 401


def test_blacklist_revokes_the_session_server_side(client):
    tokens = login(client)
    kept = login(client)  # another login of the same user stays logged in
    with client.websocket_connect(f"/ws/messaging/1/?token={tokens['access']}") as socket:
        answer = client.post(BLACKLIST, json={"refresh": tokens["refresh"]})
        assert answer.status_code == 200 and answer.json() == {}
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4001
    assert refresh(client, tokens["refresh"]).status_code == 401
    assert client.get(ME, headers=bearer(tokens)).status_code == 401
    assert client.get(ME, headers=bearer(kept)).status_code == 200
    # a second logout with the same token: 401, like SimpleJWT's blacklisted token
    assert client.post(BLACKLIST, json={"refresh": tokens["refresh"]}).status_code == 401


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": 5}, {"refresh": "not.a.jwt"}])
def test_blacklist_with_a_bad_token_is_400_or_401(client, body):
    assert client.post(BLACKLIST, json=body).status_code in (400, 401)


def test_blacklist_refuses_an_access_token(client):
    tokens = login(client)
    assert client.post(BLACKLIST, json={"refresh": tokens["access"]}).status_code == 401
    assert client.get(ME, headers=bearer(tokens)).status_code == 200


def test_every_token_of_a_session_ends_with_the_session_row(client):
    """The session's end is checked on each use, not only baked into each token's exp."""
    tokens = login(client)
    store = client.app.state.ctx.store
    client.portal.call(store.db.execute, "UPDATE sessions SET expires_at = 0")  # ended (e.g. an admin cut it short)
    assert refresh(client, tokens["refresh"]).status_code == 401
    assert client.get(ME, headers=bearer(tokens)).status_code == 401
