"""Behaviour only a real `serve.py` process shows: logs, signals, handshakes, frame limits,
durability across SIGKILL, and faults that act on the TCP connection itself."""

import contextlib
import json
import signal
import time
import uuid

import httpx
import plain_http
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

BASE = "/api/messaging/conversations"


def open_socket(server, conversation_id, token, origin=None, **kwargs):
    return connect(f"{server.ws_origin}/ws/messaging/{conversation_id}/?token={token}", origin=origin,
                   proxy=None, open_timeout=5, **kwargs)


def ping(socket):
    socket.send(json.dumps({"type": "ping"}))
    return json.loads(socket.recv(timeout=5))


def closed_with(socket, timeout=5.0):
    """The close frame's code, or None when the link ended without one (what a browser calls 1006)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            socket.recv(timeout=timeout)
    return None if closed.value.rcvd is None else closed.value.rcvd.code


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, demo_db_template):
    """One server for the tests that leave it running."""
    import shutil

    from server_harness import LiveServer
    tmp = tmp_path_factory.mktemp("shared")
    shutil.copy(demo_db_template, tmp / "messaging.sqlite3")
    server = LiveServer(tmp / "messaging.sqlite3", tmp / "logs",
                        ["--faults", "--allow-origin", "https://other.example"]).start()
    yield server
    server.stop()


@pytest.fixture
def server(shared_server):
    yield shared_server
    plain_http.post(shared_server.origin + "/__faults/reset", json={})


def test_healthz_and_the_serving_line(server):
    assert plain_http.get(server.origin + "/healthz").json() == {"ok": True}
    out = server.stdout()
    assert f"Serving at {server.origin}" in out
    for email in ("coach@example.com", "alex@example.com", "sam@example.com", "jo@example.com"):
        assert email in out
    assert "coach-pass" in out


def test_origin_is_checked_at_the_handshake(server):
    token = server.login()["access"]
    for origin in (server.origin, "https://other.example", None):
        with open_socket(server, 1, token, origin=origin) as socket:
            assert ping(socket) == {"type": "pong"}
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{server.port + 1}"):
        with pytest.raises(InvalidStatus) as refused:
            open_socket(server, 1, token, origin=origin)
        assert refused.value.response.status_code == 403


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_a_frame_over_64_kib_closes_1009(server, compression):
    token = server.login()["access"]
    with open_socket(server, 1, token, compression=compression) as socket:
        socket.send(json.dumps({"type": "ping", "pad": "x" * 70000}))
        assert closed_with(socket) == 1009


def test_bad_token_closes_4001_after_accept(server):
    with open_socket(server, 1, "nope") as socket:
        assert closed_with(socket) == 4001


def test_refuse_fault_rejects_the_handshake(server):
    plain_http.post(server.origin + "/__faults/refuse", json={"on": True})
    with pytest.raises(InvalidStatus) as refused:
        open_socket(server, 1, server.login()["access"])
    assert refused.value.response.status_code == 403


def test_close_fault_with_1006_drops_the_link_without_a_close_frame(server):
    token = server.login()["access"]
    with open_socket(server, 1, token) as dropped, open_socket(server, 2, token) as kept:
        assert ping(dropped) == ping(kept) == {"type": "pong"}
        assert plain_http.post(server.origin + "/__faults/close",
                          json={"conversation_id": 1, "code": 1006}).json() == {"closed": 1}
        assert closed_with(dropped) is None
        assert ping(kept) == {"type": "pong"}


def test_silent_fault_means_no_pong_and_no_close(server):
    token = server.login()["access"]
    with open_socket(server, 1, token) as socket:
        assert ping(socket) == {"type": "pong"}
        plain_http.post(server.origin + "/__faults/silent", json={"on": True})
        socket.send(json.dumps({"type": "ping"}))
        with pytest.raises(TimeoutError):
            socket.recv(timeout=0.5)
        assert plain_http.get(server.origin + "/__faults/sockets").json()["open"].get("1") == 1
        # A silent link can still be dropped outright.
        assert plain_http.post(server.origin + "/__faults/close", json={"conversation_id": 1, "code": 1006}).json() \
            == {"closed": 1}
        assert closed_with(socket) is None


def test_sigterm_closes_every_socket_with_1012(live_server):
    server = live_server()
    coach, alex = server.login(), server.login("alex@example.com")
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(open_socket(server, cid, tokens["access"]))
                   for cid, tokens in ((1, coach), (2, coach), (1, alex))]
        for socket in sockets:
            assert ping(socket) == {"type": "pong"}
        server.proc.send_signal(signal.SIGTERM)
        assert [closed_with(socket) for socket in sockets] == [1012, 1012, 1012]  # service restart
    assert server.proc.wait(10) == 0  # a planned stop, not a death by the signal


def test_sigint_also_closes_with_1012(live_server):
    server = live_server()
    with open_socket(server, 1, server.login()["access"]) as socket:
        assert ping(socket) == {"type": "pong"}
        server.proc.send_signal(signal.SIGINT)
        assert closed_with(socket) == 1012


def test_no_token_reaches_the_logs(server):
    tokens = server.login()
    access, refresh = tokens["access"], tokens["refresh"]
    with open_socket(server, 1, access) as socket:
        ping(socket)
    with open_socket(server, 3, access) as archived:  # accepted then 4003
        closed_with(archived)
    with pytest.raises(InvalidStatus):
        open_socket(server, 1, access, origin="http://evil.example")
    with open_socket(server, 1, access + "tampered") as bad:
        closed_with(bad)
    for path in ("/healthz", "/nope", "/api/messaging/conversations/", f"{BASE}/1/messages/"):
        plain_http.get(f"{server.origin}{path}?token={access}&x=1")
    plain_http.get(f"{server.origin}/healthz?a=1&token={refresh}")
    plain_http.post(server.origin + "/api/auth/jwt/refresh/", json={"refresh": refresh})
    plain_http.get(f"{server.origin}/healthz?last=1")
    deadline = time.time() + 5
    while "/healthz?last=1" not in server.stdout() and time.time() < deadline:
        time.sleep(0.05)
    logs = server.stdout() + server.stderr()
    assert "/healthz?last=1" in logs and "token=[redacted]" in logs  # URLs are logged, tokens are not
    for secret in (access, refresh, access.split(".")[2], refresh.split(".")[2]):
        assert secret not in logs


def test_acknowledged_messages_survive_sigkill_and_tokens_survive_restart(live_server):
    server = live_server()
    coach = server.login()
    headers = {"Authorization": f"Bearer {coach['access']}"}
    contents = [f"durable {uuid.uuid4()}" for _ in range(3)]
    for content in contents:
        assert plain_http.post(f"{server.origin}{BASE}/2/send/", json={"content": content},
                          headers=headers).status_code == 201
    read = plain_http.post(f"{server.origin}{BASE}/2/read/", headers=headers).json()
    assert read == {"marked_read": 1}
    server.kill()
    restarted = live_server(db=server.db)
    results = plain_http.get(f"{restarted.origin}{BASE}/2/messages/", headers=headers).json()["results"]
    assert [m["content"] for m in results[-3:]] == contents
    assert all(m["is_read"] for m in results[:3])
    # The demo data is not seeded a second time.
    conversations = plain_http.get(restarted.origin + "/api/messaging/conversations/", headers=headers).json()
    assert len(conversations) == 3


def test_demo_accounts_are_seeded_cheaply_and_stored_at_full_cost_at_their_first_login(tmp_path):
    """Their passwords are public (printed at start): seeded with hash_public_password, then
    upgraded by the login like any older hash, in the real process at the shipped cost."""
    import sqlite3

    from server import passwords
    from server_harness import LiveServer

    db = tmp_path / "data" / "messaging.sqlite3"
    db.parent.mkdir()
    server = LiveServer(db, tmp_path / "logs", demo=True).start()
    try:
        def stored(email):
            with contextlib.closing(sqlite3.connect(db)) as conn:
                return conn.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()[0]

        public = f"scrypt${passwords.PUBLIC_N}${passwords.PUBLIC_R}${passwords.PUBLIC_P}$"
        assert stored("coach@example.com").startswith(public)
        assert stored("sam@example.com").startswith(public)
        server.login("coach@example.com")
        assert stored("coach@example.com").startswith("scrypt$16384$8$5$")  # the shipped cost
        assert stored("sam@example.com").startswith(public)  # not logged in yet
        server.login("coach@example.com")  # and the upgraded hash verifies
    finally:
        server.stop()


def test_faults_are_404_on_a_server_started_without_the_flag(live_server):
    server = live_server()
    assert plain_http.get(server.origin + "/__faults/sockets").status_code == 404
    assert plain_http.post(server.origin + "/__faults/reset", json={}).status_code == 404


def test_the_real_vendor_files_are_served_under_their_versions(server):
    from server_harness import ROOT
    from server.site.static_site import VENDORS, vendor_version
    versions = {vendor.name: vendor_version(ROOT, vendor) for vendor in VENDORS}
    assert versions == {"pyscript": "0.7.31", "pyodide": "314.0.7"}  # package.json pins these
    for path, content_type in ((f"/vendor/pyscript/{versions['pyscript']}/core.js", "text/javascript; charset=utf-8"),
                               (f"/vendor/pyodide/{versions['pyodide']}/pyodide.mjs", "text/javascript; charset=utf-8"),
                               (f"/vendor/pyodide/{versions['pyodide']}/pyodide.asm.wasm", "application/wasm")):
        response = plain_http.get(server.origin + path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain_http.get(server.origin + "/vendor/pyscript/0.7.30/core.js").status_code == 404
    assert plain_http.get(server.origin + "/config.json").json() == {"api_base": "", "ws_base": ""}


def test_an_allowed_origin_may_call_the_api_cross_origin(server):
    preflight = httpx.options(server.origin + "/api/auth/jwt/create/", headers={
        "Origin": "https://other.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://other.example"
    denied = plain_http.get(server.origin + "/healthz", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


def test_cli_export_writes_the_real_site(tmp_path):
    import subprocess
    import sys

    from server_harness import ROOT
    out = tmp_path / "site"
    result = subprocess.run([sys.executable, str(ROOT / "serve.py"), "export", str(out)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "config.json").read_text()) == {"api_base": "", "ws_base": ""}
    assert (out / "vendor/pyscript/0.7.31/core.js").is_file()
    assert (out / "vendor/pyodide/314.0.7/pyodide.mjs").is_file()
    assert (out / "vendor/pyodide/314.0.7/pyodide.asm.wasm").stat().st_size > 1_000_000
    assert (out / "vendor/pyodide/314.0.7/python_stdlib.zip").is_file()
    assert not (out / "node_modules").exists() and not (out / "server").exists()
    assert not list(out.rglob("*.sqlite3")) and not list(out.rglob("__pycache__"))
    for name in ("index.html", "pyscript.toml", "pyscript.json"):
        assert (out / name).is_file() == (ROOT / name).is_file()
