"""Issue 20 items 1 and 2: demo data only when asked, and accounts and conversations from
the command line (`serve.py users ...`, `serve.py conversations ...`).

The commands run as the admin would run them: `serve.py` in a subprocess, on a database
file, with exit codes 0 (done), 1 (refused) and 2 (usage).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import plain_http
from starlette.testclient import TestClient

from server_harness import ROOT, LiveServer

from server.app import create_app

PASSWORD = "correct horse battery"


def admin(db: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """`serve.py ARGS --db DB`, with `password` on its stdin (--password-stdin)."""
    command = [sys.executable, str(ROOT / "serve.py"), *args, "--db", str(db)]
    if password is not None:
        command.append("--password-stdin")
    return subprocess.run(command, cwd=ROOT, input=(password or "") + "\n", capture_output=True, text=True,
                          timeout=60)


def login(origin: str, email: str, password: str) -> httpx.Response:
    return plain_http.post(origin + "/api/auth/jwt/create/", json={"email": email, "password": password})


# --- demo data only when asked ------------------------------------------------------------------

def test_without_demo_a_new_database_has_no_accounts_and_the_banner_says_how_to_add_one(tmp_path):
    db = tmp_path / "db" / "messaging.sqlite3"
    server = LiveServer(db, tmp_path / "logs", demo=False).start()
    try:
        assert login(server.origin, "coach@example.com", "coach-pass").status_code == 401
        banner = server.stdout()
    finally:
        server.stop()
    assert f"python serve.py users add --email EMAIL --role trainer --first FIRST --last LAST --db {db}" in banner
    assert "coach-pass" not in banner
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


def test_with_demo_a_new_database_gets_the_demo_accounts(tmp_path):
    server = LiveServer(tmp_path / "db" / "messaging.sqlite3", tmp_path / "logs").start()  # demo=True
    try:
        assert login(server.origin, "coach@example.com", "coach-pass").status_code == 200
        assert "coach@example.com" in server.stdout()
    finally:
        server.stop()


def test_create_app_seeds_nothing_unless_asked(tmp_path, site_root):
    with TestClient(create_app(tmp_path / "empty.sqlite3", site_root=site_root)) as client:
        assert client.app.state.ctx is not None
        answer = client.post("/api/auth/jwt/create/", json={"email": "coach@example.com", "password": "coach-pass"})
        assert answer.status_code == 401


def test_run_sh_passes_demo():
    assert "serve.py --demo" in (ROOT / "run.sh").read_text()


# --- accounts -------------------------------------------------------------------------------------

def test_users_add_makes_an_account_that_logs_in_and_list_shows_it(tmp_path):
    db = tmp_path / "messaging.sqlite3"
    added = admin(db, "users", "add", "--email", "Pat@Gym.example", "--role", "trainer", "--first", "Pat",
                  "--last", "Lee", password=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added trainer Pat@Gym.example (id 1)"
    listed = admin(db, "users", "list")
    assert listed.returncode == 0
    assert listed.stdout.split() == ["1", "trainer", "active", "Pat@Gym.example", "Pat", "Lee"]
    server = LiveServer(db, tmp_path / "logs", demo=False).start()
    try:
        assert login(server.origin, "pat@gym.example", PASSWORD).status_code == 200
        assert login(server.origin, "pat@gym.example", PASSWORD + "x").status_code == 401
    finally:
        server.stop()


def test_the_password_is_asked_without_echo_or_read_from_stdin_and_follows_the_rules(tmp_path):
    db = tmp_path / "messaging.sqlite3"
    base = ("users", "add", "--email", "a@gym.example", "--role", "trainee", "--first", "A", "--last", "B")
    no_terminal = subprocess.run([sys.executable, str(ROOT / "serve.py"), *base, "--db", str(db)], cwd=ROOT,
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
    short = admin(db, *base, password="seven77")
    assert short.returncode == 1
    assert short.stderr.strip() == "serve.py: a password needs at least 8 characters"
    too_long = admin(db, *base, password="x" * 1025)
    assert too_long.returncode == 1 and "at most 1024" in too_long.stderr
    assert admin(db, *base, password=PASSWORD).returncode == 0


def test_refusals_are_one_line_with_exit_1_and_usage_errors_exit_2(tmp_path):
    db = tmp_path / "messaging.sqlite3"

    def add(email, role, password=PASSWORD):
        return admin(db, "users", "add", "--email", email, "--role", role, "--first", "F", "--last", "L",
                     password=password)

    assert add("coach@gym.example", "trainer").returncode == 0
    assert add("kim@gym.example", "trainee").returncode == 0
    refused = {
        "duplicate": add("COACH@gym.example", "trainee"),
        "bad e-mail": add("not-an-address", "trainee"),
        "unknown e-mail": admin(db, "users", "disable", "nobody@gym.example"),
        "wrong role": admin(db, "conversations", "add", "kim@gym.example", "coach@gym.example"),
        "unknown conversation": admin(db, "conversations", "archive", "7"),
        "no such database": admin(tmp_path / "typo.sqlite3", "users", "list"),
    }
    for what, result in refused.items():
        assert result.returncode == 1, (what, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("serve.py: "), (what, result.stderr)
    assert "already exists" in refused["duplicate"].stderr
    assert "kim@gym.example is a trainee, not a trainer" in refused["wrong role"].stderr
    for usage in (add("x@gym.example", "boss"), admin(db, "users"), admin(db, "conversations", "archive", "one")):
        assert usage.returncode == 2
    assert admin(db, "users", "list").stdout.count("\n") == 2  # nothing was added by the refusals


def test_conversations_add_list_archive(tmp_path):
    db = tmp_path / "messaging.sqlite3"
    for email, role in (("coach@gym.example", "trainer"), ("kim@gym.example", "trainee")):
        admin(db, "users", "add", "--email", email, "--role", role, "--first", "F", "--last", "L", password=PASSWORD)
    assert admin(db, "conversations", "add", "coach@gym.example", "kim@gym.example").stdout.strip() == \
        "added conversation 1"
    again = admin(db, "conversations", "add", "coach@gym.example", "KIM@gym.example")
    assert again.returncode == 1 and "already have conversation 1" in again.stderr
    assert admin(db, "conversations", "list").stdout.split()[:5] == \
        ["1", "open", "coach@gym.example", "->", "kim@gym.example"]
    assert admin(db, "conversations", "archive", "1").returncode == 0
    twice = admin(db, "conversations", "archive", "1")
    assert twice.returncode == 1 and twice.stderr.strip() == "serve.py: conversation 1 is archived already"
    assert admin(db, "conversations", "list").stdout.split()[:2] == ["1", "archived"]
    # an archived pair may start again (a new programme)
    assert admin(db, "conversations", "add", "coach@gym.example", "kim@gym.example").returncode == 0


def test_a_disabled_account_cannot_log_in_or_refresh_and_enable_lets_it_back(live_server):
    server = live_server()
    tokens = server.login("alex@example.com")
    assert admin(server.db, "users", "disable", "alex@example.com").returncode == 0
    assert login(server.origin, "alex@example.com", "alex-pass").json() == \
        login(server.origin, "alex@example.com", "wrong-pass").json()  # told apart from a bad password: no
    assert login(server.origin, "alex@example.com", "alex-pass").status_code == 401
    refresh = plain_http.post(server.origin + "/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]})
    assert refresh.status_code == 401
    me = plain_http.get(server.origin + "/api/auth/users/me/", headers={"Authorization": f"Bearer {tokens['access']}"})
    assert me.status_code == 401
    twice = admin(server.db, "users", "disable", "alex@example.com")
    assert twice.returncode == 1 and "disabled already" in twice.stderr
    assert "disabled" in admin(server.db, "users", "list").stdout
    assert admin(server.db, "users", "enable", "alex@example.com").returncode == 0
    assert login(server.origin, "alex@example.com", "alex-pass").status_code == 200
    assert refresh.status_code == 401  # the sessions it had stay ended


def test_set_password_ends_the_sessions_and_the_new_one_works(live_server):
    server = live_server()
    tokens = server.login("sam@example.com")
    changed = admin(server.db, "users", "set-password", "sam@example.com", password="a brand new one")
    assert changed.returncode == 0, changed.stderr
    assert "1 session ended" in changed.stdout
    assert plain_http.post(server.origin + "/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]}).status_code == 401
    assert login(server.origin, "sam@example.com", "sam-pass").status_code == 401
    assert login(server.origin, "sam@example.com", "a brand new one").status_code == 200
