"""CONTRACT "Messaging REST": paging, send (JSON, multipart, images, idempotency), read."""

import io
import uuid

import image_samples
import pytest
from PIL import Image
from server_harness import bearer, login, new_conversation

BASE = "/api/messaging/conversations"


@pytest.fixture
def coach(client):
    return login(client)


@pytest.fixture
def convo(client):
    """A fresh conversation with 10 read messages (ids ascending)."""
    return new_conversation(client, "pager@example.com", messages=10)


def page(client, tokens, conversation_id, query=""):
    return client.get(f"{BASE}/{conversation_id}/messages/?{query}", headers=bearer(tokens))


def ids(response):
    assert response.status_code == 200, response.text
    body = response.json()
    return [m["id"] for m in body["results"]], body["has_more"]


def all_ids(client, coach, convo):
    return ids(page(client, coach, convo["id"], "limit=200"))[0]


# --- paging ---------------------------------------------------------------------------

def test_default_page_is_the_newest_50_ascending(client, coach):
    got, has_more = ids(page(client, coach, 1))
    assert len(got) == 50 and got == sorted(got) and has_more is True
    assert got[-1] == 120 and got[0] == 71


def test_limit_above_200_is_clamped(client, coach):
    new = new_conversation(client, "many@example.com", messages=230)
    got, has_more = ids(page(client, coach, new["id"], "limit=1000"))
    assert len(got) == 200 and has_more is True


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=", "before=x",
                                   "after=-3", "before=1e3", "after=99999999999999999999999", "before=1&after=2"])
def test_bad_paging_parameters_are_400(client, coach, query):
    response = page(client, coach, 1, query)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_before_gives_the_messages_just_older_ascending(client, coach, convo):
    every = all_ids(client, coach, convo)
    assert ids(page(client, coach, convo["id"], f"limit=3&before={every[5]}")) == (every[2:5], True)
    assert ids(page(client, coach, convo["id"], f"limit=3&before={every[3]}")) == (every[0:3], False)
    assert ids(page(client, coach, convo["id"], f"limit=5&before={every[2]}")) == (every[0:2], False)
    assert ids(page(client, coach, convo["id"], f"limit=5&before={every[0]}")) == ([], False)


def test_after_gives_the_messages_newer_ascending_with_has_more(client, coach, convo):
    every = all_ids(client, coach, convo)
    assert ids(page(client, coach, convo["id"], f"limit=3&after={every[5]}")) == (every[6:9], True)
    assert ids(page(client, coach, convo["id"], f"limit=4&after={every[5]}")) == (every[6:10], False)
    assert ids(page(client, coach, convo["id"], f"limit=4&after={every[-1]}")) == ([], False)
    assert ids(page(client, coach, convo["id"], "limit=4&after=0")) == (every[0:4], True)


def test_limit_equal_to_remaining_has_no_more(client, coach, convo):
    assert ids(page(client, coach, convo["id"], "limit=10")) == (all_ids(client, coach, convo), False)
    got, has_more = ids(page(client, coach, convo["id"], "limit=9"))
    assert len(got) == 9 and has_more is True


def test_empty_conversation_has_no_results(client, coach):
    empty = new_conversation(client, "nothing@example.com")
    assert ids(page(client, coach, empty["id"])) == ([], False)


def test_paging_is_per_conversation(client, coach, convo):
    # ids below this conversation's belong to the demo conversations and must not leak in.
    got, _ = ids(page(client, coach, convo["id"], f"limit=50&before={all_ids(client, coach, convo)[0]}"))
    assert got == []


def test_message_shape(client, coach, convo):
    message = page(client, coach, convo["id"], "limit=1").json()["results"][0]
    assert set(message) == {"id", "conversation_id", "sender", "content", "image", "is_read", "read_at",
                            "created_at", "client_message_id", "edited_at", "deleted"}
    assert message["conversation_id"] == convo["id"] and message["image"] is None
    assert message["edited_at"] is None and message["deleted"] is False


# --- who may see what -----------------------------------------------------------------

@pytest.mark.parametrize("method,suffix", [("get", "messages/"), ("post", "send/"), ("post", "read/")])
def test_non_participant_is_403_and_missing_conversation_is_404(client, method, suffix):
    sam = login(client, "sam@example.com")
    kwargs = {"headers": bearer(sam)}
    if suffix == "send/":
        kwargs["json"] = {"content": "hi"}
    assert getattr(client, method)(f"{BASE}/1/{suffix}", **kwargs).status_code == 403
    assert getattr(client, method)(f"{BASE}/999/{suffix}", **kwargs).status_code == 404
    assert getattr(client, method)(f"{BASE}/99999999999999999999999/{suffix}", **kwargs).status_code == 404
    assert getattr(client, method)(f"{BASE}/1/{suffix}").status_code == 401


# --- send -------------------------------------------------------------------------------

def send(client, tokens, conversation_id, headers=None, **kwargs):
    return client.post(f"{BASE}/{conversation_id}/send/", headers={**bearer(tokens), **(headers or {})}, **kwargs)


def test_send_json_is_201_with_the_stored_message(client, coach):
    response = send(client, coach, 2, json={"content": "  Keep going!  "})
    assert response.status_code == 201
    message = response.json()
    assert message["content"] == "  Keep going!  "
    assert (message["sender"]["id"], message["conversation_id"], message["is_read"]) == (1, 2, False)
    assert message["image"] is None and message["read_at"] is None and message["client_message_id"] is None
    assert ids(page(client, coach, 2))[0][-1] == message["id"]


@pytest.mark.parametrize("body,status", [
    ({"content": ""}, 400),
    ({"content": "   \n\t"}, 400),
    ({}, 400),
    ({"content": None}, 400),
    ({"content": 5}, 400),
    ({"content": ["a"]}, 400),
    ({"content": "x" * 2001}, 400),
    ({"content": "hi", "client_message_id": "not-a-uuid"}, 400),
    ({"content": "hi", "client_message_id": 7}, 400),
    ({"content": "x" * 2000}, 201),
    ({"content": "é" * 2000}, 201),
    ({"content": "<b>plain</b>", "client_message_id": None}, 201),
])
def test_send_validation(client, coach, body, status):
    response = send(client, coach, 2, json=body)
    assert response.status_code == status, response.text
    if status == 400:
        assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("raw", [b"{", b"[]", b"null", b"\x00\x01", b'"hi"'])
def test_send_with_malformed_json_is_400(client, coach, raw):
    response = send(client, coach, 2, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_send_to_archived_conversation_is_403(client):
    assert send(client, login(client), 3, json={"content": "still there?"}).status_code == 403


def test_repeated_client_message_id_returns_the_stored_message_with_200(client, coach):
    cid = str(uuid.uuid4())
    first = send(client, coach, 2, json={"content": "once", "client_message_id": cid})
    again = send(client, coach, 2, json={"content": "once", "client_message_id": cid})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and first.json()["client_message_id"] == cid
    assert [m["content"] for m in page(client, coach, 2).json()["results"]].count("once") == 1


def test_client_message_id_is_per_sender(client, coach):
    cid = str(uuid.uuid4())
    alex = login(client, "alex@example.com")
    assert send(client, coach, 1, json={"content": "a", "client_message_id": cid}).status_code == 201
    assert send(client, alex, 1, json={"content": "b", "client_message_id": cid}).status_code == 201


def test_client_message_id_reused_in_another_conversation_is_400(client, coach):
    cid = str(uuid.uuid4())
    assert send(client, coach, 1, json={"content": "a", "client_message_id": cid}).status_code == 201
    assert send(client, coach, 2, json={"content": "a", "client_message_id": cid}).status_code == 400


def test_multipart_text_only_send(client, coach):
    cid = str(uuid.uuid4())
    response = send(client, coach, 2, data={"content": "from a form", "client_message_id": cid})
    assert response.status_code == 201
    assert response.json()["content"] == "from a form" and response.json()["client_message_id"] == cid


def test_real_png_is_accepted_and_served_back_as_image_png(client, coach, tiny_png):
    response = send(client, coach, 2, data={"content": ""}, files={"image": ("photo.bin", tiny_png, "text/plain")})
    assert response.status_code == 201, response.text
    image = response.json()["image"]
    assert image.startswith("/media/") and image.endswith(".png")
    served = client.get(image)
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.content)) as stored:  # re-encoded: the same pixels
        assert stored.format == "PNG" and stored.size == (1, 1) and stored.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"


@pytest.mark.parametrize("data,ext", [
    (image_samples.picture("jpg"), ".jpg"),
    (image_samples.picture("gif"), ".gif"),
    (image_samples.picture("webp"), ".webp"),
])
def test_jpeg_gif_webp_are_recognised_by_content(client, coach, data, ext):
    response = send(client, coach, 2, files={"image": ("x", data, "application/octet-stream")})
    assert response.status_code == 201 and response.json()["image"].endswith(ext)


@pytest.mark.parametrize("data", [b"just text pretending", b"<svg onload=alert(1)></svg>", b"",
                                  b"\xff\xd8\xff\xe0" + b"\x00" * 20, b"GIF89a" + b"\x00" * 20,
                                  b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20])
def test_fake_images_are_rejected_by_content(client, coach, data):
    response = send(client, coach, 2, data={"content": "look"}, files={"image": ("x.png", data, "image/png")})
    assert response.status_code == 400


def test_image_over_5_mb_is_413(client, coach, tiny_png):
    big = tiny_png + b"\x00" * (5 * 1024 * 1024)
    assert send(client, coach, 2, files={"image": ("big.png", big, "image/png")}).status_code == 413


def test_image_field_must_be_a_file(client, coach):
    assert send(client, coach, 2, data={"content": "x", "image": "http://evil/x.png"}).status_code == 400


def test_broken_multipart_is_400(client, coach):
    response = send(client, coach, 2, content=b"--nope\r\ngarbage",
                    headers={"Content-Type": "multipart/form-data; boundary=zzz"})
    assert response.status_code == 400


def test_media_only_serves_names_we_made(client):
    assert client.get("/media/..%2f..%2fdb%2fmessaging.sqlite3").status_code == 404
    assert client.get("/media/messaging.sqlite3").status_code == 404
    assert client.get("/media/" + "a" * 24 + ".png").status_code == 404


# --- read -------------------------------------------------------------------------------

def test_read_marks_the_other_partys_messages_only(client, coach):
    alex = login(client, "alex@example.com")
    mine = send(client, coach, 1, json={"content": "mine"}).json()
    response = client.post(f"{BASE}/1/read/", headers=bearer(coach))
    assert response.json() == {"marked_read": 3}
    assert client.post(f"{BASE}/1/read/", headers=bearer(coach)).json() == {"marked_read": 0}
    last = page(client, coach, 1, "limit=4").json()["results"]
    assert [m["is_read"] for m in last] == [True, True, True, False] and last[-1]["id"] == mine["id"]
    assert all(m["read_at"] for m in last[:3])
    assert client.post(f"{BASE}/1/read/", headers=bearer(alex)).json() == {"marked_read": 1}


def test_read_in_archived_conversation_is_allowed(client):
    assert client.post(f"{BASE}/3/read/", headers=bearer(login(client))).json() == {"marked_read": 0}
