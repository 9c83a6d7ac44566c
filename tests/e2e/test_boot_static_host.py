"""Issue 12: a second host. The exported site (`serve.py export`) served by a plain static
server that compresses nothing and knows only a few MIME types (everything else is
application/octet-stream), the API on another origin named in config.json (serve.py with
--allow-origin). The app boots from the gzipped snapshot, logs in and chats both ways."""

import json
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2e_harness import ROOT, Peer, Server, free_port, open_conversation, wait_ready, wait_state, wait_until

PYODIDE_VERSION = json.loads((ROOT / "node_modules" / "pyodide" / "package.json").read_text())["version"]


class PlainHost(SimpleHTTPRequestHandler):
    """No compression, no caching headers, generic types for whatever it does not know."""
    extensions_map = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
                      ".css": "text/css", ".json": "application/json", ".wasm": "application/wasm"}
    served = {}  # file name -> Content-Type sent

    def guess_type(self, path):
        kind = next((k for ending, k in self.extensions_map.items() if str(path).endswith(ending)),
                    "application/octet-stream")
        self.served[str(path).rsplit("/", 1)[-1]] = kind
        return kind

    def log_message(self, *args):
        pass


class QuietHost(ThreadingHTTPServer):
    """A browser that closes its page mid-download (the test's end) is not an error to print."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def point_export_at(site, api_origin):
    """The export's config.json names the API; its CSP (written by the export from config.json,
    server/security_headers.py) is written again for it, as exporting with that config would."""
    from server.security_headers import secure_export
    (site / "config.json").write_text(json.dumps({"api_base": api_origin,
                                                  "ws_base": api_origin.replace("http://", "ws://")}))
    shutil.copy(ROOT / "index.html", site / "index.html")
    secure_export(site)


@pytest.fixture
def static_site(tmp_path):
    site = tmp_path / "site"
    out = subprocess.run([sys.executable, str(ROOT / "serve.py"), "export", str(site)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    api = Server(tmp_path, extra_args=["--allow-origin", origin]).start()
    point_export_at(site, api.origin)
    PlainHost.served = {}
    httpd = QuietHost(("127.0.0.1", port), partial(PlainHost, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield site, origin, api
    httpd.shutdown()
    httpd.server_close()
    api.stop()


def test_the_export_on_a_plain_host_boots_from_the_snapshot_logs_in_and_chats(browser, static_site):
    site, origin, api = static_site
    assert not (site / "bench").exists()
    snapshot = json.loads((site / "snapshot" / "manifest.json").read_text())["snapshot"]
    assert snapshot and (site / "snapshot" / snapshot).is_file()

    trainee = f"static{int(time.time() * 1000)}@example.com"
    conv = api.fault("conversation", trainer_email="coach@example.com", trainee_email=trainee, messages=0)
    peer = Peer(api, trainee)
    # No service worker: this is about what the page's own boot downloads (the worker, once
    # registered, keeps the plain wasm for the next loads: tests/e2e/test_offline.py).
    ctx = browser.new_context(service_workers="block")
    try:
        page = ctx.new_page()
        responses = []
        page.on("response", lambda r: responses.append((r.url, r.headers.get("content-encoding"))))
        page.goto(origin + "/")
        wait_ready(page, "login")
        page.get_by_test_id("login-email").fill("coach@example.com")
        page.get_by_test_id("login-password").fill("coach-pass")
        page.get_by_test_id("login-submit").click()
        wait_state(page, "messages")
        assert page.evaluate("document.documentElement.dataset.pyodideBoot") == "snapshot"
        # Nothing came compressed by the host: the snapshot was unpacked by the page.
        assert any(url.endswith("/snapshot/" + snapshot) for url, _ in responses)
        assert [url for url, encoding in responses if encoding and url.startswith(origin)] == []
        assert PlainHost.served[snapshot] == "application/octet-stream"
        # Pyodide's wasm came as the export's .gz (unpacked in the page), never raw: the bytes
        # the browser received for it, from its own Resource Timing.
        wasm = page.evaluate("""() => performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("/pyodide.asm.wasm"))
            .map((e) => [e.name.split("/").pop(), e.transferSize, e.encodedBodySize])""")
        assert [name for name, *_ in wasm] == ["pyodide.asm.wasm.gz"], wasm
        gz_size = (site / "vendor" / "pyodide" / PYODIDE_VERSION / "pyodide.asm.wasm.gz").stat().st_size
        raw_size = (site / "vendor" / "pyodide" / PYODIDE_VERSION / "pyodide.asm.wasm").stat().st_size
        assert wasm[0][2] == gz_size < raw_size * 0.45
        assert "pyodide.asm.wasm" not in PlainHost.served
        assert PlainHost.served["main.py"] == "application/octet-stream"  # PyScript's script
        assert "app.py" not in PlainHost.served  # the adapters came inside the manifest

        view = open_conversation(page, conv["id"])
        box = page.get_by_test_id("chat-input")
        box.fill("hello from a static host")
        box.press("Enter")
        wait_until(lambda: peer.messages(conv["id"])["results"], "the message stored")
        assert [m["content"] for m in peer.messages(conv["id"])["results"]] == ["hello from a static host"]
        peer.send(conv["id"], "and back over the socket")
        view.get_by_text("and back over the socket").wait_for(timeout=20_000)
    finally:
        peer.close()
        ctx.close()


def test_without_the_wasm_gz_the_page_still_boots_with_the_plain_wasm(browser, static_site):
    """An export made before the .gz existed (or a host that lost it): the loader's fetch of
    the .gz fails, and Pyodide's own fetch of the plain wasm is used instead."""
    site, origin, _ = static_site
    (site / "vendor" / "pyodide" / PYODIDE_VERSION / "pyodide.asm.wasm.gz").unlink()
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(origin + "/")
        wait_ready(page, "login")
        assert page.evaluate("document.documentElement.dataset.pyodideBoot") == "snapshot"
        names = page.evaluate("""() => performance.getEntriesByType("resource")
            .map((e) => e.name.split("/").pop()).filter((n) => n.startsWith("pyodide.asm.wasm"))""")
        assert sorted(names) == ["pyodide.asm.wasm", "pyodide.asm.wasm.gz"]  # tried, then the plain one
        assert PlainHost.served["pyodide.asm.wasm"] == "application/wasm"
    finally:
        ctx.close()
