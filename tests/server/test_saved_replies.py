"""CONTRACT "Saved replies": per user, private, title 1..80, content 1..2,000, 200 at most."""

import pytest
from server_harness import bearer, login

from server.saved_replies import MAX_PER_USER, MAX_TITLE_CHARS
from server.timefmt import iso_utc

URL = "/api/messaging/saved-replies/"


def reply_url(reply_id) -> str:
    return f"{URL}{reply_id}/"


@pytest.fixture
def coach(client):
    return login(client)


def save(client, tokens, title="Warm-up", content="10 min easy jog, then drills"):
    return client.post(URL, json={"title": title, "content": content}, headers=bearer(tokens))


def listed(client, tokens) -> list[dict]:
    answer = client.get(URL, headers=bearer(tokens))
    assert answer.status_code == 200
    return answer.json()


def test_a_saved_reply_is_created_listed_changed_and_deleted(client, coach, clock):
    created = save(client, coach)
    assert created.status_code == 201
    reply = created.json()
    assert reply == {"id": reply["id"], "title": "Warm-up", "content": "10 min easy jog, then drills",
                     "updated_at": iso_utc(clock())}
    assert listed(client, coach) == [reply]
    clock.advance(30)
    changed = client.patch(reply_url(reply["id"]), json={"content": "15 min"}, headers=bearer(coach))
    assert changed.status_code == 200
    assert changed.json() == {**reply, "content": "15 min", "updated_at": iso_utc(clock())}
    retitled = client.patch(reply_url(reply["id"]), json={"title": "Jog"}, headers=bearer(coach)).json()
    assert retitled["title"] == "Jog" and retitled["content"] == "15 min"
    assert client.delete(reply_url(reply["id"]), headers=bearer(coach)).status_code == 204
    assert listed(client, coach) == []
    assert client.delete(reply_url(reply["id"]), headers=bearer(coach)).status_code == 404


def test_the_list_is_ordered_by_title_whatever_its_case_and_stably(client, coach):
    for title in ("banana", "Apple", "éclair", "apple", "Cherry", "ÉCLAIR"):
        assert save(client, coach, title).status_code == 201
    titles = [reply["title"] for reply in listed(client, coach)]
    # casefolded titles, then id (creation order) among equal ones
    assert titles == ["Apple", "apple", "banana", "Cherry", "éclair", "ÉCLAIR"]


def test_replies_are_private_to_their_user(client, coach):
    alex = login(client, "alex@example.com")
    mine = save(client, coach).json()
    assert listed(client, alex) == []
    assert client.patch(reply_url(mine["id"]), json={"title": "x"}, headers=bearer(alex)).status_code == 404
    assert client.delete(reply_url(mine["id"]), headers=bearer(alex)).status_code == 404
    assert listed(client, coach) == [mine]


def test_every_call_needs_a_token(client, coach):
    mine = save(client, coach).json()
    assert client.get(URL).status_code == 401
    assert client.post(URL, json={"title": "a", "content": "b"}).status_code == 401
    assert client.patch(reply_url(mine["id"]), json={"title": "x"}).status_code == 401
    assert client.delete(reply_url(mine["id"])).status_code == 401
    assert listed(client, coach) == [mine]


@pytest.mark.parametrize(("body", "why"), [
    ({"content": "b"}, "title is required"),
    ({"title": "a"}, "content is required"),
    ({"title": "", "content": "b"}, "blank"),
    ({"title": " \t", "content": "b"}, "blank"),
    ({"title": "a", "content": "\n"}, "blank"),
    ({"title": "a" * (MAX_TITLE_CHARS + 1), "content": "b"}, "at most 80"),
    ({"title": "a", "content": "b" * 2001}, "at most 2000"),
    ({"title": 5, "content": "b"}, "must be a string"),
    ({"title": "a", "content": None}, "must be a string"),
    ({"title": ["a"], "content": "b"}, "must be a string"),
    ({"title": "a\x00", "content": "b"}, "NUL"),
])
def test_a_bad_new_reply_is_400(client, coach, body, why):
    answer = client.post(URL, json=body, headers=bearer(coach))
    assert answer.status_code == 400 and why in answer.json()["detail"], answer.text
    assert listed(client, coach) == []


@pytest.mark.parametrize(("body", "why"), [
    ({}, "Give a title or a content"),
    ({"other": 1}, "Give a title or a content"),
    ({"title": ""}, "blank"),
    ({"content": "b" * 2001}, "at most 2000"),
    ({"title": None}, "must be a string"),
])
def test_a_bad_change_is_400_and_changes_nothing(client, coach, body, why):
    mine = save(client, coach).json()
    answer = client.patch(reply_url(mine["id"]), json=body, headers=bearer(coach))
    assert answer.status_code == 400 and why in answer.json()["detail"], answer.text
    assert listed(client, coach) == [mine]


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"1", b"null", b"{", b'{"title": "\\udc00", "content": "b"}'])
def test_a_body_that_is_not_a_json_object_of_text_is_400(client, coach, raw):
    headers = {**bearer(coach), "Content-Type": "application/json"}
    assert client.post(URL, content=raw, headers=headers).status_code == 400
    mine = save(client, coach).json()
    assert client.patch(reply_url(mine["id"]), content=raw, headers=headers).status_code == 400


def test_an_oversized_body_is_413(client, coach):
    answer = client.post(URL, json={"title": "a", "content": "b", "pad": "x" * 300_000}, headers=bearer(coach))
    assert answer.status_code == 413


def test_the_longest_title_and_content_are_kept(client, coach):
    reply = save(client, coach, "T" * MAX_TITLE_CHARS, "é" * 2000).json()
    assert reply["title"] == "T" * MAX_TITLE_CHARS and reply["content"] == "é" * 2000


@pytest.mark.parametrize("path_id", ["0", "99999", "9" * 19, "9" * 500])
def test_unknown_and_huge_ids_are_404(client, coach, path_id):
    assert client.patch(f"{URL}{path_id}/", json={"title": "x"}, headers=bearer(coach)).status_code == 404
    assert client.delete(f"{URL}{path_id}/", headers=bearer(coach)).status_code == 404


@pytest.mark.parametrize("path_id", ["abc", "-3", "1e3"])
def test_ids_that_are_not_integers_name_nothing(client, coach, path_id):
    assert client.delete(f"{URL}{path_id}/", headers=bearer(coach)).status_code == 404


def test_the_201st_reply_is_refused(client, coach):
    for number in range(MAX_PER_USER):
        assert save(client, coach, f"reply {number:03}").status_code == 201
    answer = save(client, coach, "one too many")
    assert answer.status_code == 400 and str(MAX_PER_USER) in answer.json()["detail"]
    assert len(listed(client, coach)) == MAX_PER_USER
    assert save(client, login(client, "alex@example.com")).status_code == 201  # the cap is per user
    client.delete(reply_url(listed(client, coach)[0]["id"]), headers=bearer(coach))
    assert save(client, coach, "room again").status_code == 201
