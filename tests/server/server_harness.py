"""Helpers shared by the server tests (imported by name; `conftest` is ambiguous once
several test folders each have one)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import plain_http
from ports import free_port  # noqa: F401 - the tests take it from here (tests/ports.py)

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


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
        "pyscript.json": b'{"name": "chat", "interpreter": "./vendor/pyodide/300.1.2/pyodide.mjs"}',
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


def arrived(socket) -> list[dict]:
    """The frames queued for a TestClient socket so far: a ping, and what came before its pong
    (a socket's frames go out in order), so no read waits for a frame that never comes."""
    socket.send_json({"type": "ping"})
    frames = []
    while (frame := socket.receive_json()) != {"type": "pong"}:
        frames.append(frame)
    return frames


class LiveServer:
    """`serve.py` in a subprocess with stdout and stderr captured to files."""

    def __init__(self, db: Path | None, logs: Path, extra_args=(), *, demo: bool = True) -> None:
        self.db = db
        self.logs = logs
        # --demo: a test that starts on an empty database finds the demo accounts, as before
        # serve.py needed the option.
        self.extra_args = (["--demo"] if demo else []) + list(extra_args)
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
                [sys.executable, str(ROOT / "serve.py"), "--port", str(self.port),
                 *(["--db", str(self.db)] if self.db is not None else []), *self.extra_args],
                cwd=ROOT, stdout=out, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
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
        with plain_http.Client(base_url=self.origin) as client:
            return login(client, email)


# --- clients at several addresses, in process ----------------------------------------------

class Browsers:
    """One httpx client (one cookie jar) per client address, all on one in-process app."""

    def __init__(self, app) -> None:
        self.app = app
        self.clients: list[httpx.AsyncClient] = []

    def at(self, host: str, scheme: str = "http") -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app, client=(host, 40000)),
                                   base_url=f"{scheme}://testserver")
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


def run_app(app, scenario):
    """`await scenario(browsers, ctx)` in one run of `app` (its lifespan entered)."""
    async def main():
        browsers = Browsers(app)
        async with app.router.lifespan_context(app):
            try:
                return await scenario(browsers, app.state.ctx)
            finally:
                await browsers.close()
    return asyncio.run(main())
