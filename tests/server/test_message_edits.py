"""CONTRACT "Edit and delete own messages" and "Optional features, announced", on serve.py's app.

Demo data: conversation 1 is coach-alex, 2 coach-sam, 3 coach-jo (archived). Each test sends
the messages it edits, so they are inside the time windows until the fake clock moves.
"""

import pytest
from server_harness import arrived, bearer, login, new_conversation
from starlette.testclient import TestClient

from server import messaging
from server.context import Limits
from server.message_edits import DELETE, EDIT
from server.serializers import DELETED_PREVIEW
from server.timefmt import iso_utc

BASE = "/api/messaging/conversations"
ALEX_CHAT, SAM_CHAT = 1, 2


def message_url(message_id) -> str:
    return f"/api/messaging/messages/{message_id}/"


def send(client, tokens, content="Squats at 6", conversation=ALEX_CHAT) -> dict:
    answer = client.post(f"{BASE}/{conversation}/send/", json={"content": content}, headers=bearer(tokens))
    assert answer.status_code == 201, answer.text
    return answer.json()


def send_photo(client, tokens, png, content="") -> dict:
    answer = client.post(f"{BASE}/{ALEX_CHAT}/send/", data={"content": content},
                         files={"image": ("p.png", png, "image/png")}, headers=bearer(tokens))
    assert answer.status_code == 201, answer.text
    return answer.json()


def edit(client, tokens, message_id, content="Squats at 7"):
    return client.patch(message_url(message_id), json={"content": content}, headers=bearer(tokens))


def delete(client, tokens, message_id):
    return client.delete(message_url(message_id), headers=bearer(tokens))


def history(client, tokens, conversation=ALEX_CHAT) -> dict[int, dict]:
    answer = client.get(f"{BASE}/{conversation}/messages/?limit=200", headers=bearer(tokens))
    assert answer.status_code == 200
    return {message["id"]: message for message in answer.json()["results"]}


@pytest.fixture
def coach(client):
    return login(client)


@pytest.fixture
def alex(client):
    return login(client, "alex@example.com")


# --- capabilities --------------------------------------------------------------------------

def test_capabilities_announce_every_optional_feature(client, coach):
    answer = client.get("/api/messaging/capabilities/", headers=bearer(coach))
    assert answer.status_code == 200
    assert answer.json() == {"edit": True, "delete": True, "saved_replies": True, "search": True}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic eA=="}])
def test_capabilities_need_a_valid_token(client, headers):
    assert client.get("/api/messaging/capabilities/", headers=headers).status_code == 401


# --- edit ------------------------------------------------------------------------------------

def test_the_sender_edits_within_15_minutes_and_history_shows_it(client, coach, alex, clock):
    message = send(client, coach)
    clock.advance(EDIT.window)  # the last moment that still counts
    coach = login(client)
    answer = edit(client, coach, message["id"], "Squats at 7, bring shoes")
    assert answer.status_code == 200, answer.text
    edited = answer.json()
    assert edited["content"] == "Squats at 7, bring shoes" and edited["edited_at"] == iso_utc(clock())
    assert edited["deleted"] is False and edited["created_at"] == message["created_at"]
    assert history(client, login(client, "alex@example.com"))[message["id"]] == edited


def test_an_edit_after_15_minutes_is_refused_and_says_why(client, coach, clock):
    message = send(client, coach)
    clock.advance(EDIT.window + 0.001)
    coach = login(client)
    answer = edit(client, coach, message["id"])
    assert answer.status_code == 403
    assert "15 minutes" in answer.json()["detail"]
    assert history(client, coach)[message["id"]]["content"] == "Squats at 6"


def test_only_the_sender_may_edit(client, coach, alex):
    message = send(client, coach)
    sam = login(client, "sam@example.com")
    assert edit(client, alex, message["id"]).status_code == 403  # the other participant
    assert edit(client, sam, message["id"]).status_code == 403  # not in the conversation
    assert client.patch(message_url(message["id"]), json={"content": "x"}).status_code == 401
    assert history(client, coach)[message["id"]]["edited_at"] is None


@pytest.mark.parametrize("path_id", ["0", "999999", "9" * 19, "9" * 400, "00042424242"])
def test_an_unknown_or_huge_message_id_is_404(client, coach, path_id):
    assert client.patch(f"/api/messaging/messages/{path_id}/", json={"content": "x"},
                        headers=bearer(coach)).status_code == 404
    assert client.delete(f"/api/messaging/messages/{path_id}/", headers=bearer(coach)).status_code == 404


@pytest.mark.parametrize("path_id", ["abc", "-1", "1.5", "%00"])
def test_an_id_that_is_not_an_integer_names_no_message(client, coach, path_id):
    assert client.patch(f"/api/messaging/messages/{path_id}/", json={"content": "x"},
                        headers=bearer(coach)).status_code == 404


def test_an_archived_conversation_refuses_edits_and_deletes(client, coach):
    archived = new_conversation(client, "kim@example.com", messages=2, archived=True)
    own = [m for m in history(client, coach, archived["id"]).values() if m["sender"]["id"] == archived["trainer"]["id"]]
    assert own, "the seeded history starts with the trainer's message"
    for answer in (edit(client, coach, own[0]["id"]), delete(client, coach, own[0]["id"])):
        assert answer.status_code == 403 and "archived" in answer.json()["detail"]


@pytest.mark.parametrize(("body", "why"), [
    ({}, "content is required"),
    ({"content": None}, "must be a string"),
    ({"content": 7}, "must be a string"),
    ({"content": ["a"]}, "must be a string"),
    ({"content": {"a": 1}}, "must be a string"),
    ({"content": "x" * (messaging.MAX_CONTENT_CHARS + 1)}, "at most 2000"),
    ({"content": "a\x00b"}, "NUL"),
    ({"content": "   \n"}, "text or an image"),
    ({"content": ""}, "text or an image"),
])
def test_edited_content_follows_the_send_rules(client, coach, body, why):
    message = send(client, coach)
    answer = client.patch(message_url(message["id"]), json=body, headers=bearer(coach))
    assert answer.status_code == 400, answer.text
    assert why in answer.json()["detail"]
    assert history(client, coach)[message["id"]]["content"] == "Squats at 6"


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"7", b"null", b"{", b'{"content": "\\ud800"}', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_of_text_is_400(client, coach, raw):
    message = send(client, coach)
    answer = client.patch(message_url(message["id"]), content=raw,
                          headers={**bearer(coach), "Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text


def test_an_oversized_body_is_413(client, coach):
    message = send(client, coach)
    answer = client.patch(message_url(message["id"]), json={"content": "x", "pad": "y" * 300_000},
                          headers=bearer(coach))
    assert answer.status_code == 413


def test_the_longest_content_is_accepted(client, coach):
    message = send(client, coach)
    longest = "é" * messaging.MAX_CONTENT_CHARS
    assert edit(client, coach, message["id"], longest).json()["content"] == longest


def test_a_photo_message_may_lose_its_text(client, coach, tiny_png):
    photo = send_photo(client, coach, tiny_png, "look")
    answer = edit(client, coach, photo["id"], "")
    assert answer.status_code == 200 and answer.json()["content"] == "" and answer.json()["image"] == photo["image"]


def test_edits_count_against_the_send_rate(make_app):
    with TestClient(make_app(limits=Limits(send_burst=2, send_rate=0.001))) as client:
        coach = login(client)
        message = send(client, coach)
        assert edit(client, coach, message["id"], "one").status_code == 200
        answer = edit(client, coach, message["id"], "two")
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1


# --- delete ----------------------------------------------------------------------------------

def test_a_deleted_message_stays_in_history_blank_and_marked(client, coach, alex):
    message = send(client, coach, "wrong chat, sorry")
    answer = delete(client, coach, message["id"])
    assert answer.status_code == 204 and answer.content == b""
    kept = history(client, alex)[message["id"]]
    assert kept["deleted"] is True and kept["content"] == "" and kept["image"] is None
    assert {k: kept[k] for k in ("id", "conversation_id", "sender", "created_at")} == \
        {k: message[k] for k in ("id", "conversation_id", "sender", "created_at")}


def test_deleting_twice_is_204_and_changes_nothing(client, coach, alex, clock):
    message = send(client, coach)
    assert delete(client, coach, message["id"]).status_code == 204
    before = history(client, coach)[message["id"]]
    clock.advance(DELETE.window + 60)  # even once the window has passed: it is done already
    coach = login(client)
    with client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={coach['access']}") as chat:
        assert delete(client, coach, message["id"]).status_code == 204
        assert arrived(chat) == []  # nothing new to tell
    assert history(client, coach)[message["id"]] == before
    assert delete(client, login(client, "alex@example.com"), message["id"]).status_code == 403  # still not theirs


def test_a_deleted_message_cannot_be_edited(client, coach):
    message = send(client, coach)
    delete(client, coach, message["id"])
    answer = edit(client, coach, message["id"])
    assert answer.status_code == 403 and "deleted" in answer.json()["detail"]


def test_delete_is_allowed_for_48_hours_only(client, coach, clock):
    early, late = send(client, coach, "one"), send(client, coach, "two")
    clock.advance(DELETE.window)
    coach = login(client)
    assert delete(client, coach, early["id"]).status_code == 204
    clock.advance(0.001)
    answer = delete(client, login(client), late["id"])
    assert answer.status_code == 403 and "48 hours" in answer.json()["detail"]


def test_only_the_sender_may_delete(client, coach, alex):
    message = send(client, coach)
    assert delete(client, alex, message["id"]).status_code == 403
    assert delete(client, login(client, "sam@example.com"), message["id"]).status_code == 403
    assert history(client, coach)[message["id"]]["deleted"] is False


def test_a_deleted_photo_leaves_storage_and_the_upload_quota(client, coach, tiny_png):
    ctx = client.app.state.ctx
    room = client.portal.call(messaging.upload_headroom, ctx, history(client, coach)[1]["sender"]["id"])
    photo = send_photo(client, coach, tiny_png)
    sender = photo["sender"]["id"]
    stored = ctx.media_dir / photo["image"].rsplit("/", 1)[1]
    assert stored.is_file() and client.portal.call(messaging.upload_headroom, ctx, sender) < room
    assert delete(client, coach, photo["id"]).status_code == 204
    assert not stored.exists()
    assert client.get(photo["image"]).status_code == 404
    assert client.portal.call(messaging.upload_headroom, ctx, sender) == room
    assert history(client, coach)[photo["id"]]["image"] is None


def test_the_conversation_list_never_shows_a_deleted_text(client, coach, alex):
    message = send(client, alex, "my secret pin is 1234")
    delete(client, alex, message["id"])
    for tokens in (coach, alex):
        listed = {c["id"]: c for c in client.get(f"{BASE}/", headers=bearer(tokens)).json()}[ALEX_CHAT]
        assert listed["last_message_preview"] == DELETED_PREVIEW
        assert listed["last_message_at"] == message["created_at"]


def test_a_deleted_unread_message_no_longer_counts_as_unread(client, coach, alex):
    before = client.get("/api/messaging/unread-count/", headers=bearer(coach)).json()["unread_count"]
    message = send(client, alex)
    assert client.get("/api/messaging/unread-count/", headers=bearer(coach)).json()["unread_count"] == before + 1
    delete(client, alex, message["id"])
    assert client.get("/api/messaging/unread-count/", headers=bearer(coach)).json()["unread_count"] == before
    listed = {c["id"]: c for c in client.get(f"{BASE}/", headers=bearer(coach)).json()}[ALEX_CHAT]
    assert listed["unread_count"] == before - 1  # Sam's one unread message is in the other chat


# --- broadcasts ------------------------------------------------------------------------------

def test_edits_and_deletes_reach_the_chat_sockets_and_both_inboxes(client, coach, alex):
    message = send(client, coach)
    sam = login(client, "sam@example.com")
    with client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={alex['access']}") as alex_chat, \
            client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={coach['access']}") as coach_chat, \
            client.websocket_connect(f"/ws/inbox/?token={alex['access']}") as alex_inbox, \
            client.websocket_connect(f"/ws/inbox/?token={coach['access']}") as coach_inbox, \
            client.websocket_connect(f"/ws/inbox/?token={sam['access']}") as sam_inbox:
        # A focused inbox still gets them: CONTRACT lets it leave out only new_message and read_receipt.
        coach_inbox.send_json({"type": "focus", "conversation_id": ALEX_CHAT})
        edited = edit(client, coach, message["id"], "moved to 7").json()
        assert delete(client, coach, message["id"]).status_code == 204
        expected = [{"type": "message_updated", "message": edited},
                    {"type": "message_deleted", "conversation_id": ALEX_CHAT, "message_id": message["id"]}]
        for socket in (alex_chat, coach_chat, alex_inbox, coach_inbox):
            assert arrived(socket) == expected
        assert arrived(sam_inbox) == []


def test_a_refused_edit_or_delete_broadcasts_nothing(client, coach, alex):
    message = send(client, coach)
    with client.websocket_connect(f"/ws/messaging/{ALEX_CHAT}/?token={alex['access']}") as alex_chat:
        assert edit(client, alex, message["id"]).status_code == 403
        assert delete(client, alex, message["id"]).status_code == 403
        assert edit(client, coach, message["id"], "").status_code == 400
        assert arrived(alex_chat) == []


def test_an_allowed_origins_page_may_patch_and_delete(make_app):
    """CORS: a copy of the site on another allowed origin (config.json api_base) edits too."""
    with TestClient(make_app(allowed_origins=["https://app.example"])) as client:
        for method in ("PATCH", "DELETE"):
            answer = client.options(message_url(1), headers={
                "Origin": "https://app.example", "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type"})
            assert answer.status_code == 200, answer.text
            assert method in answer.headers["access-control-allow-methods"]
