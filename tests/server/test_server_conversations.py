"""CONTRACT "Demo data" and the conversation list / unread counts."""

from server_harness import bearer, login, new_conversation

CONVERSATIONS = "/api/messaging/conversations/"
UNREAD = "/api/messaging/unread-count/"


def messages(client, tokens, conversation_id, query="limit=200"):
    response = client.get(f"{CONVERSATIONS}{conversation_id}/messages/?{query}", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    return response.json()


def test_demo_conversations_as_the_coach_sees_them(client):
    rows = client.get(CONVERSATIONS, headers=bearer(login(client))).json()
    assert [(r["trainee"]["first_name"], r["unread_count"], r["is_archived"]) for r in rows] == [
        ("Alex", 3, False), ("Sam", 1, False), ("Jo", 0, True)]
    alex = rows[0]
    assert alex["trainer"] == {"id": 1, "first_name": "Casey", "last_name": "Coach", "profile_image": None}
    assert alex["trainee"] == {"id": 2, "first_name": "Alex", "last_name": "Runner", "profile_image": None}
    assert alex["last_message_preview"] == "Should I push the long run to 14k this weekend?"
    assert set(alex) == {"id", "trainer", "trainee", "last_message_at", "last_message_preview", "unread_count",
                         "is_archived", "created_at"}
    assert alex["last_message_at"].endswith("Z") and alex["created_at"] < alex["last_message_at"]


def test_demo_alex_history_has_120_messages_over_several_days_last_three_unread_from_alex(client):
    coach = login(client)
    older = messages(client, coach, 1, "limit=200")["results"]
    assert len(older) == 120
    assert [m["id"] for m in older] == sorted(m["id"] for m in older)
    days = {m["created_at"][:10] for m in older}
    assert len(days) >= 5
    unread = [m for m in older if not m["is_read"]]
    assert [m["sender"]["id"] for m in unread] == [2, 2, 2] and unread == older[-3:]
    assert all(m["read_at"] for m in older[:-3])
    senders = [m["sender"]["id"] for m in older[:-3]]
    assert all(a != b for a, b in zip(senders, senders[1:]))  # alternating


def test_demo_sam_has_three_messages_the_last_from_sam_unread(client):
    sam = messages(client, login(client), 2)["results"]
    assert len(sam) == 3
    assert (sam[-1]["sender"]["first_name"], sam[-1]["is_read"]) == ("Sam", False)
    assert all(m["is_read"] for m in sam[:-1])


def test_each_participant_sees_their_own_unread_count(client):
    alex_rows = client.get(CONVERSATIONS, headers=bearer(login(client, "alex@example.com"))).json()
    assert [(r["id"], r["unread_count"]) for r in alex_rows] == [(1, 0)]
    assert client.get(UNREAD, headers=bearer(login(client))).json() == {"unread_count": 4}
    assert client.get(UNREAD, headers=bearer(login(client, "sam@example.com"))).json() == {"unread_count": 0}


def test_list_is_newest_last_message_first_with_empty_conversations_last(client):
    coach = login(client)
    empty = new_conversation(client, "empty@example.com")
    assert empty["last_message_at"] is None and empty["last_message_preview"] is None
    sam_id = 2
    client.post(f"{CONVERSATIONS}{sam_id}/send/", json={"content": "New plan"}, headers=bearer(coach))
    ids = [r["id"] for r in client.get(CONVERSATIONS, headers=bearer(coach)).json()]
    assert ids == [sam_id, 1, 3, empty["id"]]


def test_image_only_last_message_previews_as_photo(client, tiny_png):
    coach = login(client)
    client.post(f"{CONVERSATIONS}2/send/", files={"image": ("a.png", tiny_png, "image/png")}, headers=bearer(coach))
    row = next(r for r in client.get(CONVERSATIONS, headers=bearer(coach)).json() if r["id"] == 2)
    assert row["last_message_preview"] == "Photo"


def test_unread_count_follows_sends_and_reads(client):
    coach, alex = login(client), login(client, "alex@example.com")
    client.post(f"{CONVERSATIONS}1/send/", json={"content": "hi"}, headers=bearer(coach))
    assert client.get(UNREAD, headers=bearer(alex)).json() == {"unread_count": 1}
    client.post(f"{CONVERSATIONS}1/read/", headers=bearer(coach))
    assert client.get(UNREAD, headers=bearer(coach)).json() == {"unread_count": 1}  # Sam's


def test_list_and_unread_need_a_token(client):
    assert client.get(CONVERSATIONS).status_code == 401
    assert client.get(UNREAD).status_code == 401
