"""The OpenAPI document (server/openapi.py) is true: it names exactly the app's /api/ routes
and methods, it is valid OpenAPI 3.1, it is served as is to anyone, and real answers of a
live serve.py (successes and errors) have a documented status, headers and body shape."""

from __future__ import annotations

import copy
import re
import sys
import uuid

import httpx
import plain_http
import jsonschema
import pytest
import schemathesis
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from server import openapi
from server.openapi import DOCUMENT, OPENAPI_PATH
from server_harness import bearer

_DOC_URI = "urn:coachline:openapi"
_REGISTRY = Registry().with_resource(_DOC_URI, Resource(contents=DOCUMENT, specification=DRAFT202012))


def _app_api_routes(app) -> dict[str, set[str]]:
    """/api/ path (in OpenAPI's spelling) -> its methods; HEAD comes with every GET in Starlette."""
    routes: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            path = route.path.replace(":id}", "}")
            methods = set(route.methods or ())
            assert "HEAD" not in methods or "GET" in methods, route.path
            routes.setdefault(path, set()).update(methods - {"HEAD"})
    return routes


def _documented_routes(document: dict) -> dict[str, set[str]]:
    return {path: {method.upper() for method in item} for path, item in document["paths"].items()}


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def check_answer(method: str, path: str, response: httpx.Response) -> None:
    """The answer's status is documented for the call, with its headers and its body's shape."""
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {path}: {status} is not documented ({sorted(responses)}): {response.text}"
    documented = responses[status]
    for header in documented.get("headers", {}):
        assert header in response.headers, f"{method} {path} {status}: no {header} header"
    content_type = response.headers["content-type"].split(";")[0]
    assert content_type in documented["content"], f"{method} {path} {status}: {content_type}"
    pointer = _pointer("paths", path, method.lower(), "responses", status, "content", content_type, "schema")
    validator = jsonschema.Draft202012Validator({"$ref": f"{_DOC_URI}#/{pointer}"}, registry=_REGISTRY)
    validator.validate(response.json())


# --- the document and the app --------------------------------------------------------

def test_every_api_route_is_documented_with_exactly_its_methods(make_app):
    assert _documented_routes(DOCUMENT) == _app_api_routes(make_app())


def test_a_route_missing_from_the_document_is_told(make_app):
    app = make_app()
    app.router.routes.insert(0, Route("/api/messaging/new-thing/", lambda request: None, methods=["GET"]))
    assert _documented_routes(DOCUMENT) != _app_api_routes(app)


def test_the_document_is_valid_openapi():
    schemathesis.openapi.from_dict(DOCUMENT).validate()
    for name, schema in DOCUMENT["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_not_blank_is_what_a_send_takes_for_text():
    # make_draft refuses content that str.strip() empties; the document's pattern must agree.
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (re.search(openapi.NOT_BLANK, char) is None) == char.isspace(), hex(code)


def test_an_invalid_document_is_refused():
    broken = copy.deepcopy(DOCUMENT)
    del broken["paths"]["/api/auth/users/me/"]["get"]["responses"]["200"]["description"]
    with pytest.raises(ValueError, match="description"):  # jsonschema_rs.ValidationError
        schemathesis.openapi.from_dict(broken).validate()


def test_the_document_is_served_to_anyone_and_may_be_cached(client):
    response = client.get(OPENAPI_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.json() == DOCUMENT
    check_answer("GET", OPENAPI_PATH, response)


def test_the_document_carries_no_secret(client):
    secret = client.app.state.ctx.tokens.secret
    assert secret and secret not in client.get(OPENAPI_PATH).text


def test_other_methods_on_the_document_are_405_with_allow(client):
    response = client.post(OPENAPI_PATH)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


# --- real answers of a live server -------------------------------------------------------

CONVERSATIONS = "/api/messaging/conversations/"
MESSAGES = "/api/messaging/conversations/{conversation_id}/messages/"
SEND = "/api/messaging/conversations/{conversation_id}/send/"
READ = "/api/messaging/conversations/{conversation_id}/read/"


def test_real_answers_fit_the_document(live_server, tiny_png):
    server = live_server()
    http = plain_http.Client(base_url=server.origin, timeout=30)

    def answer(method: str, path: str, expected: int, *, ids: dict | None = None, **kwargs) -> httpx.Response:
        response = http.request(method, path.format(**(ids or {})), **kwargs)
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        check_answer(method, path, response)
        return response

    login = answer("POST", "/api/auth/jwt/create/", 200, json={"email": "coach@example.com", "password": "coach-pass"})
    coach = bearer(login.json())
    sam = bearer(server.login("sam@example.com"))
    answer("POST", "/api/auth/jwt/create/", 400, content=b"{", headers={"content-type": "application/json"})
    answer("POST", "/api/auth/jwt/create/", 415, content=b"{}", headers={"content-type": "text/plain"})
    answer("POST", "/api/auth/jwt/create/", 403, json={}, headers={"origin": "https://elsewhere.example"})
    answer("POST", "/api/auth/jwt/create/", 413, json={"email": "x" * 300_000, "password": "p"})
    for _ in range(5):
        answer("POST", "/api/auth/jwt/create/", 401, json={"email": "alex@example.com", "password": "wrong"})
    answer("POST", "/api/auth/jwt/create/", 429, json={"email": "alex@example.com", "password": "wrong"})

    refreshed = answer("POST", "/api/auth/jwt/refresh/", 200, json={"refresh": login.json()["refresh"]})
    answer("POST", "/api/auth/jwt/refresh/", 401, json={"refresh": "not-a-token"})
    answer("GET", "/api/auth/users/me/", 200, headers=coach)
    answer("GET", "/api/auth/users/me/", 401)

    conversations = answer("GET", CONVERSATIONS, 200, headers=coach).json()
    active = next(c["id"] for c in conversations if not c["is_archived"] and c["trainee"]["first_name"] == "Alex")
    archived = next(c["id"] for c in conversations if c["is_archived"])
    page = answer("GET", MESSAGES, 200, ids={"conversation_id": active}, params={"limit": 5}, headers=coach).json()
    assert len(page["results"]) == 5
    answer("GET", MESSAGES, 400, ids={"conversation_id": active}, params={"before": 9, "after": 1}, headers=coach)
    answer("GET", MESSAGES, 403, ids={"conversation_id": active}, headers=sam)
    answer("GET", MESSAGES, 404, ids={"conversation_id": 999_999}, headers=coach)

    draft = {"content": "hello", "client_message_id": str(uuid.uuid4())}
    answer("POST", SEND, 201, ids={"conversation_id": active}, json=draft, headers=coach)
    answer("POST", SEND, 200, ids={"conversation_id": active}, json=draft, headers=coach)
    photo = answer("POST", SEND, 201, ids={"conversation_id": active}, headers=coach, data={"content": ""},
                   files={"image": ("dot.png", tiny_png, "image/png")}).json()
    assert photo["image"]
    answer("POST", SEND, 400, ids={"conversation_id": active}, json={"content": " "}, headers=coach)
    answer("POST", SEND, 403, ids={"conversation_id": archived}, json={"content": "hi"}, headers=coach)

    answer("POST", READ, 200, ids={"conversation_id": active}, headers=coach)
    answer("POST", READ, 404, ids={"conversation_id": 999_999}, headers=coach)
    answer("GET", "/api/messaging/unread-count/", 200, headers=coach)
    answer("POST", "/api/auth/jwt/blacklist/", 200, json={"refresh": refreshed.json()["refresh"]})
    answer("POST", "/api/auth/jwt/blacklist/", 401, json={"refresh": refreshed.json()["refresh"]})


def test_an_answer_the_document_does_not_allow_is_told():
    request = httpx.Request("GET", "http://server/api/messaging/unread-count/")
    extra_field = httpx.Response(200, json={"unread_count": 1, "extra": True}, request=request)
    with pytest.raises(jsonschema.ValidationError):
        check_answer("GET", "/api/messaging/unread-count/", extra_field)
    undocumented_status = httpx.Response(404, json={"detail": "Not found."}, request=request)
    with pytest.raises(AssertionError):
        check_answer("GET", "/api/messaging/unread-count/", undocumented_status)
