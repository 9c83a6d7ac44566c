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

import shutil
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_harness import FakeClock, LiveServer, write_fake_site  # noqa: E402  (puts the repo on sys.path)

warnings.filterwarnings("ignore", message=".*httpx2.*")

from starlette.testclient import TestClient  # noqa: E402

from server.app import create_app, prepare_database  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Hashes made during the tests use a low scrypt cost. Each hash stores its own
    parameters, so logins (here and in the live servers, which run on copies of the demo
    database made here) still verify through the real scrypt path, only faster."""
    import server.passwords as passwords
    saved = passwords.N, passwords.P
    passwords.N, passwords.P = 2**10, 1
    yield
    passwords.N, passwords.P = saved


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory, cheap_password_hashing) -> Path:
    """Seeding hashes four passwords with scrypt; do it once and copy the file per test."""
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    prepare_database(path, demo=True)
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
        options = {"site_root": site_root, "faults": True, "clock": clock, "demo": True, **overrides}
        return create_app(db_path, **options)

    return make


@pytest.fixture
def client(make_app):
    with TestClient(make_app()) as test_client:
        yield test_client


# --- the real server -------------------------------------------------------------------

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
