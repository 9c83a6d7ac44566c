"""Issue 12 (bytes): ready-made encodings. zstd copies of vendor files (server/build/compress.py)
and of the snapshot sent only to a client that names zstd, with their own ETag; gzip or
plain otherwise; copies of an older file version never served; the export publishes
`pyodide.asm.wasm.gz` and the trimmed stdlib zip (server/site/stdlib_trim.py)."""

import asyncio
import gzip
import io
import shutil
import subprocess
import zipfile

import pytest
from server_harness import FAKE_WASM, PYODIDE_VERSION, write_fake_site
from starlette.testclient import TestClient

from server.build import compress
from server.build.export import export_site, prepare
from server.site import precompress, snapshot_plan, static_site, stdlib_trim
from server.app import create_app
from server.site.static_site import accepts, site_files

PYODIDE = f"/vendor/pyodide/{PYODIDE_VERSION}"
CHROMIUM = "gzip, deflate, br, zstd"
needs_zstd = pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd tool is not installed")


def unzstd(data: bytes) -> bytes:
    return subprocess.run(["zstd", "-d", "-q", "-c"], input=data, capture_output=True, check=True).stdout


def real_zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = write_fake_site(tmp_path / "site")
    monkeypatch.setattr(compress, "MIN_BYTES", 100)  # the fake vendor files are small
    return root


@pytest.fixture
def serve(tmp_path):
    clients = []

    def start(root):
        client = TestClient(create_app(tmp_path / "db.sqlite3", site_root=root))
        clients.append(client.__enter__())
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def raw_get(client, path, accept, **headers):
    """The body as sent (no decoding by the test client) and the headers."""
    with client.stream("GET", path, headers={"Accept-Encoding": accept, **headers}) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize("header,coding,expected", [
    (CHROMIUM, "zstd", True), ("zstd;q=0.5", "zstd", True), ("gzip, zstd;q=0", "zstd", False),
    ("*", "zstd", False), ("*", "gzip", True), ("gzip", "zstd", False), ("", "zstd", False),
    ("br, gzip;q=0", "gzip", False), ("ZSTD", "zstd", True),
])
def test_accepts_names_each_coding(header, coding, expected):
    assert accepts(header, coding) is expected


@needs_zstd
def test_vendor_files_go_out_as_their_zstd_copy_only_to_a_client_that_names_zstd(site, serve):
    prepare(site)
    client = serve(site)
    response, body = raw_get(client, f"{PYODIDE}/pyodide.asm.wasm", CHROMIUM)
    assert response.headers["content-encoding"] == "zstd"
    assert response.headers["content-type"] == "application/wasm"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["cache-control"] == static_site.IMMUTABLE
    assert unzstd(body) == FAKE_WASM
    zstd_etag = response.headers["etag"]

    response, body = raw_get(client, f"{PYODIDE}/pyodide.asm.wasm", "gzip, deflate, br")
    assert response.headers["content-encoding"] == "gzip" and gzip.decompress(body) == FAKE_WASM
    assert response.headers["etag"] != zstd_etag
    # ... the gzip copy built at set-up (level 9, published as .gz too), not one made at run time
    assert body == raw_get(client, f"{PYODIDE}/pyodide.asm.wasm.gz", "identity")[1]
    response, body = raw_get(client, f"{PYODIDE}/pyodide.asm.wasm", "identity")
    assert "content-encoding" not in response.headers and body == FAKE_WASM

    again, body = raw_get(client, f"{PYODIDE}/pyodide.asm.wasm", CHROMIUM, **{"If-None-Match": zstd_etag})
    assert again.status_code == 304 and body == b""
    # That ETag names the zstd form: a client that now wants gzip gets the gzip form, not a 304.
    other, body = raw_get(client, f"{PYODIDE}/pyodide.asm.wasm", "gzip", **{"If-None-Match": zstd_etag})
    assert other.status_code == 200 and gzip.decompress(body) == FAKE_WASM


@needs_zstd
def test_the_warm_up_gzips_what_a_page_loads_unless_a_gzip_copy_was_built(site, monkeypatch):
    # A server start used to gzip every vendor file, Pyodide's 9.6 MB wasm and the source maps
    # included (~0.6 CPU-s), for clients that take zstd or the built gzip copy anyway.
    (site / "node_modules" / "pyodide" / "pyodide.mjs.map").write_bytes(b'{"mappings": "AAAA"}' * 50)
    prepare(site)
    compressed = []
    real = static_site.gzip.compress
    monkeypatch.setattr(static_site.gzip, "compress", lambda data, **kw: compressed.append(data) or real(data, **kw))
    asyncio.run(static_site.StaticSite(site).warm_up())
    vendor = site / "node_modules" / "pyodide"
    assert (vendor / "pyodide.mjs").read_bytes() in compressed  # a page loads it; no gzip copy built
    assert FAKE_WASM not in compressed  # its built gzip copy answers gzip clients
    assert (vendor / "pyodide.mjs.map").read_bytes() not in compressed  # no page loads a source map


@needs_zstd
def test_a_copy_of_an_older_file_version_is_never_served(site, serve):
    prepare(site)
    client = serve(site)
    wasm = site / "node_modules" / "pyodide" / "pyodide.asm.wasm"
    wasm.write_bytes(b"\x00asm new build" * 50)
    response, body = raw_get(client, f"{PYODIDE}/pyodide.asm.wasm", CHROMIUM)
    assert response.headers["content-encoding"] == "gzip"  # no zstd copy of this version yet
    assert gzip.decompress(body) == b"\x00asm new build" * 50
    assert client.get(f"{PYODIDE}/pyodide.asm.wasm.gz").status_code == 404  # nor a .gz of the old one
    prepare(site)  # the next set-up (then a start): copies of the new version, the old ones removed
    response, body = raw_get(serve(site), f"{PYODIDE}/pyodide.asm.wasm", CHROMIUM)
    assert response.headers["content-encoding"] == "zstd" and unzstd(body) == b"\x00asm new build" * 50
    assert len(list((site / precompress.OUT_DIR).rglob("pyodide.asm.wasm.*.zst"))) == 1


@needs_zstd
def test_the_snapshot_goes_out_raw_zstd_coded_to_a_zstd_client_and_as_its_gz_to_others(site, serve):
    plan = snapshot_plan.make_plan(site)
    folder = site / snapshot_plan.SNAPSHOT_DIR
    folder.mkdir(parents=True)
    raw = b"snapshot memory " * 1000
    (folder / plan.file_name).write_bytes(gzip.compress(raw))
    subprocess.run(["zstd", "-19", "-q", "-o", str(folder / plan.file_name.replace(".gz", ".zst"))],
                   input=raw, check=True)
    client = serve(site)
    url = "/snapshot/" + plan.file_name
    response, body = raw_get(client, url, CHROMIUM)
    assert response.headers["content-encoding"] == "zstd"
    assert response.headers["content-type"] == "application/octet-stream"  # decodes to the raw snapshot
    assert response.headers["cache-control"] == static_site.IMMUTABLE
    assert unzstd(body) == raw
    response, body = raw_get(client, url, "gzip, deflate, br")
    assert "content-encoding" not in response.headers and gzip.decompress(body) == raw  # the .gz as is
    assert response.headers["content-type"] == "application/gzip"


def test_the_export_publishes_the_wasm_gz_and_the_trimmed_stdlib(site, tmp_path, serve):
    (site / stdlib_trim.SOURCE).write_bytes(real_zip({
        "json/__init__.py": b"X = 1\n", "unittest/__init__.py": b"", "encodings/__init__.py": b"",
        "encodings/utf_8.py": b"", "encodings/cp1251.py": b""}))
    out = tmp_path / "out"
    written = export_site(site, out)
    vendor = out / "vendor" / "pyodide" / PYODIDE_VERSION
    assert f"{PYODIDE}/pyodide.asm.wasm.gz" in written
    assert gzip.decompress((vendor / "pyodide.asm.wasm.gz").read_bytes()) == FAKE_WASM
    assert (vendor / "pyodide.asm.wasm").read_bytes() == FAKE_WASM
    assert sorted(zipfile.ZipFile(vendor / "python_stdlib.zip").namelist()) == [
        "encodings/__init__.py", "encodings/utf_8.py", "json/__init__.py"]
    assert not list(out.rglob("*.zst"))  # no host sends those: the export has none
    # serve.py serves the same trimmed zip, revalidated (its rule may change within a version).
    client = serve(site)
    response = client.get(f"{PYODIDE}/python_stdlib.zip")
    assert response.content == (vendor / "python_stdlib.zip").read_bytes()
    assert response.headers["cache-control"] == "no-cache"
    assert set(site_files(site, export=True)) <= set(site_files(site))
