"""docs/DEPLOY.md, tested (issue 20 item 9): Debian's nginx with exactly the documented
configuration (only file names, ports and the certificate changed) in front of serve.py started
with exactly the documented systemd ExecStart's options; a login, a message over the WebSocket
and a logout through it, over TLS."""

from __future__ import annotations

import asyncio
import json
import random
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess

import httpx
import plain_http
import pytest
from websockets.asyncio.client import connect

from image_samples import png
from server_harness import ROOT, LiveServer, free_port
from services import LogPipe, missing

DEPLOY = (ROOT / "docs" / "DEPLOY.md").read_text()
NAME = "coach.example.com"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def block(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", DEPLOY, re.S)
    assert len(found) == 1, f"DEPLOY.md should hold one {language} block"
    return found[0]


def replaced(text: str, changes: dict[str, str]) -> str:
    """Each documented value the test must change, changed exactly where the doc has it: a
    change to the doc that drops one fails here instead of testing something else."""
    for old, new in changes.items():
        assert old in text, f"DEPLOY.md no longer has {old!r}"
        text = text.replace(old, new)
    return text


def exec_start_options() -> list[str]:
    line = next(line for line in block("ini").splitlines() if line.startswith("ExecStart="))
    words = shlex.split(line.removeprefix("ExecStart="))
    assert words[:2] == ["/opt/coachline/.venv/bin/python", "serve.py"], words
    return words[2:]


def test_the_documented_service_options_are_ones_serve_py_takes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("serve_for_deploy_test", ROOT / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    args = serve.serve_parser().parse_args(exec_start_options())
    assert args.host == "127.0.0.1" and args.port == 8000
    assert NAME in args.host_name and "127.0.0.1" in args.trusted_proxy
    # nginx's upstream is that address and port.
    assert "server 127.0.0.1:8000;" in block("nginx")


def self_signed(tmp) -> tuple[str, str]:
    cert, key = tmp / "fullchain.pem", tmp / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}"],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture
def deployed(tmp_path, demo_db_template, monkeypatch):
    if not os.path.exists(NGINX):
        missing("nginx")
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_db_template, data / "messaging.sqlite3")
    server = LiveServer(data / "messaging.sqlite3", tmp_path / "serve-logs")
    options = " ".join(exec_start_options())
    options = replaced(options, {"--port 8000": f"--port {server.port}", "/var/lib/coachline": str(data)})
    server.extra_args = options.split(" ")
    assert server.extra_args[server.extra_args.index("--data-dir") + 1] == str(data)
    server.start()

    cert, key = self_signed(tmp_path)
    http_port, https_port = free_port(), free_port()
    site = replaced(block("nginx"), {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{server.port};",
        f"/etc/letsencrypt/live/{NAME}/fullchain.pem": cert,
        f"/etc/letsencrypt/live/{NAME}/privkey.pem": key,
        "/var/log/nginx/": f"{tmp_path}/",
    })
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    # What /etc/nginx/nginx.conf gives the conf.d file on Debian, in a temporary prefix.
    main = (f"{'user root;' if os.geteuid() == 0 else ''}\nworker_processes 1;\npid {tmp_path}/nginx.pid;\n"
            f"error_log stderr notice;\nevents {{ worker_connections 256; }}\n"
            "http {\n" + "".join(f"  {kind}_temp_path {temp}/{kind};\n"
                                 for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + site + "\n}\n")
    conf = tmp_path / "nginx.conf"
    conf.write_text(main)
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True,
                             timeout=30)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The master opens the listening sockets before it starts a worker, and says so (notice).
    output = LogPipe(nginx.stderr, tmp_path / "nginx-stderr.txt")
    try:
        assert output.wait_for("start worker process", 20), (tmp_path / "nginx-stderr.txt").read_text()
        real = socket.getaddrinfo

        def resolve(host, *args, **kwargs):  # coach.example.com is this machine, for this test
            return real("127.0.0.1" if host == NAME else host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", resolve)
        yield {"https": f"https://{NAME}:{https_port}", "http": f"http://{NAME}:{http_port}", "cert": cert,
               "access_log": tmp_path / "coachline.access.log", "server": server}
    finally:
        nginx.terminate()
        nginx.wait(10)
        server.stop()


def test_login_a_message_over_the_socket_and_logout_through_nginx(deployed):
    tls = ssl.create_default_context(cafile=deployed["cert"])
    origin = deployed["https"]
    with httpx.Client(base_url=origin, verify=tls, headers={"Origin": origin}) as http:
        page = http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert page.headers["strict-transport-security"] == "max-age=31536000"

        login = http.post("/api/auth/jwt/create/", json={"email": "coach@example.com", "password": "coach-pass"})
        assert login.status_code == 200, login.text
        tokens = login.json()
        auth = {"Authorization": f"Bearer {tokens['access']}"}
        conversation = http.get("/api/messaging/conversations/", headers=auth).json()[0]

        socket_url = f"{origin.replace('https', 'wss')}/ws/messaging/{conversation['id']}/?token={tokens['access']}"

        async def over_the_socket():
            # The asyncio client: one thread drives the TLS socket. (The sync client reads it in a
            # thread of its own while the caller writes the handshake; once in a two-worker run
            # nginx never got that request's headers: its 60 s header timeout ended the test.)
            async with connect(socket_url, ssl=tls, origin=origin, proxy=None, open_timeout=10) as ws:
                await ws.send(json.dumps({"type": "ping"}))
                assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
                sent = await asyncio.to_thread(
                    http.post, f"/api/messaging/conversations/{conversation['id']}/send/", headers=auth,
                    json={"content": "Through nginx", "client_message_id": "6f1f7d3e-0000-4000-8000-000000000001"})
                assert sent.status_code == 201, sent.text
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                while frame["type"] != "new_message":
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert frame["message"]["content"] == "Through nginx"
                assert frame["message"]["id"] == sent.json()["id"]

        asyncio.run(over_the_socket())

        # A phone-sized photo (2 MB) passes nginx's client_max_body_size and comes back through it.
        noise = random.Random(20).randbytes
        photo = png(800, 800, pixels=b"".join(b"\x00" + noise(800 * 3) for _ in range(800)))
        assert len(photo) > 2 * 1024 * 1024 * 0.9
        upload = http.post(f"/api/messaging/conversations/{conversation['id']}/send/", headers=auth,
                           data={"content": "", "client_message_id": "6f1f7d3e-0000-4000-8000-000000000002"},
                           files={"image": ("form.png", photo, "image/png")})
        assert upload.status_code == 201, upload.text
        image_url = upload.json()["image"]
        assert image_url
        fetched = http.get(image_url, headers=auth)
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"

        logout = http.post("/api/auth/jwt/blacklist/", json={"refresh": tokens["refresh"]}, headers=auth)
        assert logout.status_code == 200, logout.text
        refused = http.post("/api/auth/jwt/refresh/", json={"refresh": tokens["refresh"]})
        assert refused.status_code == 401

    # Plain http is sent to https; the access log names the socket's path, never its token.
    redirect = plain_http.get(deployed["http"] + "/api/messaging/conversations/", follow_redirects=False)
    assert redirect.status_code == 301
    assert redirect.headers["location"] == f"https://{NAME}/api/messaging/conversations/"
    access = deployed["access_log"].read_text()
    assert f"/ws/messaging/{conversation['id']}/" in access
    assert tokens["access"] not in access and "token=" not in access
    served = deployed["server"].stdout() + deployed["server"].stderr()
    assert tokens["access"] not in served
