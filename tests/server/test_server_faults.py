"""The `/__faults/` controls: absent without --faults, and each one does what it says."""

import uuid

import pytest
from server_harness import bearer, login, new_conversation
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

BASE = "/api/messaging/conversations"
JSON = {"content-type": "application/json"}
CONTROLS = ["close", "refuse", "silent", "expire_tokens", "refresh", "lose_send_answers", "sockets", "reset",
            "conversation", "send_as"]


def ws_url(conversation_id, token):
    return f"/ws/messaging/{conversation_id}/?token={token}"


def pong_next(socket):
    socket.send_json({"type": "ping"})
    assert socket.receive_json() == {"type": "pong"}


@pytest.mark.parametrize("name", CONTROLS)
def test_controls_are_404_without_the_faults_flag(make_app, name):
    with TestClient(make_app(faults=False)) as client:
        assert client.post(f"/__faults/{name}", json={}).status_code == 404
        assert client.get(f"/__faults/{name}").status_code == 404


@pytest.mark.parametrize("name,body", [
    ("close", {"conversation_id": None}), ("close", {"conversation_id": "1", "code": 4000}),
    ("close", {"conversation_id": 1, "code": 999}), ("refuse", {"on": "yes"}), ("silent", {}),
    ("refresh", {"fail": 1}), ("lose_send_answers", {"count": -1}), ("lose_send_answers", {"count": True}),
    ("conversation", {"trainer_email": "alex@example.com", "trainee_email": "x@example.com"}),
    ("conversation", {"trainer_email": "coach@example.com", "trainee_email": "coach@example.com"}),
    ("conversation", {"trainer_email": "coach@example.com", "trainee_email": "n@example.com", "messages": "3"}),
    ("send_as", {"email": "coach@example.com", "conversation_id": 1}),
])
def test_malformed_controls_are_400(client, name, body):
    response = client.post(f"/__faults/{name}", json=body)
    assert response.status_code == 400
    assert client.post(f"/__faults/{name}", content=b"{oops", headers=JSON).status_code == 400
    assert client.post(f"/__faults/{name}", content=b"{}", headers={"content-type": "text/plain"}).status_code == 415


def test_conversation_creates_an_isolated_conversation_and_a_trainee_who_can_log_in(client):
    created = client.post("/__faults/conversation", json={
        "trainer_email": "coach@example.com", "trainee_email": "newbie@example.com",
        "first_name": "New", "last_name": "Bie", "messages": 4})
    assert created.status_code == 201
    body = created.json()
    assert body["trainee"]["first_name"] == "New" and body["trainer"]["id"] == 1
    assert body["unread_count"] == 0 and body["is_archived"] is False and body["last_message_at"]
    newbie = login(client, "newbie@example.com")
    results = client.get(f"{BASE}/{body['id']}/messages/", headers=bearer(newbie)).json()["results"]
    assert [m["sender"]["id"] for m in results] == [1, body["trainee"]["id"]] * 2
    assert all(m["is_read"] for m in results)
    again = new_conversation(client, "newbie@example.com", archived=True)
    assert again["id"] != body["id"] and again["is_archived"] is True


def test_send_as_goes_through_the_real_send_path(client):
    coach = login(client)
    with client.websocket_connect(ws_url(1, coach["access"])) as socket:
        response = client.post("/__faults/send_as", json={"email": "alex@example.com", "conversation_id": 1,
                                                          "content": "from the test"})
        assert response.status_code == 201
        assert socket.receive_json() == {"type": "new_message", "message": response.json()}
    assert client.post("/__faults/send_as", json={"email": "sam@example.com", "conversation_id": 1,
                                                  "content": "x"}).status_code == 403
    assert client.post("/__faults/send_as", json={"email": "coach@example.com", "conversation_id": 3,
                                                  "content": "x"}).status_code == 403


def test_sockets_counts_open_sockets_per_conversation(client):
    coach = login(client)["access"]
    with client.websocket_connect(ws_url(1, coach)) as a, client.websocket_connect(ws_url(1, coach)) as b, \
            client.websocket_connect(ws_url(2, coach)) as c:
        for socket in (a, b, c):
            pong_next(socket)
        assert client.get("/__faults/sockets").json() == {"open": {"1": 2, "2": 1}, "total": 3}


def test_close_closes_one_conversations_sockets_with_the_code(client):
    coach = login(client)["access"]
    with client.websocket_connect(ws_url(1, coach)) as one, client.websocket_connect(ws_url(2, coach)) as two:
        pong_next(one)
        pong_next(two)
        assert client.post("/__faults/close", json={"conversation_id": 1, "code": 1011}).json() == {"closed": 1}
        with pytest.raises(WebSocketDisconnect) as closed:
            one.receive_json()
        assert closed.value.code == 1011
        pong_next(two)


def test_close_all_sockets(client):
    coach = login(client)["access"]
    with client.websocket_connect(ws_url(1, coach)) as one, client.websocket_connect(ws_url(2, coach)) as two:
        pong_next(one)
        pong_next(two)
        assert client.post("/__faults/close", json={"conversation_id": None, "code": 4000}).json() == {"closed": 2}
        for socket in (one, two):
            with pytest.raises(WebSocketDisconnect) as closed:
                socket.receive_json()
            assert closed.value.code == 4000


def test_refuse_rejects_handshakes_until_turned_off(client):
    coach = login(client)["access"]
    client.post("/__faults/refuse", json={"on": True})
    with pytest.raises(WebSocketDisconnect):  # closed before accept (a real server answers 403)
        with client.websocket_connect(ws_url(1, coach)):
            pass
    client.post("/__faults/refuse", json={"on": False})
    with client.websocket_connect(ws_url(1, coach)) as socket:
        pong_next(socket)


def test_silent_sockets_send_nothing_and_stay_open(client):
    coach = login(client)
    hub = client.app.state.ctx.hub
    with client.websocket_connect(ws_url(1, coach["access"])) as before:
        pong_next(before)
        client.post("/__faults/silent", json={"on": True})
        with client.websocket_connect(ws_url(1, coach["access"])) as during:
            client.post("/__faults/silent", json={"on": False})
            with client.websocket_connect(ws_url(1, coach["access"])) as after:
                before.send_json({"type": "ping"})
                during.send_json({"type": "ping"})
                during.send_json({"type": "typing", "is_typing": True})
                client.post(f"{BASE}/1/send/", json={"content": "anyone?"}, headers=bearer(coach))
                # A socket opened after "off" works, and hears nothing from the silent ones.
                assert after.receive_json()["type"] == "new_message"
                pong_next(after)
                # The one open when silence began and the one opened during it stay silent, and open.
                assert sorted(conn.silent for conn in hub.connections(1)) == [False, True, True]
                assert client.get("/__faults/sockets").json()["total"] == 3
                # No close frame goes out on a silent link either; only the working socket closes.
                assert client.post("/__faults/close", json={"conversation_id": 1, "code": 4000}).json() == \
                    {"closed": 1}
                with pytest.raises(WebSocketDisconnect):
                    after.receive_json()


def test_silent_socket_is_quiet_even_about_a_bad_token(client):
    client.post("/__faults/silent", json={"on": True})
    with client.websocket_connect(ws_url(1, "bad")) as socket:
        socket.send_json({"type": "ping"})
    client.post("/__faults/silent", json={"on": False})
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(ws_url(1, "bad")) as socket:
            socket.receive_json()
    assert closed.value.code == 4001


def test_expire_tokens_invalidates_issued_access_tokens_but_refresh_still_works(client, clock):
    tokens = login(client)
    with client.websocket_connect(ws_url(1, tokens["access"])) as socket:
        pong_next(socket)
        clock.advance(0.001)
        assert client.post("/__faults/expire_tokens", json={}).json() == {"ok": True, "closed": 1}
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4001
    assert client.get("/api/auth/users/me/", headers=bearer(tokens)).status_code == 401
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(ws_url(1, tokens["access"])) as socket:
            socket.receive_json()
    assert refused.value.code == 4001
    clock.advance(0.001)
    fresh = client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}).json()
    assert client.get("/api/auth/users/me/", headers=bearer(fresh)).status_code == 200
    with client.websocket_connect(ws_url(1, fresh["access"])) as socket:
        pong_next(socket)


def test_expire_tokens_can_leave_sockets_open(client, clock):
    tokens = login(client)
    with client.websocket_connect(ws_url(1, tokens["access"])) as socket:
        clock.advance(0.001)
        assert client.post("/__faults/expire_tokens", json={"close_sockets": False}).json()["closed"] == 0
        pong_next(socket)


def test_refresh_fault_makes_refresh_401_until_off(client):
    tokens = login(client)
    client.post("/__faults/refresh", json={"fail": True})
    assert client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}).status_code == 401
    client.post("/__faults/refresh", json={"fail": False})
    assert client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}).status_code == 200


@pytest.mark.parametrize("broadcast", [True, False])
def test_lose_send_answers_stores_but_answers_504(client, broadcast):
    coach = login(client)
    convo = new_conversation(client, f"lost{broadcast}@example.com")
    with client.websocket_connect(ws_url(convo["id"], coach["access"])) as socket:
        client.post("/__faults/lose_send_answers", json={"count": 2, "broadcast": broadcast})
        body = {"content": "did it arrive?", "client_message_id": str(uuid.uuid4())}
        lost = client.post(f"{BASE}/{convo['id']}/send/", json=body, headers=bearer(coach))
        assert lost.status_code == 504 and lost.json() == {"detail": "gateway timeout"}
        if broadcast:
            assert socket.receive_json()["message"]["content"] == "did it arrive?"
        pong_next(socket)
        # Invalid sends do not use up a lost answer.
        assert client.post(f"{BASE}/{convo['id']}/send/", json={"content": ""},
                           headers=bearer(coach)).status_code == 400
        assert client.post(f"{BASE}/{convo['id']}/send/", json=body, headers=bearer(coach)).status_code == 504
        retry = client.post(f"{BASE}/{convo['id']}/send/", json=body, headers=bearer(coach))
        assert retry.status_code == 200 and retry.json()["content"] == "did it arrive?"
        stored = client.get(f"{BASE}/{convo['id']}/messages/", headers=bearer(coach)).json()["results"]
        assert [m["content"] for m in stored] == ["did it arrive?"]
        pong_next(socket)


def test_reset_turns_every_fault_off(client):
    tokens = login(client)
    for name, body in [("refuse", {"on": True}), ("silent", {"on": True}), ("refresh", {"fail": True}),
                       ("lose_send_answers", {"count": 5, "broadcast": False})]:
        client.post(f"/__faults/{name}", json=body)
    for _ in range(6):
        client.post("/api/auth/jwt/create/", json={"email": "alex@example.com", "password": "no"})
    assert client.post("/__faults/reset", json={}).json() == {"ok": True}
    assert client.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}).status_code == 200
    assert client.post(f"{BASE}/2/send/", json={"content": "ok"}, headers=bearer(tokens)).status_code == 201
    login(client, "alex@example.com")
    with client.websocket_connect(ws_url(1, tokens["access"])) as socket:
        pong_next(socket)
