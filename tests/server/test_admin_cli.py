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
    return httpx.post(origin + "/api/auth/jwt/create/", json={"email": email, "password": password})


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
