"""Harness for the reference backend's tests.

- `make_app(**kw)` builds the Starlette app on a fresh copy of a demo database seeded once
  per session, over a small fake site (`site_root`) with fake PyScript/Pyodide packages,
  with fault controls on and a fake clock (`clock.advance(s)`), unless told otherwise.
- `client` is a TestClient on such an app, entered so that HTTP calls and WebSocket
  sessions share one event loop (the hub's queues live on it).
- `live_server(...)` starts the real `serve.py` on a free port and stops it afterwards;
  used where only a real server shows the behaviour (logs, signals, handshake, frame limits).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore", message=".*httpx2.*")

from starlette.testclient import TestClient  # noqa: E402

from server.app import create_app, open_context  # noqa: E402

PYSCRIPT_VERSION = "9.9.1"
PYODIDE_VERSION = "300.1.2"
# Big enough to be worth compressing.
FAKE_CORE_JS = ("export const hello = 'pyscript';\n" * 200).encode()
FAKE_WASM = b"\x00asm\x01\x00\x00\x00" + bytes(range(256)) * 64


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_fake_site(root: Path) -> Path:
    """A site with every kind of file the server serves, and fake vendor packages."""
    files = {
        "index.html": b"<!doctype html><title>chat</title><script type=module src=./vendor/x.js></script>\n",
        "pyscript.toml": b'name = "chat"\n[files]\n"./py/app.py" = "app.py"\n',
        "config.json": b'{"api_base": "", "ws_base": ""}\n',
        "py/app.py": ("def main():\n    return 'hello'\n" * 40).encode(),
        "py/pkg/models.py": b"X = 1\n",
        "py/bundle.zip": b"PK\x05\x06" + b"\x00" * 18,
        "py/data.json": b'{"a": 1}',
        "py/notes.txt": b"not part of the site",
        "py/__pycache__/app.cpython-311.pyc": b"\x00",
        "static/app.css": b"body { color: #222; }\n" * 30,
        "static/icon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "static/logo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        "static/font.woff2": b"wOF2" + b"\x00" * 40,
        "static/secret.env": b"nope",
        "bench/index.html": b"<!doctype html><title>bench</title>",
        "secret.txt": b"top secret",
        "node_modules/@pyscript/core/package.json": json.dumps({"version": PYSCRIPT_VERSION}).encode(),
        "node_modules/@pyscript/core/dist/core.js": FAKE_CORE_JS,
        "node_modules/@pyscript/core/dist/core.css": b".py { display: none }\n",
        "node_modules/@pyscript/core/src/core.js": b"// source, not served",
        "node_modules/pyodide/package.json": json.dumps({"version": PYODIDE_VERSION}).encode(),
        "node_modules/pyodide/pyodide.mjs": b"export const loadPyodide = () => 1;\n" * 20,
        "node_modules/pyodide/pyodide.asm.wasm": FAKE_WASM,
        "node_modules/pyodide/python_stdlib.zip": b"PK\x03\x04" + b"\x01" * 2000,
        "node_modules/pyodide/pyodide-lock.json": b'{"packages": {}}',
        "node_modules/other/package.json": b'{"version": "1.0.0"}',
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Hashes made during the tests use a low scrypt cost. Each hash stores its own
    parameters, so logins (here and in the live servers, which run on copies of the demo
    database made here) still verify through the real scrypt path, only faster."""
    import server.passwords as passwords
    saved = passwords.N
    passwords.N = 2**10
    yield
    passwords.N = saved


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory, cheap_password_hashing) -> Path:
    """Seeding hashes four passwords with scrypt; do it once and copy the file per test."""
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    open_context(path).store.conn.close()
    return path


@pytest.fixture(scope="session")
def site_root(tmp_path_factory) -> Path:
    return write_fake_site(tmp_path_factory.mktemp("site"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path, demo_db_template) -> Path:
    path = tmp_path / "db" / "messaging.sqlite3"
    path.parent.mkdir()
    shutil.copy(demo_db_template, path)
    return path


@pytest.fixture
def make_app(db_path, site_root, clock):
    def make(**overrides):
        options = {"site_root": site_root, "faults": True, "clock": clock, **overrides}
        return create_app(db_path, **options)

    return make


@pytest.fixture
def client(make_app):
    with TestClient(make_app()) as test_client:
        yield test_client


def login(client, email: str = "coach@example.com", password: str | None = None) -> dict:
    password = password if password is not None else email.split("@")[0] + "-pass"
    response = client.post("/api/auth/jwt/create/", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens: dict | str) -> dict:
    access = tokens if isinstance(tokens, str) else tokens["access"]
    return {"Authorization": f"Bearer {access}"}


def new_conversation(client, trainee_email: str, messages: int = 0, archived: bool = False) -> dict:
    response = client.post("/__faults/conversation", json={
        "trainer_email": "coach@example.com", "trainee_email": trainee_email,
        "messages": messages, "archived": archived})
    assert response.status_code == 201, response.text
    return response.json()


# --- the real server -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`serve.py` in a subprocess with stdout and stderr captured to files."""

    def __init__(self, db: Path, logs: Path, extra_args=()) -> None:
        self.db = db
        self.logs = logs
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_origin(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / "stdout.txt", "ab") as out, open(self.logs / "stderr.txt", "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "serve.py"), "--port", str(self.port), "--db", str(self.db),
                 *self.extra_args],
                cwd=ROOT, stdout=out, stderr=err)
        deadline = time.time() + 20
        while time.time() < deadline:
            if "Serving at " + self.origin in self.stdout():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("serve.py exited:\n" + self.stdout() + self.stderr())
            time.sleep(0.05)
        raise RuntimeError("serve.py did not start:\n" + self.stdout() + self.stderr())

    def stdout(self) -> str:
        path = self.logs / "stdout.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def stderr(self) -> str:
        path = self.logs / "stderr.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, signal_number: int | None = None, timeout: float = 10) -> int | None:
        if self.proc is None:
            return None
        if signal_number is None:
            self.proc.terminate()
        else:
            self.proc.send_signal(signal_number)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        self.proc = None
        return code

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(5)
        self.proc = None

    def login(self, email: str = "coach@example.com") -> dict:
        response = httpx.post(self.origin + "/api/auth/jwt/create/",
                              json={"email": email, "password": email.split("@")[0] + "-pass"})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def live_server(tmp_path, demo_db_template):
    servers: list[LiveServer] = []

    def start(*extra_args, db: Path | None = None) -> LiveServer:
        if db is None:
            db = tmp_path / f"live{len(servers)}" / "messaging.sqlite3"
            db.parent.mkdir(parents=True)
            shutil.copy(demo_db_template, db)
        server = LiveServer(db, tmp_path / f"logs{len(servers)}", extra_args).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch):
    # httpx would route 127.0.0.1 through a configured proxy.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def tiny_png() -> bytes:
    """A real 1x1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
