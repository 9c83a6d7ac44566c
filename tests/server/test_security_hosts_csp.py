"""Issue 11 items 9 and 11: the Host allow-list, a CSP whose connect-src names only our
origin and the configured backend, the exported site's <meta> CSP and headers file, the
database file's mode, and fault hooks only in the --faults wrapper."""

import asyncio
import os
import re
import socket
import stat
from pathlib import Path

import plain_http
import pytest
from server_harness import write_fake_site
from starlette.testclient import TestClient
from test_inline_style import HTML, csp_hash, directive, inline_styles

from server import origins
from server.app import close_context, create_app, open_context, prepare_database
from server.realtime.hub import Hub
from server.security_headers import content_security_policy
from server.build.export import export_site

ROOT = Path(__file__).resolve().parents[2]


# --- Host allow-list ---------------------------------------------------------------------------------

@pytest.mark.parametrize("host,ok", [
    ("127.0.0.1:8000", True), ("127.0.0.1", True), ("[::1]:8000", True), ("localhost:8000", True),
    ("app.example:443", True), ("APP.example.", True), ("evil.example:8000", False), ("evil.example", False),
    ("", False), (None, False), ("127.0.0.1:x", False), ("[::1]x", False), ("app.example.evil.example", False),
])
def test_host_allowed(host, ok):
    assert origins.host_allowed(host, frozenset({"app.example"})) is ok


def _raw_handshake(port: int, host: str, origin: str, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.settimeout(10)
        raw.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        return raw.recv(200)


def test_dns_rebinding_host_is_refused_for_http_and_the_socket(live_server):
    server = live_server()
    token = server.login()["access"]
    evil = f"evil.example:{server.port}"
    answer = plain_http.get(server.origin + "/healthz", headers={"Host": evil})
    assert answer.status_code == 400 and answer.json() == {"detail": "Invalid Host header."}
    assert plain_http.post(server.origin + "/api/auth/jwt/create/", headers={"Host": evil},
                      json={"email": "coach@example.com", "password": "coach-pass"}).status_code == 400
    status = _raw_handshake(server.port, evil, f"http://{evil}", f"/ws/messaging/1/?token={token}")
    assert not status.startswith(b"HTTP/1.1 101"), status
    own = f"127.0.0.1:{server.port}"
    assert _raw_handshake(server.port, own, f"http://{own}", f"/ws/messaging/1/?token={token}").startswith(
        b"HTTP/1.1 101")


def test_host_name_adds_a_served_name(live_server):
    server = live_server("--host-name", "coach.example")
    assert plain_http.get(server.origin + "/healthz", headers={"Host": f"coach.example:{server.port}"}).status_code == 200
    assert plain_http.get(server.origin + "/healthz", headers={"Host": f"evil.example:{server.port}"}).status_code == 400
    assert plain_http.get(server.origin + "/healthz").status_code == 200  # an IP literal always


# --- CSP -------------------------------------------------------------------------------------------------

def _site_with_config(tmp_path, config: str) -> Path:
    root = write_fake_site(tmp_path / "site")
    (root / "config.json").write_text(config)
    return root


def test_connect_src_names_only_our_origin_and_the_configured_backend(tmp_path, db_path):
    root = _site_with_config(tmp_path, '{"api_base": "https://api.example.com/v1", "ws_base": "wss://rt.example.com"}')
    with TestClient(create_app(db_path, site_root=root)) as client:
        csp = client.get("/").headers["content-security-policy"]
    assert directive(csp, "connect-src") == ["'self'", "ws://testserver", "wss://testserver",
                                             "https://api.example.com", "wss://api.example.com",
                                             "wss://rt.example.com"]
    assert not re.search(r"(^|\s)wss?:(\s|;|$)", csp)  # no bare scheme: no socket to any host


def test_connect_src_with_an_empty_config_is_our_origin_only(client):
    csp = client.get("/").headers["content-security-policy"]
    assert directive(csp, "connect-src") == ["'self'", "ws://testserver", "wss://testserver"]


@pytest.mark.parametrize("config", ['{"api_base": "javascript:alert(1)"}', '{"api_base": "https://a b; script-src *"}',
                                    '{"api_base": 5}', "not json", '["x"]'])
def test_a_strange_config_adds_nothing_to_the_policy(tmp_path, db_path, config):
    root = _site_with_config(tmp_path, config)
    with TestClient(create_app(db_path, site_root=root)) as client:
        csp = client.get("/").headers["content-security-policy"]
    assert directive(csp, "connect-src") == ["'self'", "ws://testserver", "wss://testserver"]
    assert directive(csp, "script-src") == ["'self'", "'wasm-unsafe-eval'"]


# --- export ----------------------------------------------------------------------------------------------

def test_export_writes_a_meta_csp_and_a_headers_file(tmp_path):
    root = _site_with_config(tmp_path, '{"api_base": "https://api.example.com", "ws_base": ""}')
    (root / "index.html").write_text(HTML, encoding="utf-8")  # the real page, with its inline style
    out = tmp_path / "out"
    written = export_site(root, out)
    page = (out / "index.html").read_text(encoding="utf-8")
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert len(metas) == 1
    meta = metas[0]
    assert meta == content_security_policy(["https://api.example.com", "wss://api.example.com"], for_meta=True)
    # it comes before any script or style it governs, right after <meta charset>
    assert page.index("Content-Security-Policy") < page.index("<style>") and page.index("<meta charset")\
        < page.index("Content-Security-Policy")
    assert csp_hash(inline_styles(page)[0]) in directive(meta, "style-src")  # the skeleton still applies
    assert page.replace(f'\n    <meta http-equiv="Content-Security-Policy" content="{meta}">', "") == HTML
    headers = (out / "_headers").read_text()
    assert "/_headers" in written
    policy = re.search(r"^  Content-Security-Policy: (.*)$", headers, re.M).group(1)
    assert "frame-ancestors 'none'" in policy and directive(policy, "connect-src")[1:] == [
        "https://api.example.com", "wss://api.example.com"]
    for line in ("X-Content-Type-Options: nosniff", "X-Frame-Options: DENY", "Referrer-Policy: no-referrer"):
        assert "  " + line in headers


# --- the database file -------------------------------------------------------------------------------

def test_the_database_and_its_wal_files_are_readable_by_the_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "db" / "messaging.sqlite3"

        async def write_and_look() -> None:
            ctx = await open_context(path)
            await ctx.store.create_user("x@example.com", "h", "X", "Y", "TRAINEE")  # a write: the WAL exists
            for file in (path, Path(str(path) + "-wal"), Path(str(path) + "-shm")):
                assert file.exists() and stat.S_IMODE(file.stat().st_mode) == 0o600, file
            await close_context(ctx)

        asyncio.run(write_and_look())
        # a file left world-readable by an older version is narrowed on open
        os.chmod(path, 0o644)
        prepare_database(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


# --- fault hooks live only in the --faults wrapper ----------------------------------------------------

def test_without_faults_no_fault_hook_is_installed(make_app):
    app = make_app(faults=False)
    with TestClient(app):
        assert type(app.state.ctx.hub) is Hub and app.state.faults is None
    assert all("Fault" not in m.cls.__name__ for m in app.user_middleware)
    for module in ("api", "auth", "realtime/ws", "messaging", "realtime/hub", "context", "app"):
        source = (ROOT / "server" / f"{module}.py").read_text()
        uses = re.findall(r"\bfaults?\.\w+|FaultState|take_lost_answer|refresh_fails|refuse_handshakes", source)
        assert module == "app" and set(uses) <= {"FaultState"} or not uses, (module, uses)
