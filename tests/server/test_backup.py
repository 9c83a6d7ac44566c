"""Issue 20 item 7: one data directory, and `serve.py backup` / `serve.py restore`.

The backup runs while messages and photos are being sent; the backup restored into a new
folder, under a new server, holds every message acknowledged before the backup began, and
the photo of every message it holds.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading

import plain_http

from server_harness import ROOT, LiveServer

CONVERSATION = 1


def serve_py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "serve.py"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


class Sender(threading.Thread):
    """Sends as the coach, a photo every other message, until stopped; keeps every
    acknowledged message (201) in order, and wakes `acked` at each."""

    def __init__(self, server: LiveServer, access: str, photo: bytes) -> None:
        super().__init__(daemon=True)
        self.url = f"{server.origin}/api/messaging/conversations/{CONVERSATION}/send/"
        self.headers = {"Authorization": f"Bearer {access}"}
        self.photo = photo
        self.acknowledged: list[dict] = []
        self.acked = threading.Condition()
        self.stop = threading.Event()
        self.failure: str | None = None

    def run(self) -> None:
        with plain_http.Client(timeout=30, trust_env=False) as http:
            number = 0
            while not self.stop.is_set():
                number += 1
                if number % 2:
                    answer = http.post(self.url, headers=self.headers, data={"content": f"photo {number}"},
                                       files={"image": ("p.png", self.photo, "image/png")})
                else:
                    answer = http.post(self.url, headers=self.headers, json={"content": f"text {number}"})
                if answer.status_code != 201:
                    self.failure = f"{answer.status_code} {answer.text}"
                    self.stop.set()
                with self.acked:
                    if answer.status_code == 201:
                        self.acknowledged.append(answer.json())
                    self.acked.notify_all()

    def wait_for(self, count: int, timeout: float = 60) -> list[dict]:
        with self.acked:
            assert self.acked.wait_for(lambda: len(self.acknowledged) >= count or self.stop.is_set(), timeout)
            assert self.failure is None, self.failure
            return list(self.acknowledged)


def test_a_backup_taken_during_sends_restores_every_acknowledged_message_and_photo(tmp_path, demo_db_template,
                                                                                  tiny_png):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_db_template, data / "messaging.sqlite3")
    server = LiveServer(data / "messaging.sqlite3", tmp_path / "logs").start()
    sender = Sender(server, server.login("coach@example.com")["access"], tiny_png)
    sender.start()
    try:
        before = sender.wait_for(10)  # acknowledged before the backup begins
        backed_up = serve_py("backup", str(tmp_path / "backup"), "--data-dir", str(data))
        during = sender.wait_for(len(before) + 10)  # and it went on meanwhile
    finally:
        sender.stop.set()
        sender.join(30)
        server.stop()
    assert backed_up.returncode == 0, backed_up.stderr
    assert "messaging.sqlite3" in backed_up.stdout and "media:" in backed_up.stdout
    assert len(during) > len(before)

    fresh = tmp_path / "restored"
    restored = serve_py("restore", str(tmp_path / "backup"), "--data-dir", str(fresh))
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(fresh / "messaging.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    again = LiveServer(fresh / "messaging.sqlite3", tmp_path / "logs-restored", demo=False).start()
    try:
        access = again.login("coach@example.com")["access"]
        page = plain_http.get(f"{again.origin}/api/messaging/conversations/{CONVERSATION}/messages/",
                         params={"after": before[0]["id"] - 1, "limit": 200},
                         headers={"Authorization": f"Bearer {access}"}, trust_env=False).json()
        held = {message["id"]: message for message in page["results"]}
        for message in before:
            assert held.get(message["id"]) == message, f"message {message['id']} is missing or changed"
        photos = [m["image"] for m in held.values() if m["image"]]
        assert len(photos) >= len(before) // 2
        for photo in photos:  # the photo of every message the backup holds, acknowledged before or during it
            served = plain_http.get(again.origin + photo, trust_env=False)
            assert served.status_code == 200 and served.content == tiny_png, photo
    finally:
        again.stop()


def test_the_data_directory_holds_the_database_and_the_photos_and_is_printed_absolute(tmp_path, tiny_png):
    data = tmp_path / "elsewhere" / ".." / "data"
    server = LiveServer(None, tmp_path / "logs", ["--data-dir", str(data)]).start()  # no --db: the data dir's
    try:
        access = server.login("coach@example.com")["access"]
        sent = plain_http.post(f"{server.origin}/api/messaging/conversations/{CONVERSATION}/send/",
                          headers={"Authorization": f"Bearer {access}"}, data={"content": "photo"},
                          files={"image": ("p.png", tiny_png, "image/png")}, trust_env=False)
        assert sent.status_code == 201, sent.text
        banner = server.stdout()
    finally:
        server.stop()
    absolute = tmp_path / "data"
    assert f"Data directory: {absolute} (database: {absolute / 'messaging.sqlite3'}; photos: {absolute / 'media'})" \
        in banner
    assert (absolute / "messaging.sqlite3").is_file()
    assert (absolute / "media" / sent.json()["image"].removeprefix("/media/")).read_bytes() == tiny_png


def test_backup_and_restore_refuse_a_folder_that_is_not_empty(tmp_path, demo_db_template):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_db_template, data / "messaging.sqlite3")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    refused = serve_py("backup", str(full), "--data-dir", str(data))
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"serve.py: will not backup into {full}: it is not empty"
    assert serve_py("backup", str(tmp_path / "copy"), "--data-dir", str(data)).returncode == 0
    over = serve_py("restore", str(tmp_path / "copy"), "--data-dir", str(data))  # the live data dir
    assert over.returncode == 1 and "not empty" in over.stderr
    assert (full / "keep.txt").read_text() == "mine"
    missing = serve_py("restore", str(tmp_path / "nothing"), "--data-dir", str(tmp_path / "new"))
    assert missing.returncode == 1 and "no backup at" in missing.stderr


def test_with_postgresql_backup_copies_the_photos_and_names_pg_dump(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.png").write_bytes(b"png")
    result = serve_py("backup", str(tmp_path / "copy"), "--db", "postgresql://coach:s3cret@db.example/coachline",
                      "--media-dir", str(media))
    assert result.returncode == 0, result.stderr
    assert "pg_dump" in result.stdout and "s3cret" not in result.stdout
    assert (tmp_path / "copy" / "media" / "a.png").read_bytes() == b"png"
