"""Issue 22 item 2: what the site serves for opening offline and installing: the service
worker at /sw.js (static/sw.js with this version's name and file list), the web manifest and
its icons; the CSP admits the worker and the manifest; the export carries all of them."""

import json
import re
import shutil
import sys

import pytest
from server_harness import PYODIDE_VERSION, PYSCRIPT_VERSION, ROOT, write_fake_site
from starlette.testclient import TestClient

from server.build.export import export_site
from server.site import offline_shell
from server.site.static_site import site_files

PYODIDE = f"/vendor/pyodide/{PYODIDE_VERSION}"
PYSCRIPT = f"/vendor/pyscript/{PYSCRIPT_VERSION}"


@pytest.fixture
def site(tmp_path):
    root = write_fake_site(tmp_path / "site")
    for name in ("sw.js", "manifest.webmanifest", "icon-192.png", "icon-512.png"):
        shutil.copy2(ROOT / "static" / name, root / "static" / name)
    (root / "node_modules" / "pyodide" / "pyodide.mjs.map").write_text("{}")
    (root / "node_modules" / "@pyscript" / "core" / "dist" / "xterm-1.js").write_text("//")
    return root


@pytest.fixture
def site_client(make_app, site):
    with TestClient(make_app(site_root=site)) as client:
        yield client


def shell_of(script: bytes) -> dict:
    match = re.search(rb"^const SHELL = (\{.*\});$", script, re.M)
    assert match, "the SHELL line was not filled in"
    return json.loads(match.group(1))


def test_the_worker_is_served_at_the_root_revalidated_as_javascript(site_client):
    response = site_client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert b"const SHELL = {};" not in response.content
    assert b"addEventListener(\"fetch\"" in response.content


def test_the_worker_keeps_the_shell_and_the_runtime_and_nothing_else(site_client):
    files = shell_of(site_client.get("/sw.js").content)["files"]
    for url in ("./index.html", "./config.json", "./pyscript.toml", "./static/app.css", "./py/app.py",
                "./snapshot/manifest.json", f".{PYODIDE}/pyodide.asm.wasm", f".{PYODIDE}/pyodide.mjs",
                f".{PYSCRIPT}/core.js", "./static/manifest.webmanifest", "./static/icon-192.png"):
        assert url in files, url
    for url in files:
        assert not url.startswith(("./api/", "./ws/", "./__faults/", "./bench/", "./media/")), url
        assert not url.endswith((".map", "package.json", "/sw.js")), url
    assert f".{PYSCRIPT}/xterm-1.js" not in files  # PyScript's terminal: the page never loads it
    assert files == sorted(files) and len(files) == len(set(files))
    for url in files:  # every file it will ask for at install is served
        assert site_client.get(url[1:], headers={"Accept-Encoding": "identity"}).status_code == 200, url


def test_a_changed_file_makes_a_new_version_and_an_unchanged_site_keeps_it(site_client, site):
    first = shell_of(site_client.get("/sw.js").content)["version"]
    assert shell_of(site_client.get("/sw.js").content)["version"] == first
    css = site / "static" / "app.css"
    css.write_text(css.read_text() + "/* changed */\n")
    second = shell_of(site_client.get("/sw.js").content)["version"]
    assert second != first and re.fullmatch(r"[0-9a-f]{16}", second)


def test_the_manifest_names_the_app_and_its_icons(site_client):
    response = site_client.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["display"] == "standalone" and manifest["name"] == "Coachline"
    assert manifest["start_url"] == "../" and manifest["theme_color"].startswith("#")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = site_client.get("/static/" + icon["src"])
        assert got.status_code == 200 and got.headers["content-type"].startswith(icon["type"])


def test_the_icons_are_pngs_of_their_size_as_the_script_makes_them(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_icons
    for size in make_icons.SIZES:
        data = (ROOT / "static" / f"icon-{size}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == size and int.from_bytes(data[20:24], "big") == size
        assert data == make_icons.png(size)  # committed as the script writes them


def test_the_policy_admits_the_worker_and_the_manifest_from_the_site_only(site_client):
    policy = site_client.get("/").headers["content-security-policy"]
    assert "worker-src 'self';" in policy and "manifest-src 'self';" in policy
    assert site_client.get("/sw.js").headers["content-security-policy"] == policy


def test_the_page_links_the_manifest():
    html = (ROOT / "index.html").read_text()
    assert '<link rel="manifest" href="./static/manifest.webmanifest">' in html


def test_the_export_carries_the_worker_the_manifest_and_the_icons(site_client, site, tmp_path):
    out = tmp_path / "export"
    written = export_site(site, out)
    for url in ("/sw.js", "/static/manifest.webmanifest", "/static/icon-192.png", "/static/icon-512.png"):
        assert url in written, url
    exported = (out / "sw.js").read_bytes()
    assert exported == site_client.get("/sw.js").content
    for url in shell_of(exported)["files"]:
        assert (out / url[2:]).is_file(), url  # a static host has every file the worker asks for


def test_a_template_without_its_shell_line_is_refused():
    with pytest.raises(ValueError):
        offline_shell.script(b"// no placeholder\n", {"version": "x", "files": []})
