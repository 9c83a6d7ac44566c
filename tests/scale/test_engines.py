"""One schema, two engines: the same REST and socket conversation gives the same answers on
SQLite and on PostgreSQL (issue 19: "one schema and one ordered list of migrations").

The app runs in-process (TestClient) on each engine with the same fake clock, so the demo
seed's times and ids match; every answer (minus the random tokens) is compared.
"""

from __future__ import annotations

import re
import struct
import sys
import uuid
import zlib
from pathlib import Path

import pytest
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_harness import FakeClock, write_fake_site  # noqa: E402

from server.app import create_app  # noqa: E402

START = 1_790_000_000.0
BASE = "/api/messaging/conversations"


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


@pytest.fixture
def cheap_hashing(monkeypatch):
    import server.passwords as passwords
    monkeypatch.setattr(passwords, "N", 2**10)
    monkeypatch.setattr(passwords, "P", 1)


def _conversation(client: TestClient, clock: FakeClock) -> list:
    """Every answer of a scripted session, in order."""
    seen: list = []

    def keep(response, *, tokens=False):
        body = response.json() if response.content else None  # a 204 has no body
        if tokens:
            body = sorted(body)  # the token values are random; their names are not
        seen.append((response.status_code, body))
        return response.json() if response.content else None

    def login(email):
        password = email.split("@")[0].lower() + "-pass"
        return keep(client.post("/api/auth/jwt/create/", json={"email": email, "password": password}), tokens=True)

    coach, alex = login("coach@example.com"), login("ALEX@example.com")  # e-mails match whatever their case
    keep(client.post("/api/auth/jwt/create/", json={"email": "alex@example.com", "password": "wrong"}))
    as_coach = {"Authorization": f"Bearer {coach['access']}"}
    as_alex = {"Authorization": f"Bearer {alex['access']}"}
    for headers in (as_coach, as_alex):
        keep(client.get(f"{BASE}/", headers=headers))
        keep(client.get("/api/messaging/unread-count/", headers=headers))
        keep(client.get("/api/auth/users/me/", headers=headers))
    keep(client.get(f"{BASE}/1/messages/", headers=as_coach))
    keep(client.get(f"{BASE}/1/messages/?limit=5&before=100", headers=as_coach))
    keep(client.get(f"{BASE}/1/messages/?limit=7&after=110", headers=as_coach))
    keep(client.get(f"{BASE}/2/messages/", headers=as_alex))  # not Alex's: 403
    keep(client.get(f"{BASE}/999/messages/", headers=as_alex))  # 404
    with client.websocket_connect(f"/ws/messaging/1/?token={coach['access']}") as coach_socket, \
            client.websocket_connect(f"/ws/inbox/?token={alex['access']}") as alex_inbox:
        clock.advance(60)
        client_id = str(uuid.UUID(int=7))
        keep(client.post(f"{BASE}/1/send/", json={"content": "Same on both", "client_message_id": client_id},
                         headers=as_alex))
        keep(client.post(f"{BASE}/1/send/", json={"content": "Same on both", "client_message_id": client_id},
                         headers=as_alex))  # idempotent: 200, the same message
        seen.append(coach_socket.receive_json())
        seen.append(alex_inbox.receive_json())
        keep(client.post(f"{BASE}/1/send/", data={"content": ""}, files={"image": ("x.png", _png_1x1(), "image/png")},
                         headers=as_alex))
        seen.append(coach_socket.receive_json()["message"]["content"])
        seen.append(alex_inbox.receive_json()["message"]["image"])
        keep(client.post(f"{BASE}/1/read/", headers=as_coach))
        seen.append(coach_socket.receive_json())
        seen.append(alex_inbox.receive_json())
        keep(client.post(f"{BASE}/3/send/", json={"content": "archived"}, headers=as_coach))  # 403
    for headers in (as_coach, as_alex):
        keep(client.get(f"{BASE}/", headers=headers))
        keep(client.get("/api/messaging/unread-count/", headers=headers))
    created = keep(client.post("/__faults/conversation", json={"trainer_email": "coach@example.com",
                                                               "trainee_email": "new@example.com", "messages": 3}))
    keep(client.get(f"{BASE}/{created['id']}/messages/", headers=as_coach))
    _optional_features(client, clock, keep, seen, as_coach, as_alex, coach["access"], alex["access"])
    rotated = keep(client.post("/api/auth/jwt/refresh/", json={"refresh": coach["refresh"]}), tokens=True)
    keep(client.post("/api/auth/jwt/blacklist/", json={"refresh": rotated["refresh"]}))
    keep(client.get("/api/auth/users/me/", headers=as_coach))  # the session ended: 401
    return seen


def _optional_features(client: TestClient, clock: FakeClock, keep, seen: list, as_coach: dict, as_alex: dict,
                       coach_access: str, alex_access: str) -> None:
    """CONTRACT's optional features: edit, delete, saved replies, search (non-ASCII text,
    LIKE's wildcards, the ordering of titles) and their socket frames."""
    keep(client.get("/api/messaging/capabilities/", headers=as_alex))
    with client.websocket_connect(f"/ws/messaging/1/?token={alex_access}") as alex_socket, \
            client.websocket_connect(f"/ws/inbox/?token={coach_access}") as coach_inbox:
        sent = keep(client.post(f"{BASE}/1/send/", json={"content": "Ÿoga at 50% ÉTÉ_plan"}, headers=as_coach))
        clock.advance(60)
        keep(client.patch(f"/api/messaging/messages/{sent['id']}/", json={"content": "ΣΤΡΕΤΣ at 50%_off"},
                          headers=as_coach))
        keep(client.patch(f"/api/messaging/messages/{sent['id']}/", json={"content": "x"}, headers=as_alex))  # 403
        photo = keep(client.post(f"{BASE}/1/send/", data={"content": "form check"},
                                 files={"image": ("x.png", _png_1x1(), "image/png")}, headers=as_alex))
        keep(client.delete(f"/api/messaging/messages/{photo['id']}/", headers=as_alex))
        keep(client.delete(f"/api/messaging/messages/{photo['id']}/", headers=as_alex))  # again: 204
        for _ in range(4):  # new_message, message_updated, new_message, message_deleted
            seen.append(alex_socket.receive_json())
            seen.append(coach_inbox.receive_json())
    found = [keep(client.get("/api/messaging/search/", params={"q": query}, headers=as_coach))["results"]
             for query in ("στρετσ", "50%_", "ÿoga", "form check", "%%")]
    assert [len(results) for results in found] == [1, 1, 0, 0, 0]  # the edit and the delete counted
    keep(client.get("/api/messaging/search/", params={"q": "run", "limit": 3, "before": 100}, headers=as_alex))
    keep(client.get("/api/messaging/search/", params={"q": "run", "conversation_id": 2}, headers=as_alex))  # 403
    keep(client.get(f"{BASE}/", headers=as_coach))  # the deleted photo's preview
    replies = [keep(client.post("/api/messaging/saved-replies/", json={"title": title, "content": "é" * 3},
                                headers=as_coach)) for title in ("écrire", "Zebra", "apple", "Élan", "Apple")]
    keep(client.patch(f"/api/messaging/saved-replies/{replies[1]['id']}/", json={"title": "ábaco"},
                      headers=as_coach))
    keep(client.delete(f"/api/messaging/saved-replies/{replies[2]['id']}/", headers=as_coach))
    keep(client.delete(f"/api/messaging/saved-replies/{replies[0]['id']}/", headers=as_alex))  # 404: not Alex's
    keep(client.get("/api/messaging/saved-replies/", headers=as_coach))


def _session(database: str, site: Path, media: Path) -> list:
    clock = FakeClock(START)
    app = create_app(database, site_root=site, faults=True, clock=clock, media_dir=media, demo=True)
    with TestClient(app) as client:
        return _conversation(client, clock)


def _without_image_names(answers: list) -> list:
    """Stored photos get random names; everything else must be equal."""
    text = repr(answers)
    return [re.sub(r"/media/[A-Za-z0-9_-]+\.png", "/media/<name>.png", text)]


def test_sqlite_and_postgresql_answer_alike(tmp_path, postgres_dsn, cheap_hashing):
    site = write_fake_site(tmp_path / "site")
    on_sqlite = _session(str(tmp_path / "db.sqlite3"), site, tmp_path / "media-sqlite")
    on_postgres = _session(postgres_dsn, site, tmp_path / "media-postgres")
    assert len(on_sqlite) > 30
    assert _without_image_names(on_sqlite) == _without_image_names(on_postgres)
    # and the script reached what it meant to: the statuses say so
    statuses = [entry[0] for entry in on_sqlite if isinstance(entry, tuple)]
    assert statuses.count(401) == 2 and statuses.count(403) == 4 and statuses.count(404) == 2
    assert 201 in statuses and 200 in statuses and statuses.count(204) == 3
