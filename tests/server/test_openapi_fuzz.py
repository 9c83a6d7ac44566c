"""schemathesis against a live serve.py, driven by the server's own /api/openapi.json.

Every documented call gets generated requests, valid and invalid (a bounded, derandomized
number each, so a run is the same every time), with the demo trainer's Bearer token (an
invalid case may leave it out: then the answer is the documented 401). Each answer must be
no 5xx, a documented status with its documented content type and headers, and a body that
fits the documented schema.

Generated data alone would almost never name a real conversation, log in, or hold a live
refresh token, so Hypothesis also draws whether a case is steered onto real values: one of
the trainer's conversations (the archived one included), the spare user's credentials, a
fresh refresh token of the spare user's own, a message the trainer has just sent, a saved
reply of the trainer's. Each call must have reached a 2xx at least once.
The spare user is a trainee: refreshing or ending their sessions never ends the trainer's
session, whose access token the cases carry.

The limits that would make answers depend on timing are set high (`--send-rate`,
`--access-ttl`); the login limit is left as it is: its 429 is documented, and the trainer's
token is taken before any case runs.
"""

from __future__ import annotations

import collections
import re
import shutil

import plain_http
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.specs.openapi import checks as openapi_checks

from server import openapi
from server_harness import LiveServer, bearer

MAX_EXAMPLES = 60  # per call, valid and invalid together: 30 s for the file on a quiet machine, 75 s on a busy one
SPARE_USER = "sam@example.com"
CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance, openapi_checks.content_type_conformance,
          openapi_checks.response_schema_conformance, openapi_checks.response_headers_conformance]
_HTTP_LAYER_HEADERS = ("content-length", "transfer-encoding", "host", "connection", "expect", "upgrade")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(r"([\x21-\x7e]([\t\x20-\x7e]*[\x21-\x7e])?)?")


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory, demo_db_template):
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(demo_db_template, folder / "messaging.sqlite3")
    server = LiveServer(folder / "messaging.sqlite3", folder / "logs",
                        ["--send-rate", "1000000/1000000", "--access-ttl", "3600"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def trainer_headers(fuzzed_server) -> dict:
    return bearer(fuzzed_server.login())


@pytest.fixture(scope="module")
def trainer_conversations(fuzzed_server, trainer_headers) -> list[int]:
    response = plain_http.get(fuzzed_server.origin + "/api/messaging/conversations/", headers=trainer_headers)
    assert response.status_code == 200, response.text
    return [conversation["id"] for conversation in response.json()]


@pytest.fixture(scope="module")
def api_schema(fuzzed_server):
    schema = schemathesis.openapi.from_url(fuzzed_server.origin + openapi.OPENAPI_PATH)
    schema.config.update(base_url=fuzzed_server.origin)
    return schema


def _documented_calls() -> list[tuple[str, str]]:
    # The served document is this one (test_openapi_doc checks it), so the calls are known
    # before the server runs. schemathesis's own pytest plugin is not used: its lazy loader
    # (`from_fixture`) reads a pytest internal that pytest 9 no longer has.
    return [(method.upper(), path) for path, item in openapi.PATHS.items() for method in item]


def _sendable(name: str, value: object) -> bool:
    """Invalid cases add headers at random. Those the HTTP layer owns, and those that are not
    HTTP at all, are answered by uvicorn (400 text/plain) before the app sees them."""
    return (isinstance(value, str) and _TOKEN.fullmatch(name) is not None
            and _FIELD_VALUE.fullmatch(value) is not None and name.lower() not in _HTTP_LAYER_HEADERS)


def _steer(case, fuzzed_server) -> None:
    """Put real credentials, a live refresh token or real path ids into a case (see the
    module's docstring)."""
    path_ids = {"message_id", "reply_id"} & set(case.path_parameters or {})
    if path_ids:
        fresh = _fresh_ids(fuzzed_server)
        case.path_parameters = {**case.path_parameters, **{name: fresh[name] for name in path_ids}}
    if not isinstance(case.body, dict):
        return
    if case.path == "/api/auth/jwt/create/":
        case.body = {**case.body, "email": SPARE_USER, "password": SPARE_USER.split("@")[0] + "-pass"}
    elif case.path in ("/api/auth/jwt/refresh/", "/api/auth/jwt/blacklist/"):
        case.body = {**case.body, "refresh": _spare_login()["refresh"]}


# What steering uses, set up before any case runs (`steering`): the trainer's headers, and
# one cookie jar for the spare user's logins. Its first login makes it a known device, so the
# wrong logins the cases make from this address (20 in 5 minutes lock the address) never
# refuse the steering's own.
_STEERING: dict = {}


@pytest.fixture(scope="module")
def steering(fuzzed_server, trainer_headers) -> None:
    _STEERING.update(trainer=trainer_headers, spare=plain_http.Client(base_url=fuzzed_server.origin))
    _spare_login()
    yield
    _STEERING.pop("spare").close()


def _spare_login() -> dict:
    response = _STEERING["spare"].post(
        "/api/auth/jwt/create/", json={"email": SPARE_USER, "password": SPARE_USER.split("@")[0] + "-pass"})
    assert response.status_code == 200, response.text
    return response.json()


def _fresh_ids(fuzzed_server) -> dict[str, int]:
    """Path ids a steered case may name: a message the trainer has just sent (inside the edit
    and delete windows) and a saved reply of the trainer's own (a new one while there is
    room: a DELETE case removes the one it names)."""
    origin, headers = fuzzed_server.origin, _STEERING["trainer"]
    conversation_id = 1  # the demo's coach-alex: not archived
    sent = plain_http.post(f"{origin}/api/messaging/conversations/{conversation_id}/send/", json={"content": "steered"},
                      headers=headers)
    assert sent.status_code == 201, sent.text
    reply = plain_http.post(origin + "/api/messaging/saved-replies/", json={"title": "steered", "content": "reply"},
                       headers=headers)
    if reply.status_code != 201:  # at the per-user cap: name one that exists
        reply_id = plain_http.get(origin + "/api/messaging/saved-replies/", headers=headers).json()[0]["id"]
    else:
        reply_id = reply.json()["id"]
    return {"message_id": sent.json()["id"], "reply_id": reply_id}


@pytest.mark.parametrize(("method", "path"), _documented_calls())
def test_every_call_answers_as_documented(method, path, api_schema, fuzzed_server, trainer_headers,
                                          trainer_conversations, steering):
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    statuses: collections.Counter[int] = collections.Counter()

    @given(case=cases, steered=st.booleans(), conversation_id=st.sampled_from([*trainer_conversations, None]))
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def answers_as_documented(case, steered, conversation_id):
        case.headers = {name: value for name, value in (case.headers or {}).items() if _sendable(name, value)}
        if conversation_id is not None and "conversation_id" in (case.path_parameters or {}):
            case.path_parameters = {**case.path_parameters, "conversation_id": conversation_id}
        if steered:
            _steer(case, fuzzed_server)
        response = case.call_and_validate(headers=trainer_headers, checks=CHECKS, timeout=30)
        statuses[response.status_code] += 1

    answers_as_documented()
    assert any(200 <= status < 300 for status in statuses), f"{method} {path} never succeeded: {dict(statuses)}"
