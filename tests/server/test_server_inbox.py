"""CONTRACT "Inbox socket" (`/ws/inbox/?token=`), through Starlette's TestClient.

What arrived is read up to a pong: send a ping and take the frames before the pong (a
socket's frames go out in order, so everything queued earlier comes first). No read can
wait for a frame that never comes.
"""

import json
import uuid

import pytest
from server_harness import arrived, bearer, login
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.auth import SESSION_REVOKED
from server.context import Limits

BASE = "/api/messaging/conversations"
ALEX_CHAT, SAM_CHAT = 1, 2


def inbox_url(token):
    return f"/ws/inbox/?token={token}"


def assert_nothing_pending(socket):
    assert arrived(socket) == []


def close_code_of(client, url, **kwargs):
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(url, **kwargs) as socket:
            socket.receive_json()
    return closed.value.code


def send(client, tokens, conversation_id, content, client_message_id=None):
    body = {"content": content}
    if client_message_id:
        body["client_message_id"] = client_message_id
    return client.post(f"{BASE}/{conversation_id}/send/", json=body, headers=bearer(tokens))


def test_ping_is_answered_with_pong(client):
    with client.websocket_connect(inbox_url(login(client)["access"])) as inbox:
        assert_nothing_pending(inbox)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_bad_token_is_accepted_then_closed_4001(client, token):
    assert close_code_of(client, inbox_url(token)) == 4001
    assert close_code_of(client, "/ws/inbox/") == 4001


def test_expired_and_refresh_tokens_close_4001(client, clock):
    tokens = login(client)
    assert close_code_of(client, inbox_url(tokens["refresh"])) == 4001
    clock.advance(301)
    assert close_code_of(client, inbox_url(tokens["access"])) == 4001


def test_a_new_message_reaches_both_participants_inboxes_and_no_one_else(client):
    coach, alex, sam = login(client), login(client, "alex@example.com"), login(client, "sam@example.com")
    with client.websocket_connect(inbox_url(coach["access"])) as coach_inbox, \
            client.websocket_connect(inbox_url(alex["access"])) as alex_inbox, \
            client.websocket_connect(inbox_url(sam["access"])) as sam_inbox:
        answer = send(client, alex, ALEX_CHAT, "Long run done")
        assert answer.status_code == 201
        message = answer.json()
        assert arrived(coach_inbox) == [{"type": "new_message", "message": message}]
        assert arrived(alex_inbox) == [{"type": "new_message", "message": message}]
        assert message["conversation_id"] == ALEX_CHAT
        assert_nothing_pending(sam_inbox)


def test_messages_of_every_conversation_arrive_on_one_inbox(client):
    coach, alex, sam = login(client), login(client, "alex@example.com"), login(client, "sam@example.com")
    with client.websocket_connect(inbox_url(coach["access"])) as inbox:
        first = send(client, alex, ALEX_CHAT, "one").json()
        second = send(client, sam, SAM_CHAT, "two").json()
        assert [event["message"]["id"] for event in arrived(inbox)] == [first["id"], second["id"]]


def test_a_read_names_its_conversation_on_the_inbox(client):
    coach, alex = login(client), login(client, "alex@example.com")
    with client.websocket_connect(inbox_url(alex["access"])) as alex_inbox:
        answer = client.post(f"{BASE}/{ALEX_CHAT}/read/", headers=bearer(coach))
        assert answer.json()["marked_read"] > 0
        [event] = arrived(alex_inbox)
        assert event["type"] == "read_receipt"
        assert event["conversation_id"] == ALEX_CHAT
        assert event["reader_id"] == client.get("/api/auth/users/me/", headers=bearer(coach)).json()["id"]
        assert isinstance(event["read_at"], str)
        # Nothing more to mark: no second receipt.
        assert client.post(f"{BASE}/{ALEX_CHAT}/read/", headers=bearer(coach)).json()["marked_read"] == 0
        assert_nothing_pending(alex_inbox)


def test_a_focus_frame_leaves_that_conversations_events_out_of_this_inbox_only(client):
    """CONTRACT "Inbox socket", optional `focus`: the page holds the chat's own socket, so its
    new messages and read receipts reach the page once; other conversations, and the user's
    other inboxes, are unchanged; `null` leaves nothing out again."""
    coach, alex, sam = login(client), login(client, "alex@example.com"), login(client, "sam@example.com")
    with client.websocket_connect(inbox_url(coach["access"])) as focused, \
            client.websocket_connect(inbox_url(coach["access"])) as other_tab:
        focused.send_json({"type": "focus", "conversation_id": ALEX_CHAT})
        assert_nothing_pending(focused)  # the frame has no answer
        in_focus = send(client, alex, ALEX_CHAT, "in the open chat").json()
        assert client.post(f"{BASE}/{ALEX_CHAT}/read/", headers=bearer(coach)).json()["marked_read"] > 0
        elsewhere = send(client, sam, SAM_CHAT, "another chat").json()
        assert arrived(focused) == [{"type": "new_message", "message": elsewhere}]
        assert [e["type"] for e in arrived(other_tab)] == ["new_message", "read_receipt", "new_message"]

        focused.send_json({"type": "focus", "conversation_id": None})
        again = send(client, alex, ALEX_CHAT, "chat closed").json()
        assert arrived(focused) == [{"type": "new_message", "message": again}]
        assert in_focus["id"] < again["id"]


@pytest.mark.parametrize("frame", [{"type": "focus"}, {"type": "focus", "conversation_id": "1"},
                                   {"type": "focus", "conversation_id": True}, {"type": "focus", "conversation_id": 0},
                                   {"type": "focus", "conversation_id": 2**63}, {"type": "focus", "conversation_id": 1.0}])
def test_a_malformed_focus_is_ignored(client, frame):
    coach, alex = login(client), login(client, "alex@example.com")
    with client.websocket_connect(inbox_url(coach["access"])) as inbox:
        inbox.send_json({"type": "focus", "conversation_id": ALEX_CHAT})
        inbox.send_json(frame)  # does not replace the focus, does not close the socket
        send(client, alex, ALEX_CHAT, "left out")
        assert_nothing_pending(inbox)
        inbox.send_json({"type": "focus", "conversation_id": None})
        kept = send(client, alex, ALEX_CHAT, "kept").json()
        assert arrived(inbox) == [{"type": "new_message", "message": kept}]


def test_a_focus_on_a_chat_socket_changes_nothing(client):
    coach, alex = login(client), login(client, "alex@example.com")
    with client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={coach['access']}") as chat, \
            client.websocket_connect(inbox_url(coach["access"])) as inbox:
        chat.send_json({"type": "focus", "conversation_id": ALEX_CHAT})
        message = send(client, alex, ALEX_CHAT, "both").json()
        assert arrived(chat) == [{"type": "new_message", "message": message}]
        assert arrived(inbox) == [{"type": "new_message", "message": message}]


def test_an_idempotent_repeat_notifies_no_inbox(client):
    coach, alex = login(client), login(client, "alex@example.com")
    client_message_id = str(uuid.uuid4())
    with client.websocket_connect(inbox_url(coach["access"])) as inbox:
        assert send(client, alex, ALEX_CHAT, "once", client_message_id).status_code == 201
        assert len(arrived(inbox)) == 1
        assert send(client, alex, ALEX_CHAT, "once", client_message_id).status_code == 200
        assert_nothing_pending(inbox)


def test_typing_never_travels_over_an_inbox(client):
    coach, alex = login(client), login(client, "alex@example.com")
    with client.websocket_connect(inbox_url(coach["access"])) as coach_inbox, \
            client.websocket_connect(inbox_url(alex["access"])) as alex_inbox, \
            client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={alex['access']}") as alex_chat:
        alex_chat.send_json({"type": "typing", "is_typing": True})
        alex_inbox.send_json({"type": "typing", "is_typing": True})
        assert_nothing_pending(alex_chat)
        assert_nothing_pending(coach_inbox)
        assert_nothing_pending(alex_inbox)


def test_inbox_sockets_count_toward_the_per_user_socket_cap(make_app):
    with TestClient(make_app(limits=Limits(max_sockets_per_user=2))) as client:
        token = login(client)["access"]
        with client.websocket_connect(inbox_url(token)) as first, \
                client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={token}") as second:
            assert close_code_of(client, inbox_url(token)) == 1013
            assert_nothing_pending(first)
            assert_nothing_pending(second)
        # Closed sockets give their place back.
        with client.websocket_connect(inbox_url(token)) as again:
            assert_nothing_pending(again)


def test_a_foreign_origin_is_refused_at_the_handshake(client):
    token = login(client)["access"]
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(inbox_url(token), headers={"origin": "http://evil.example"}) as socket:
            socket.receive_json()


def test_logout_revokes_the_session_and_closes_its_inbox(client):
    tokens = login(client)
    with client.websocket_connect(inbox_url(tokens["access"])) as inbox:
        assert client.post("/api/auth/jwt/blacklist/", json={"refresh": tokens["refresh"]},
                           headers=bearer(tokens)).status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            inbox.receive_json()
        assert closed.value.code == SESSION_REVOKED


def test_a_backend_without_the_inbox_fails_the_handshake(make_app):
    with TestClient(make_app(inbox=False)) as client:
        token = login(client)["access"]
        with pytest.raises(WebSocketDisconnect):
            with client.websocket_connect(inbox_url(token)) as socket:
                socket.receive_json()
        # The conversation socket is unaffected.
        with client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={token}") as chat:
            assert_nothing_pending(chat)


def _count_hub_encodings(monkeypatch):
    """Every text the hub encodes, in order (its json.dumps, counted)."""
    import json
    import types

    from server.realtime import hub
    texts = []

    def dumps(obj, *args, **kwargs):
        texts.append(json.dumps(obj, *args, **kwargs))
        return texts[-1]

    monkeypatch.setattr(hub, "json", types.SimpleNamespace(dumps=dumps, loads=json.loads))
    return texts


def test_a_new_message_is_encoded_once_for_the_chat_sockets_and_every_inbox(client, monkeypatch):
    """The burst row: the open chat's messages go out on the chat socket AND the inbox; the
    same frame text is made once per message, not once per audience."""
    coach, alex = login(client), login(client, "alex@example.com")
    with client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={coach['access']}") as chat, \
            client.websocket_connect(inbox_url(coach["access"])) as coach_inbox, \
            client.websocket_connect(inbox_url(alex["access"])) as alex_inbox:
        texts = _count_hub_encodings(monkeypatch)
        message = send(client, alex, ALEX_CHAT, "Tempo run: 6 x 1 km").json()
        on_chat = chat.receive_text()
        assert coach_inbox.receive_text() == on_chat == alex_inbox.receive_text()
        assert json.loads(on_chat) == {"type": "new_message", "message": message}
        assert [text for text in texts if '"new_message"' in text] == [on_chat]


def test_nothing_is_encoded_for_an_event_no_socket_takes(client, monkeypatch):
    alex = login(client, "alex@example.com")
    texts = _count_hub_encodings(monkeypatch)
    assert send(client, alex, ALEX_CHAT, "Nobody is listening").status_code == 201
    assert texts == []


def test_read_receipts_still_differ_per_audience(client):
    """The inbox's receipt names its conversation, the chat's does not (CONTRACT): sharing
    one encoding is for identical events only."""
    coach, alex = login(client), login(client, "alex@example.com")
    with client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={alex['access']}") as chat, \
            client.websocket_connect(inbox_url(alex["access"])) as inbox:
        assert client.post(f"{BASE}/{ALEX_CHAT}/read/", headers=bearer(coach)).json()["marked_read"] > 0
        on_chat, on_inbox = chat.receive_json(), inbox.receive_json()
        assert on_inbox == {**on_chat, "conversation_id": ALEX_CHAT}
        assert "conversation_id" not in on_chat
