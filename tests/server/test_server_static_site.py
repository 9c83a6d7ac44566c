"""The static site: what is served, with which type, caching, compression, headers; export."""

import gzip
import json
import re

import httpx
import pytest
from server_harness import PYODIDE_VERSION, PYSCRIPT_VERSION, FAKE_CORE_JS, FAKE_WASM, write_fake_site

from server.security_headers import CONTENT_SECURITY_POLICY, content_security_policy
from server.build.export import export_site
from server.site.static_site import site_files

PYSCRIPT = f"/vendor/pyscript/{PYSCRIPT_VERSION}"
PYODIDE = f"/vendor/pyodide/{PYODIDE_VERSION}"


@pytest.mark.parametrize("path,content_type", [
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/pyscript.toml", "application/toml; charset=utf-8"),
    ("/pyscript.json", "application/json"),
    ("/config.json", "application/json"),
    ("/py/app.py", "text/x-python; charset=utf-8"),
    ("/py/pkg/models.py", "text/x-python; charset=utf-8"),
    ("/py/bundle.zip", "application/zip"),
    ("/py/data.json", "application/json"),
    ("/static/app.css", "text/css; charset=utf-8"),
    ("/static/icon.svg", "image/svg+xml; charset=utf-8"),
    ("/static/logo.png", "image/png"),
    ("/static/font.woff2", "font/woff2"),
    ("/bench/index.html", "text/html; charset=utf-8"),
    (f"{PYSCRIPT}/core.js", "text/javascript; charset=utf-8"),
    (f"{PYSCRIPT}/core.css", "text/css; charset=utf-8"),
    (f"{PYODIDE}/pyodide.mjs", "text/javascript; charset=utf-8"),
    (f"{PYODIDE}/pyodide.asm.wasm", "application/wasm"),
    (f"{PYODIDE}/python_stdlib.zip", "application/zip"),
    (f"{PYODIDE}/pyodide-lock.json", "application/json"),
])
def test_site_files_are_served_with_their_type(client, site_root, path, content_type):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


@pytest.mark.parametrize("path", [
    "/secret.txt", "/py/notes.txt", "/py/__pycache__/app.cpython-311.pyc", "/static/secret.env",
    "/node_modules/pyodide/pyodide.mjs", "/vendor/pyscript/0.0.1/core.js", f"{PYSCRIPT}/../src/core.js",
    "/vendor/pyscript/core.js", f"{PYODIDE}/package.json/../../../../secret.txt", "/vendor/other/1.0.0/package.json",
    "/py/../secret.txt", "/py/%2e%2e/secret.txt", "/static/..%2fsecret.txt", "/%2e%2e/%2e%2e/etc/passwd",
    "/..%5csecret.txt", "/static/%252e%252e/secret.txt", "//etc/passwd", "/py/app.py%00.txt",
])
def test_anything_outside_the_listing_is_404_including_traversal(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"top secret" not in response.content


def test_traversal_over_a_raw_socket_is_404(client, site_root):
    # httpx normalises "..": send the raw target through the ASGI app directly.
    transport = httpx.ASGITransport(app=client.app)

    async def fetch(target):
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as ac:
            request = ac.build_request("GET", "http://testserver/")
            request.url = request.url.copy_with(raw_path=target.encode())
            return await ac.send(request)

    import anyio
    for target in ("/py/../secret.txt", "/static/../../secret.txt", "/../secret.txt"):
        response = anyio.run(fetch, target)
        assert response.status_code == 404 and b"top secret" not in response.content


def test_vendor_files_are_immutable_and_gzipped(client):
    response = client.get(f"{PYSCRIPT}/core.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == FAKE_CORE_JS  # httpx decodes; the wire form was gzip
    assert int(response.headers["content-length"]) < len(FAKE_CORE_JS)


def test_wasm_and_zip_are_gzipped_too_but_png_is_not(client):
    wasm = client.get(f"{PYODIDE}/pyodide.asm.wasm", headers={"Accept-Encoding": "gzip"})
    assert wasm.headers["content-encoding"] == "gzip" and wasm.content == FAKE_WASM
    assert client.get(f"{PYODIDE}/python_stdlib.zip", headers={"Accept-Encoding": "gzip"}) \
        .headers["content-encoding"] == "gzip"
    assert "content-encoding" not in client.get("/static/logo.png", headers={"Accept-Encoding": "gzip"}).headers


def test_no_gzip_when_the_client_does_not_accept_it(client):
    for accept in ("identity", "gzip;q=0", "br"):
        response = client.get(f"{PYSCRIPT}/core.js", headers={"Accept-Encoding": accept})
        assert "content-encoding" not in response.headers
        assert response.content == FAKE_CORE_JS


def test_vendor_gzip_is_computed_once_per_file_version(make_app, tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    import server.site.static_site as static_site
    root = write_fake_site(tmp_path / "site")
    calls = []
    real = static_site.gzip.compress
    monkeypatch.setattr(static_site.gzip, "compress", lambda data, **kw: calls.append(data) or real(data, **kw))
    with TestClient(make_app(site_root=root)) as client:
        late = root / "node_modules" / "pyodide" / "late.js"
        late.write_text("let late = 1;\n" * 100)
        for _ in range(3):
            client.get(f"{PYODIDE}/late.js", headers={"Accept-Encoding": "gzip"})
        assert calls.count(late.read_bytes()) == 1
        late.write_text("let later = 2;\n" * 100)
        for _ in range(2):
            assert client.get(f"{PYODIDE}/late.js", headers={"Accept-Encoding": "gzip"}).text.startswith("let later")
        assert calls.count(late.read_bytes()) == 1


def test_other_files_revalidate_with_etag_and_304(client):
    first = client.get("/py/app.py", headers={"Accept-Encoding": "gzip"})
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["content-encoding"] == "gzip"
    etag = first.headers["etag"]
    again = client.get("/py/app.py", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/py/app.py", headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_changed_file_gets_a_new_etag(make_app, tmp_path):
    from starlette.testclient import TestClient
    root = write_fake_site(tmp_path / "site")
    with TestClient(make_app(site_root=root)) as client:
        before = client.get("/py/app.py")
        (root / "py" / "app.py").write_text("print('changed and longer than before')\n")
        after = client.get("/py/app.py")
        assert after.headers["etag"] != before.headers["etag"]
        assert after.text == "print('changed and longer than before')\n"
        (root / "py" / "new.py").write_text("NEW = 1\n")
        assert client.get("/py/new.py").text == "NEW = 1\n"
        (root / "py" / "new.py").unlink()
        assert client.get("/py/new.py").status_code == 404


def test_head_has_headers_and_no_body(client):
    response = client.head(f"{PYSCRIPT}/core.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(FAKE_CORE_JS)


@pytest.mark.parametrize("path", ["/", f"{PYSCRIPT}/core.js", "/healthz", "/api/messaging/conversations/",
                                  "/nope", "/__faults/sockets"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    # connect-src: 'self' plus the ws/wss twins of the Host asked for (Safari's 'self' lacks them).
    assert headers["content-security-policy"] == content_security_policy(["ws://testserver", "wss://testserver"])
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]


def test_csp_is_strict():
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self' 'wasm-unsafe-eval'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_config_json_defaults_to_same_origin_when_the_site_has_none(tmp_path):
    (tmp_path / "index.html").write_text("x")
    files = site_files(tmp_path)
    assert json.loads(files["/config.json"].read()) == {"api_base": "", "ws_base": ""}


def test_export_writes_the_site_and_nothing_the_page_does_not_load(site_root, tmp_path, client):
    (site_root / "node_modules" / "pyodide" / "pyodide.mjs.map").write_text("{}")
    (site_root / "node_modules" / "pyodide" / "pyodide.d.ts").write_text("export {}")
    (site_root / "node_modules" / "pyodide" / "console.html").write_text("<p>demo</p>")
    out = tmp_path / "export"
    written = export_site(site_root, out)
    on_disk = sorted("/" + p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(written) == sorted([*site_files(site_root, export=True), "/_headers"])  # + headers file
    served = set(site_files(site_root))
    left_out = served - set(written)
    assert left_out == {"/bench/index.html", f"{PYODIDE}/pyodide.mjs.map", f"{PYODIDE}/pyodide.d.ts",
                        f"{PYODIDE}/console.html", f"{PYODIDE}/package.json", f"{PYSCRIPT}/package.json"} & served
    assert "/bench/index.html" in left_out and f"{PYODIDE}/pyodide.mjs.map" in left_out
    assert json.loads((out / "config.json").read_text()) == {"api_base": "", "ws_base": ""}
    assert json.loads((out / "snapshot" / "manifest.json").read_text())["snapshot"] is None  # none built here
    assert (out / "vendor" / "pyscript" / PYSCRIPT_VERSION / "core.js").read_bytes() == FAKE_CORE_JS
    assert (out / "vendor" / "pyodide" / PYODIDE_VERSION / "pyodide.asm.wasm").read_bytes() == FAKE_WASM
    for url in site_files(site_root, export=True):
        served_file = client.get(url, headers={"Accept-Encoding": "identity"})
        exported = (out / url.lstrip("/")).read_bytes()
        if url == "/index.html":  # the export adds its CSP <meta> (test_security_export.py)
            exported = re.sub(rb'\n    <meta http-equiv="Content-Security-Policy" content="[^"]*">', b"", exported)
        assert served_file.content == exported, url


def test_the_snapshot_is_served_as_built_and_the_manifest_is_never_cached(site_root, client):
    from server.site import snapshot_plan
    plan = snapshot_plan.make_plan(site_root)
    first = client.get("/snapshot/manifest.json")
    assert first.headers["cache-control"] == "no-cache" and first.json()["snapshot"] is None
    built = site_root / "build" / "snapshot" / plan.file_name
    built.parent.mkdir(parents=True, exist_ok=True)
    built.write_bytes(gzip.compress(b"snapshot bytes" * 100))
    assert client.get("/snapshot/manifest.json").json()["snapshot"] == plan.file_name
    response = client.get("/snapshot/" + plan.file_name, headers={"Accept-Encoding": "gzip"})
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-encoding" not in response.headers  # already gzip: sent as is, the page unpacks it
    assert response.content == built.read_bytes()


def test_no_gzip_bytes_leak_into_plain_responses(client):
    client.get(f"{PYSCRIPT}/core.js", headers={"Accept-Encoding": "gzip"})
    plain = client.get(f"{PYSCRIPT}/core.js", headers={"Accept-Encoding": "identity"})
    assert plain.content == FAKE_CORE_JS and plain.headers["etag"] != ""
    assert gzip.decompress(gzip.compress(plain.content)) == FAKE_CORE_JS
