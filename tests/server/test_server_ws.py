"""CONTRACT "WebSocket", through Starlette's TestClient (no network).

"Nothing else arrived" is checked by sending a ping and requiring the pong to be the next
frame: every socket's frames go out in order, so anything queued before would come first.
"""

import uuid

import jwt
import pytest
from server_harness import bearer, login, new_conversation
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

BASE = "/api/messaging/conversations"


def ws_url(conversation_id, token):
    return f"/ws/messaging/{conversation_id}/?token={token}"


def close_code_of(client, url):
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(url) as socket:
            socket.receive_json()
    return closed.value.code


def assert_nothing_pending(socket):
    socket.send_json({"type": "ping"})
    assert socket.receive_json() == {"type": "pong"}


def test_ping_is_answered_with_pong(client):
    with client.websocket_connect(ws_url(1, login(client)["access"])) as socket:
        socket.send_json({"type": "ping"})
        assert socket.receive_json() == {"type": "pong"}


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_bad_token_is_accepted_then_closed_4001(client, token):
    assert close_code_of(client, ws_url(1, token)) == 4001
    assert close_code_of(client, "/ws/messaging/1/") == 4001


def test_expired_token_closes_4001(client, clock):
    token = login(client)["access"]
    clock.advance(301)
    assert close_code_of(client, ws_url(1, token)) == 4001


def test_refresh_token_is_the_wrong_type_4001(client):
    assert close_code_of(client, ws_url(1, login(client)["refresh"])) == 4001


def test_token_for_a_deleted_user_closes_4001(client, clock):
    secret = client.app.state.ctx.tokens.secret
    ghost = jwt.encode({"token_type": "access", "user_id": 999, "exp": clock.now + 60, "iat": clock.now,
                        "jti": "g"}, secret, algorithm="HS256")
    assert close_code_of(client, ws_url(1, ghost)) == 4001


def test_non_participant_archived_and_missing_conversations_close_4003(client):
    sam = login(client, "sam@example.com")["access"]
    coach = login(client)["access"]
    assert close_code_of(client, ws_url(1, sam)) == 4003  # not Sam's
    assert close_code_of(client, ws_url(3, coach)) == 4003  # archived
    assert close_code_of(client, ws_url(999, coach)) == 4003  # missing
    assert close_code_of(client, ws_url(10**30, coach)) == 4003


@pytest.mark.parametrize("frame", ["not json", "[1,2]", '"ping"', "{}", '{"type": "dance"}',
                                   '{"type": "typing"}', '{"type": "typing", "is_typing": "yes"}', "{" * 5000])
def test_unknown_or_malformed_frames_are_ignored_and_the_socket_stays_open(client, frame):
    with client.websocket_connect(ws_url(1, login(client)["access"])) as socket:
        socket.send_text(frame)
        socket.send_bytes(b"\x00binary")
        assert_nothing_pending(socket)


def test_frame_over_64_kib_closes_1009(client):
    with client.websocket_connect(ws_url(1, login(client)["access"])) as socket:
        socket.send_text('{"type": "ping", "pad": "' + "x" * 65536 + '"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 1009


def test_frame_of_exactly_64_kib_is_fine(client):
    with client.websocket_connect(ws_url(1, login(client)["access"])) as socket:
        prefix = '{"type": "ping", "pad": "'
        socket.send_text(prefix + "x" * (65536 - len(prefix) - 2) + '"}')
        assert socket.receive_json() == {"type": "pong"}


def test_typing_goes_to_the_other_party_and_never_back_to_the_typer(client):
    coach, alex = login(client)["access"], login(client, "alex@example.com")["access"]
    with client.websocket_connect(ws_url(1, coach)) as coach_tab, \
            client.websocket_connect(ws_url(1, coach)) as coach_other_tab, \
            client.websocket_connect(ws_url(1, alex)) as alex_tab:
        coach_tab.send_json({"type": "typing", "is_typing": True})
        assert alex_tab.receive_json() == {"type": "typing_indicator", "user_id": 1, "is_typing": True}
        assert_nothing_pending(coach_tab)
        assert_nothing_pending(coach_other_tab)
        alex_tab.send_json({"type": "typing", "is_typing": False})
        assert coach_tab.receive_json() == {"type": "typing_indicator", "user_id": 2, "is_typing": False}
        assert coach_other_tab.receive_json() == {"type": "typing_indicator", "user_id": 2, "is_typing": False}
        assert_nothing_pending(alex_tab)


def test_a_send_reaches_every_connection_of_the_conversation_including_the_senders(client):
    coach, alex = login(client), login(client, "alex@example.com")
    with client.websocket_connect(ws_url(1, coach["access"])) as coach_tab, \
            client.websocket_connect(ws_url(1, alex["access"])) as alex_tab, \
            client.websocket_connect(ws_url(2, coach["access"])) as other_conversation:
        sent = client.post(f"{BASE}/1/send/", json={"content": "Nice splits!"}, headers=bearer(coach)).json()
        assert coach_tab.receive_json() == {"type": "new_message", "message": sent}
        assert alex_tab.receive_json() == {"type": "new_message", "message": sent}
        assert_nothing_pending(other_conversation)


def test_a_repeated_client_message_id_is_not_broadcast_again(client):
    coach = login(client)
    body = {"content": "once only", "client_message_id": str(uuid.uuid4())}
    with client.websocket_connect(ws_url(2, coach["access"])) as socket:
        first = client.post(f"{BASE}/2/send/", json=body, headers=bearer(coach))
        assert socket.receive_json()["message"]["id"] == first.json()["id"]
        again = client.post(f"{BASE}/2/send/", json=body, headers=bearer(coach))
        assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
        assert_nothing_pending(socket)


def test_a_read_that_marks_messages_broadcasts_a_read_receipt(client):
    coach = login(client)
    with client.websocket_connect(ws_url(1, login(client, "alex@example.com")["access"])) as alex_tab:
        client.post(f"{BASE}/1/read/", headers=bearer(coach))
        receipt = alex_tab.receive_json()
        assert receipt["type"] == "read_receipt" and receipt["reader_id"] == 1
        assert receipt["read_at"].endswith("Z")
        client.post(f"{BASE}/1/read/", headers=bearer(coach))  # marks nothing: no receipt
        assert_nothing_pending(alex_tab)


def test_socket_closes_4001_when_its_token_expires(make_app):
    with TestClient(make_app(clock=__import__("time").time, access_ttl=1)) as client:
        with client.websocket_connect(ws_url(1, login(client)["access"])) as socket:
            assert_nothing_pending(socket)
            with pytest.raises(WebSocketDisconnect) as closed:
                socket.receive_json()  # within about two seconds
    assert closed.value.code == 4001


def test_sockets_leave_the_group_when_closed(client):
    token = login(client)["access"]
    with client.websocket_connect(ws_url(1, token)) as socket:
        assert_nothing_pending(socket)
        assert client.get("/__faults/sockets").json() == {"open": {"1": 1}, "total": 1}
    new_conversation(client, "sync@example.com")  # one more round trip on the loop
    assert client.get("/__faults/sockets").json() == {"open": {}, "total": 0}


def test_origin_must_be_our_own_or_allowed(make_app):
    with TestClient(make_app(allowed_origins=["https://app.example"])) as client:
        token = login(client)["access"]
        for origin in ("http://testserver", "https://app.example", None):
            headers = {"origin": origin} if origin else {}
            with client.websocket_connect(ws_url(1, token), headers=headers) as socket:
                assert_nothing_pending(socket)
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(ws_url(1, token), headers={"origin": "http://evil.example"}):
                pass
        assert refused.value.code == 1000  # closed before accept: a real server answers 403
