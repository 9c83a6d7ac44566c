"""Issue 6 item 9 (server side): access control and secrecy.

- Every REST call and the socket for a conversation the user is not part of: 403 / 4003,
  and the answer carries nothing but {"detail": ...}.
- A WebSocket handshake from another Origin is refused.
- Failed logins are rate limited (429).
- No token reaches the real server's log across a run of REST, socket and refused calls.
"""

import json

import plain_http
import pytest
from server_harness import bearer, login, new_conversation
from starlette.websockets import WebSocketDisconnect

BASE = "/api/messaging/conversations"


def tiny_png_bytes():
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


@pytest.fixture
def foreign(client):
    """(client, outsider access token, a conversation the outsider is not part of)."""
    conv = new_conversation(client, "insider@example.com", messages=5)
    outsider = login(client, "sam@example.com")
    return client, outsider["access"], conv["id"]


def calls(cid):
    return [
        ("GET", f"{BASE}/{cid}/messages/", {}),
        ("GET", f"{BASE}/{cid}/messages/?limit=200", {}),
        ("GET", f"{BASE}/{cid}/messages/?limit=5&before=999999", {}),
        ("GET", f"{BASE}/{cid}/messages/?limit=5&after=0", {}),
        ("POST", f"{BASE}/{cid}/send/", {"json": {"content": "let me in"}}),
        ("POST", f"{BASE}/{cid}/send/", {"json": {"content": "let me in", "client_message_id":
                                                  "00000000-0000-4000-8000-000000000000"}}),
        ("POST", f"{BASE}/{cid}/send/", {"data": {"content": "form"}}),
        ("POST", f"{BASE}/{cid}/send/", {"data": {"content": "img"}, "files": {"image": ("a.png", tiny_png_bytes(), "image/png")}}),
        ("POST", f"{BASE}/{cid}/read/", {}),
    ]


def test_every_rest_call_on_a_foreign_conversation_is_403_with_only_a_detail(foreign):
    client, access, cid = foreign
    answers = []
    for method, url, kw in calls(cid):
        response = client.request(method, url, headers=bearer(access), **kw)
        answers.append(response.status_code)
        assert response.status_code == 403, (method, url, response.status_code)
        body = response.json()
        assert list(body) == ["detail"] and isinstance(body["detail"], str)
        assert "insider" not in response.text and "let me in" not in response.text
    # Nothing was stored or marked read by the refused calls.
    owner = login(client)
    messages = client.get(f"{BASE}/{cid}/messages/?limit=200", headers=bearer(owner)).json()["results"]
    assert len(messages) == 5 and all(m["content"] not in ("let me in", "form", "img") for m in messages)
    print(f"FIGURE access_rest: calls={len(answers)} all_403={set(answers) == {403}} leaked_fields=0")


def test_the_socket_of_a_foreign_conversation_closes_4003_before_any_frame(foreign):
    client, access, cid = foreign
    insider = login(client, "insider@example.com")
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(f"/ws/messaging/{cid}/?token={access}") as socket:
            # Even with traffic in the conversation, nothing arrives before the close.
            client.post(f"{BASE}/{cid}/send/", json={"content": "secret"}, headers=bearer(insider))
            frame = socket.receive_text()
            pytest.fail(f"a frame leaked: {frame}")
    assert closed.value.code == 4003


def test_unknown_conversation_is_404_with_only_a_detail(client):
    access = login(client, "sam@example.com")["access"]
    response = client.get(f"{BASE}/987654/messages/", headers=bearer(access))
    assert response.status_code == 404 and list(response.json()) == ["detail"]


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://testserver.evil.example",
                                    "https://evil.example:443", "http://127.0.0.1:1"])
def test_a_handshake_from_another_origin_is_refused(client, origin):
    access = login(client)["access"]
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(f"/ws/messaging/1/?token={access}", headers={"origin": origin}) as socket:
            socket.receive_text()
    # ... while our own origin works.
    with client.websocket_connect(f"/ws/messaging/1/?token={access}", headers={"origin": "http://testserver"}) as s:
        s.send_json({"type": "ping"})
        assert s.receive_json() == {"type": "pong"}


def test_failed_logins_are_rate_limited_with_429(client):
    codes = [client.post("/api/auth/jwt/create/", json={"email": "coach@example.com", "password": f"no{i}"}).status_code
             for i in range(8)]
    limited = client.post("/api/auth/jwt/create/", json={"email": "coach@example.com", "password": "coach-pass"})
    first_429 = codes.index(429) + 1 if 429 in codes else None
    print(f"FIGURE login_rate_limit: failures_before_429={first_429 - 1 if first_429 else None} codes={codes}")
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 3
    assert limited.status_code == 429 and list(limited.json()) in (["detail"], ["detail", "retry_after"])


def test_no_token_reaches_the_real_server_log(live_server):
    server = live_server("--faults")
    tokens = server.login()
    access, refresh = tokens["access"], tokens["refresh"]
    plain_http.get(server.origin + "/api/messaging/conversations/", headers={"Authorization": "Bearer " + access})
    plain_http.post(server.origin + "/api/auth/jwt/refresh/", json={"refresh": refresh})
    plain_http.get(server.origin + f"/api/messaging/conversations/?token={access}")
    from websockets.sync.client import connect
    with connect(f"{server.ws_origin}/ws/messaging/1/?token={access}", origin=server.origin) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(5)) == {"type": "pong"}
    for bad in (f"/ws/messaging/999/?token={access}", f"/ws/messaging/1/?token={access}x"):
        try:
            with connect(server.ws_origin + bad, origin=server.origin) as ws:
                ws.recv(5)
        except Exception:
            pass
    try:
        with connect(f"{server.ws_origin}/ws/messaging/1/?token={access}", origin="http://evil.example"):
            pass
    except Exception:
        pass
    server.stop()
    logs = server.stdout() + server.stderr()
    found = sum(logs.count(t) for t in (access, refresh, access.split(".")[2], refresh.split(".")[2]))
    print(f"FIGURE token_in_server_log: occurrences={found} log_lines={len(logs.splitlines())}")
    assert found == 0
    assert "token=[redacted]" in logs
