"""CONTRACT "Search": the user's messages containing q, case-insensitive, newest first."""

import pytest
from server_harness import bearer, login

from server.search import MAX_QUERY_CHARS
from server.search_text import contains_pattern, search_key

BASE = "/api/messaging/conversations"
URL = "/api/messaging/search/"
ALEX_CHAT, SAM_CHAT, JO_CHAT = 1, 2, 3


@pytest.fixture
def coach(client):
    return login(client)


def send(client, tokens, content, conversation=ALEX_CHAT) -> dict:
    answer = client.post(f"{BASE}/{conversation}/send/", json={"content": content}, headers=bearer(tokens))
    assert answer.status_code == 201, answer.text
    return answer.json()


def search(client, tokens, **params):
    return client.get(URL, params=params, headers=bearer(tokens))


def found(client, tokens, **params) -> list[int]:
    answer = search(client, tokens, **params)
    assert answer.status_code == 200, answer.text
    return [message["id"] for message in answer.json()["results"]]


# --- folding (pure) ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "query"), [
    ("ÉTÉ à Paris", "été"), ("Straße", "STRASSE"), ("ΣΟΦΟΣ", "σοφος"), ("Ｒｕｎ", "run"),
    ("Cafe\u0301", "CAFÉ"),
])
def test_folding_meets_case_and_width_in_every_script(text, query):
    assert search_key(query) in search_key(text)


def test_like_wildcards_in_the_query_stand_for_themselves():
    assert contains_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


# --- the endpoint ------------------------------------------------------------------------------

def test_matches_are_the_users_own_newest_first_whatever_the_case(client, coach):
    alex = login(client, "alex@example.com")
    one = send(client, coach, "Fartlek RUN on Tuesday")
    two = send(client, alex, "which fartlek? the long one")
    three = send(client, coach, "Fartlek club Friday", conversation=SAM_CHAT)
    send(client, coach, "rest day")
    assert found(client, coach, q="fartlek run") == [one["id"]]
    assert found(client, coach, q="FARTLEK") == [three["id"], two["id"], one["id"]]
    # Alex is not in the Sam chat: its messages are not Alex's to find
    assert found(client, alex, q="fartlek") == [two["id"], one["id"]]
    results = search(client, coach, q="the long").json()["results"]
    assert results[0] == two  # the whole Message, as history has it


def test_non_ascii_text_is_found_whatever_its_case(client, coach):
    message = send(client, coach, "Ÿoga ÉTÉ: ΣΤΡΕΤΣΙΝΓΚ")
    for query in ("ÿoga", "été", "στρετσινγκ", "ΣτρεΤ"):
        assert found(client, coach, q=query) == [message["id"]], query


def test_percent_underscore_and_backslash_are_literal(client, coach):
    literal = send(client, coach, "Discount 50% off_today C:\\plans")
    send(client, coach, "50 people went off today")
    assert found(client, coach, q="50%") == [literal["id"]]
    assert found(client, coach, q="f_t") == [literal["id"]]
    assert found(client, coach, q=":\\p") == [literal["id"]]
    assert found(client, coach, q="%%") == []


def test_one_conversation_only(client, coach):
    in_alex = send(client, coach, "zebra drills")
    in_sam = send(client, coach, "zebra drills", conversation=SAM_CHAT)
    assert found(client, coach, q="zebra") == [in_sam["id"], in_alex["id"]]
    assert found(client, coach, q="zebra", conversation_id=ALEX_CHAT) == [in_alex["id"]]
    assert found(client, coach, q="zebra", conversation_id=JO_CHAT) == []  # archived: still searchable


def test_another_users_conversation_is_403_and_an_unknown_one_404(client):
    alex = login(client, "alex@example.com")
    assert search(client, alex, q="hello", conversation_id=SAM_CHAT).status_code == 403
    for unknown in (0, 999_999, 2**63 - 1):
        assert search(client, alex, q="hello", conversation_id=unknown).status_code == 404


def test_pages_with_limit_and_before(client, coach):
    ids = [send(client, coach, f"interval set {n}")["id"] for n in range(5)]
    first = search(client, coach, q="interval set", limit=2).json()
    assert [m["id"] for m in first["results"]] == ids[:2:-1][:2] and first["has_more"] is True
    second = search(client, coach, q="interval set", limit=2, before=first["results"][-1]["id"]).json()
    assert [m["id"] for m in second["results"]] == [ids[2], ids[1]] and second["has_more"] is True
    last = search(client, coach, q="interval set", limit=2, before=ids[1]).json()
    assert [m["id"] for m in last["results"]] == [ids[0]] and last["has_more"] is False
    assert len(found(client, coach, q="interval set", limit=10_000)) == 5  # clamped, not refused


def test_the_default_and_largest_limits_are_those_of_history(client, coach):
    sent = [send(client, coach, f"ladder {n}")["id"] for n in range(201)]
    assert found(client, coach, q="ladder", limit=200) == sent[:0:-1]
    assert found(client, coach, q="ladder") == sent[:-51:-1]


def test_deleted_and_edited_messages_are_found_by_their_current_text(client, coach):
    gone = send(client, coach, "kettlebell swings")
    changed = send(client, coach, "kettlebell snatch")
    client.delete(f"/api/messaging/messages/{gone['id']}/", headers=bearer(coach))
    client.patch(f"/api/messaging/messages/{changed['id']}/", json={"content": "goblet squat"}, headers=bearer(coach))
    assert found(client, coach, q="kettlebell") == []
    assert found(client, coach, q="GOBLET") == [changed["id"]]


@pytest.mark.parametrize("params", [
    {}, {"q": ""}, {"q": "a"}, {"q": "   a   "}, {"q": "x" * (MAX_QUERY_CHARS + 1)}, {"q": "a\x00b"},
    {"q": "ok", "limit": "0"}, {"q": "ok", "limit": "-1"}, {"q": "ok", "limit": "ten"},
    {"q": "ok", "limit": "9" * 30}, {"q": "ok", "before": "x"}, {"q": "ok", "before": "9" * 5000},
    {"q": "ok", "conversation_id": "one"}, {"q": "ok", "conversation_id": "-2"},
    {"q": "ok", "conversation_id": "9" * 25}, {"q": "ok", "conversation_id": "1.0"}, {"q": "ok", "after": "3"},
])
def test_bad_parameters_are_400(client, coach, params):
    answer = search(client, coach, **params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"]


def test_a_query_of_the_longest_length_is_taken_once_trimmed(client, coach):
    assert search(client, coach, q="  " + "y" * MAX_QUERY_CHARS + "  ").status_code == 200
    assert search(client, coach, q=" ab ").status_code == 200


def test_search_needs_a_token(client):
    assert client.get(URL, params={"q": "hello"}).status_code == 401


def test_messages_stored_before_the_search_column_are_found_after_a_restart(make_app):
    """Migration 5 adds `search_text` empty; the start-up fills it (`search.fill_search_text`)."""
    from starlette.testclient import TestClient

    async def forget_search_text(ctx):
        return await ctx.store.db.execute("UPDATE messages SET search_text = NULL")

    with TestClient(make_app()) as client:
        coach = login(client)
        message = send(client, coach, "Zürich hill repeats")
        assert client.portal.call(forget_search_text, client.app.state.ctx) > 100
        assert found(client, coach, q="zürich") == []  # what an old database looked like
    with TestClient(make_app()) as client:
        coach = login(client)
        assert found(client, coach, q="ZÜRICH") == [message["id"]]
        assert len(found(client, coach, q="squats", conversation_id=ALEX_CHAT)) > 1  # the demo's own lines


def test_searches_are_metered_per_user(make_app, clock):
    from starlette.testclient import TestClient

    from server.context import Limits

    with TestClient(make_app(limits=Limits(search_burst=2, search_rate=0.5))) as client:
        coach, alex = login(client), login(client, "alex@example.com")
        assert [search(client, coach, q="squats").status_code for _ in range(3)] == [200, 200, 429]
        refused = search(client, coach, q="squats")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
        assert search(client, alex, q="squats").status_code == 200  # another user's own budget
        clock.advance(2)
        assert search(client, login(client), q="squats").status_code == 200
