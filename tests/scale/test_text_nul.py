"""A NUL character in a message or a login e-mail is a 400 on every engine (PostgreSQL's text
cannot hold one: it was a 500 there, and stored as sent on SQLite)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*httpx2.*")
from starlette.testclient import TestClient  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_harness import bearer, login, write_fake_site  # noqa: E402

from server.app import create_app  # noqa: E402


@pytest.fixture(params=["sqlite", "postgres"])
def client(request, tmp_path, monkeypatch):
    import server.passwords as passwords
    monkeypatch.setattr(passwords, "N", 2**10)  # the seed hashes four passwords
    monkeypatch.setattr(passwords, "P", 1)
    database = (tmp_path / "db.sqlite3" if request.param == "sqlite"
                else request.getfixturevalue("postgres_dsn"))
    app = create_app(database, site_root=write_fake_site(tmp_path / "site"), media_dir=tmp_path / "media", demo=True)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _first_conversation(client, headers) -> int:
    return client.get("/api/messaging/conversations/", headers=headers).json()[0]["id"]


@pytest.mark.parametrize("send", ["json", "form"])
def test_a_message_with_a_nul_is_refused(client, send):
    headers = bearer(login(client))
    url = f"/api/messaging/conversations/{_first_conversation(client, headers)}/send/"
    body = {"json": {"content": "a\x00b"}} if send == "json" else {"data": {"content": "a\x00b"}}
    response = client.post(url, headers=headers, **body)
    assert response.status_code == 400
    assert response.json() == {"detail": "content must not contain NUL characters."}


def test_a_login_with_a_nul_in_the_email_is_refused(client):
    response = client.post("/api/auth/jwt/create/", json={"email": "coach@example.com\x00", "password": "x"})
    assert response.status_code == 400
    assert response.json() == {"detail": "email must not contain NUL characters."}
