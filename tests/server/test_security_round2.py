"""Issue 23 (security, second round), the small items: huge integers (4), unknown paths (7),
tokens in logs by the decoded key (8), 405 with Allow, strict UUIDs and lone surrogates in
forms (9, in part), and refresh replays and their rate (6)."""

import pytest
from server_harness import bearer, login
from starlette.websockets import WebSocketDisconnect

BASE = "/api/messaging/conversations"
HUGE = "9" * 4301  # over Python's 4,300-digit int<->str limit: int() and json.loads raise ValueError


# --- item 4: huge integers give 400/404/4003, never 500 ---------------------------------

@pytest.mark.parametrize("body", [
    '{"content": %s}' % HUGE,
    '{"content": "hi", "client_message_id": %s}' % HUGE,
    '{"content": "hi", "x": [1, {"y": %s}]}' % HUGE,
])
def test_a_huge_integer_in_a_json_send_is_400(client, body):
    coach = login(client)
    answer = client.post(f"{BASE}/2/send/", content=body.encode(),
                         headers={**bearer(coach), "content-type": "application/json"})
    assert answer.status_code == 400 and set(answer.json()) == {"detail"}


@pytest.mark.parametrize("path, body", [
    ("/api/auth/jwt/create/", '{"email": %s, "password": "x"}' % HUGE),
    ("/api/auth/jwt/refresh/", '{"refresh": %s}' % HUGE),
    ("/__faults/close", '{"conversation_id": %s, "code": 4000}' % HUGE),
    ("/__faults/conversation", '{"trainer_email": "coach@example.com", "trainee_email": "n@example.com", '
                               '"messages": %s}' % HUGE),
    ("/__faults/send_as", '{"email": "coach@example.com", "conversation_id": %s, "content": "x"}' % HUGE),
    ("/__faults/close", '{"conversation_id": %s, "code": 4000}' % ("9" * 40)),
])
def test_a_huge_integer_in_any_json_body_is_400(client, path, body):
    answer = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert answer.status_code == 400 and set(answer.json()) == {"detail"}


@pytest.mark.parametrize("method, suffix", [("GET", "messages/"), ("POST", "send/"), ("POST", "read/")])
@pytest.mark.parametrize("number", [HUGE, "0" * 4300 + "999", "9" * 20])
def test_a_huge_conversation_id_in_a_rest_path_is_404(client, method, suffix, number):
    coach = login(client)
    answer = client.request(method, f"{BASE}/{number}/{suffix}", headers=bearer(coach), json={"content": "x"})
    assert answer.status_code == 404 and answer.json() == {"detail": "Not found."}


@pytest.mark.parametrize("number", [HUGE, "9" * 20])
@pytest.mark.parametrize("slash", ["/", ""])
def test_a_huge_conversation_id_in_a_socket_path_closes_4003(client, number, slash):
    access = login(client)["access"]
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(f"/ws/messaging/{number}{slash}?token={access}") as socket:
            socket.receive_json()
    assert closed.value.code == 4003


@pytest.mark.parametrize("query", [f"limit={HUGE}", f"after={HUGE}", f"before={HUGE}", "limit=" + "9" * 20,
                                   f"after=-{HUGE}", f"limit=%20{HUGE}"])
def test_a_huge_page_query_is_400(client, query):
    coach = login(client)
    answer = client.get(f"{BASE}/2/messages/?{query}", headers=bearer(coach))
    assert answer.status_code == 400 and set(answer.json()) == {"detail"}


@pytest.mark.parametrize("length", [HUGE.encode(), b"\xb2"])
def test_a_content_length_int_cannot_parse_is_not_a_500(client, length):
    coach = login(client)
    answer = client.post(f"{BASE}/2/send/", content=b'{"content": "x"}',
                         headers={**bearer(coach), "content-type": "application/json", "content-length": length})
    assert answer.status_code < 500


# --- item 9 (in part): 405 with Allow, strict UUIDs, lone surrogates in form fields -----

@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/api/auth/jwt/create/", "POST"),
    ("PUT", "/api/auth/jwt/refresh/", "POST"),
    ("DELETE", "/api/auth/jwt/blacklist/", "POST"),
    ("POST", "/api/auth/users/me/", "GET, HEAD"),
    ("PATCH", "/api/messaging/conversations/", "GET, HEAD"),
    ("GET", f"{BASE}/2/send/", "POST"),
    ("DELETE", f"{BASE}/2/send/", "POST"),
    ("PUT", f"{BASE}/2/messages/", "GET, HEAD"),
    ("GET", f"{BASE}/2/read/", "POST"),
    ("HEAD", f"{BASE}/2/read/", "POST"),
    ("POST", "/api/messaging/unread-count/", "GET, HEAD"),
    ("POST", "/healthz", "GET, HEAD"),
    ("GET", "/__faults/reset", "POST"),
])
def test_a_method_a_path_does_not_take_is_405_with_allow(client, method, path, allow):
    answer = client.request(method, path)
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) == set(allow.split(", "))
    if method != "HEAD":
        assert answer.json() == {"detail": f'Method "{method}" not allowed.'}


@pytest.mark.parametrize("path", ["/api/nothing/", f"{BASE}/2/nothing/", "/no/such/page"])
def test_an_unknown_path_is_still_404_whatever_the_method(client, path):
    for method in ("GET", "POST", "DELETE"):
        assert client.request(method, path).status_code == 404, method


@pytest.mark.parametrize("bad", ["12345678-1234-1234-1234-123456789abc\n", "12345678-1234-1234-1234-123456789abcd",
                                 " 12345678-1234-1234-1234-123456789abc", "12345678-1234-1234-1234-123456789ab\u0661"])
def test_client_message_id_must_be_exactly_a_uuid(client, bad):
    coach = login(client)
    answer = client.post(f"{BASE}/2/send/", json={"content": "x", "client_message_id": bad}, headers=bearer(coach))
    assert answer.status_code == 400
    form = client.post(f"{BASE}/2/send/", data={"content": "x", "client_message_id": bad}, headers=bearer(coach))
    assert form.status_code == 400


def _multipart(fields: dict[str, bytes], charset: str | None, image: bytes | None = None) -> tuple[bytes, str]:
    parts = []
    for name, value in fields.items():
        parts.append(b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (name.encode(), value))
    if image is not None:
        parts.append(b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
                     b"Content-Type: image/png\r\n\r\n" + image + b"\r\n")
    content_type = "multipart/form-data; boundary=b" + (f"; charset={charset}" if charset else "")
    return b"".join(parts) + b"--b--\r\n", content_type


@pytest.mark.parametrize("field", ["content", "client_message_id"])
@pytest.mark.parametrize("charset, spelled", [("utf-7", b"+2AA-"), ("unicode_escape", b"\\ud800")])
@pytest.mark.parametrize("with_image", [False, True])
def test_a_lone_surrogate_in_a_form_field_is_400_and_leaves_no_file(make_app, tiny_png, field, charset, spelled,
                                                                     with_image):
    from starlette.testclient import TestClient
    app = make_app()
    with TestClient(app) as client:
        coach = login(client)
        fields = {"content": b"hi", "client_message_id": b"12345678-1234-1234-1234-123456789abc"}
        fields[field] = spelled if field == "content" else fields[field][:-4] + spelled
        body, content_type = _multipart(fields, charset, tiny_png if with_image else None)
        answer = client.post(f"{BASE}/2/send/", content=body, headers={**bearer(coach), "content-type": content_type})
        assert answer.status_code == 400, answer.text
        media = app.state.ctx.media_dir
        assert not media.exists() or list(media.iterdir()) == []

