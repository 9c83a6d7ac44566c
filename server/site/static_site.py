"""The static site: which files it has (`site_files`) and how they are served (`StaticSite`).

One listing drives both serving and export (server/build/export.py), so `python serve.py
export DIR` writes exactly the files the server would serve. Only listed files are ever read,
which makes path traversal impossible by construction: a URL is a key in the listing, never
a path to join.

PyScript and Pyodide are served with their version in the URL
(`/vendor/pyscript/<version>/...`, `/vendor/pyodide/<version>/...`, versions read from each
package.json), so they can be cached as immutable; everything else is `no-cache` with an
ETag. Compressible files are gzipped once per file version and kept in memory.

Bytes on the wire (bench/run.py, "bytes" rows): a browser that accepts zstd gets the copies
made at set-up (server/site/precompress.py: Pyodide's wasm and modules at level 19) and the
snapshot raw, zstd-coded (the browser decompresses it natively; the loader accepts plain or
gzip bytes). Pyodide's stdlib zip is replaced by the trimmed one (server/site/stdlib_trim.py), and
`pyodide.asm.wasm.gz` is published for hosts that compress nothing (static/pyodide-loader.mjs).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response

from server.site import offline_shell, precompress, snapshot_plan, stdlib_trim

DEFAULT_CONFIG = b'{"api_base": "", "ws_base": ""}\n'
ROOT_FILES = ("index.html", "pyscript.json", "pyscript.toml", "config.json")
# Folder -> file endings served from it (recursively).
TREES = {
    "py": (".py", ".zip", ".json"),
    "static": (".css", ".js", ".mjs", ".svg", ".png", ".jpg", ".webp", ".ico", ".woff2", ".woff", ".webmanifest"),
    "bench": (".html", ".py", ".js", ".mjs", ".css", ".json", ".toml", ".svg", ".png", ".txt"),
}


@dataclass(frozen=True)
class Vendor:
    name: str
    package_dir: str  # relative to the site root
    served_dir: str  # relative to the package dir


VENDORS = (
    Vendor("pyscript", "node_modules/@pyscript/core", "dist"),
    Vendor("pyodide", "node_modules/pyodide", ""),
)
# Built at set-up (scripts/make_snapshot.mjs): a gzipped Pyodide memory snapshot named by a
# hash of everything it holds (server/site/snapshot_plan.py), so its URL changes whenever its
# content may; immutable. Next to it, a manifest computed from the current py/ (no-cache)
# names it only while it matches the code.
SNAPSHOT_DIR = snapshot_plan.SNAPSHOT_DIR
SNAPSHOT_URL = "/snapshot"
SNAPSHOT_MANIFEST = f"{SNAPSHOT_URL}/{snapshot_plan.MANIFEST}"
# Not part of an export: what the page never loads (bench pages, source maps, type
# declarations, Pyodide's UMD build, docs and demo pages, package metadata).
EXPORT_SKIP_TREES = ("bench",)
EXPORT_SKIP_VENDOR_ENDINGS = (".map", ".d.ts", ".md", ".html")
EXPORT_SKIP_VENDOR_NAMES = ("package.json", "pyodide.js")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_TEXT = "; charset=utf-8"
MIME_TYPES = {
    ".html": "text/html" + _TEXT,
    ".js": "text/javascript" + _TEXT,
    ".mjs": "text/javascript" + _TEXT,
    ".css": "text/css" + _TEXT,
    ".py": "text/x-python" + _TEXT,
    ".toml": "application/toml" + _TEXT,
    ".txt": "text/plain" + _TEXT,
    ".md": "text/markdown" + _TEXT,
    ".ts": "text/plain" + _TEXT,
    ".svg": "image/svg+xml" + _TEXT,
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".tar": "application/x-tar",
    ".data": "application/octet-stream",
    ".gz": "application/gzip",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}
COMPRESSIBLE = {".html", ".webmanifest", ".js", ".mjs", ".css", ".py", ".toml", ".txt", ".md", ".ts", ".svg", ".json", ".map",
                ".wasm", ".zip", ".whl", ".tar", ".data"}
MIN_GZIP_BYTES = 256


@dataclass(frozen=True)
class SiteFile:
    url_path: str
    source: Path | None  # None for generated content
    content: bytes | None = None
    immutable: bool = False
    make: Callable[[], bytes] | None = None  # generated on every read (kept small and cached by its maker)
    # Ready-made encodings: (content coding, file, media type of the decoded body or None for
    # this file's own, the stamp of this file they were made from). The decoded body may
    # differ from `read()`: the snapshot's zstd copy decodes to the raw snapshot, its .gz is
    # gzip bytes (the loader accepts either). Used only while this file keeps that stamp.
    encoded: tuple[tuple[str, Path, str | None, str], ...] = ()
    # A copy made from another file (source path, its stamp then): gone once that changed.
    made_from: tuple[Path, str] | None = None

    @property
    def suffix(self) -> str:
        return os.path.splitext(self.url_path)[1].lower()

    @property
    def media_type(self) -> str:
        return MIME_TYPES.get(self.suffix, "application/octet-stream")

    def stamp(self) -> str | None:
        """Changes whenever the content does; None when the file has gone."""
        if self.source is None:
            return hashlib.sha1(self.read()).hexdigest()[:16]
        if self.made_from is not None and precompress.stat_stamp(self.made_from[0]) != self.made_from[1]:
            return None
        return precompress.stat_stamp(self.source)

    def read(self) -> bytes:
        if self.make is not None:
            return self.make()
        if self.source is None:
            assert self.content is not None
            return self.content
        return self.source.read_bytes()


def vendor_version(site_root: Path, vendor: Vendor) -> str | None:
    try:
        return str(json.loads((site_root / vendor.package_dir / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def site_files(site_root: Path, *, export: bool = False, worker: bool = True) -> dict[str, SiteFile]:
    """Every file of the site, by URL path. The one definition of what the site contains.
    `export`: only what the page loads (no bench pages, no vendor source maps or docs)."""
    files: dict[str, SiteFile] = {}
    for name in ROOT_FILES:
        if (site_root / name).is_file():
            files["/" + name] = SiteFile("/" + name, site_root / name)
    files.setdefault("/config.json", SiteFile("/config.json", None, DEFAULT_CONFIG))
    for folder, endings in TREES.items():
        if export and folder in EXPORT_SKIP_TREES:
            continue
        for rel, path in _walk(site_root / folder):
            if rel.lower().endswith(endings):
                files[f"/{folder}/{rel}"] = SiteFile(f"/{folder}/{rel}", path)
    for vendor in VENDORS:
        version = vendor_version(site_root, vendor)
        if version is None:
            continue
        for rel, path in _walk(site_root / vendor.package_dir / vendor.served_dir):
            if export and (rel.endswith(EXPORT_SKIP_VENDOR_ENDINGS) or rel in EXPORT_SKIP_VENDOR_NAMES):
                continue
            url = f"/vendor/{vendor.name}/{version}/{rel}"
            trimmed = stdlib_trim.current(site_root) if vendor.name == "pyodide" and rel == stdlib_trim.NAME else None
            if trimmed is not None:
                # The trimmed stdlib at Pyodide's URL; its rule may change within a version,
                # so it is revalidated, not immutable (the snapshot is named by its bytes).
                files[url] = SiteFile(url, trimmed)
                continue
            stamp = precompress.stat_stamp(path)
            zst = precompress.current(site_root, url, path, "zst")
            gz = precompress.current(site_root, url, path, "gz") if precompress.wants_gz(url) else None
            # The built gzip copy is also this URL's gzip answer: no compressing it at run time.
            encoded = tuple((coding, copy, None, stamp) for coding, copy in (("zstd", zst), ("gzip", gz))
                            if copy is not None and stamp is not None)
            files[url] = SiteFile(url, path, immutable=True, encoded=encoded)
            if gz is not None and stamp is not None:
                files[url + ".gz"] = SiteFile(url + ".gz", gz, immutable=True, made_from=(path, stamp))
    # The served site lists every built snapshot and makes the manifest when first asked
    # (parsing py/ costs ~0.3 s of a server's start); an export holds the current one only.
    manifest = snapshot_plan.manifest(site_root) if export else None
    current = json.loads(manifest).get("snapshot") if manifest is not None else None
    for rel, path in _walk(site_root / SNAPSHOT_DIR):
        if rel.endswith(".gz") and (not export or rel == current):
            zst = path.with_suffix(".zst")  # the raw snapshot, zstd (scripts/make_snapshot.mjs)
            stamp = precompress.stat_stamp(path)
            encoded = (("zstd", zst, "application/octet-stream", stamp),) if zst.is_file() and stamp else ()
            files[f"{SNAPSHOT_URL}/{rel}"] = SiteFile(f"{SNAPSHOT_URL}/{rel}", path, immutable=True, encoded=encoded)
    if export:
        files[SNAPSHOT_MANIFEST] = SiteFile(SNAPSHOT_MANIFEST, None, manifest)
    else:
        files[SNAPSHOT_MANIFEST] = SiteFile(SNAPSHOT_MANIFEST, None, make=lambda: snapshot_plan.manifest(site_root))
    if worker and (site_root / offline_shell.TEMPLATE).is_file():
        # The service worker, at the root so that its scope is the whole site (issue 22 item 2).
        make = offline_shell.maker(site_root, lambda: site_files(site_root, export=export, worker=False))
        files[offline_shell.SW_URL] = (SiteFile(offline_shell.SW_URL, None, make()) if export
                                       else SiteFile(offline_shell.SW_URL, None, make=make))
    return dict(sorted(files.items()))


def _walk(top: Path):
    """(posix relative path, path) of regular files under `top`, skipping hidden and cache
    entries and anything that resolves outside `top` (a symlink out of the tree)."""
    if not top.is_dir():
        return
    real_top = top.resolve()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(dirpath) / filename
            if not path.is_file() or not path.resolve().is_relative_to(real_top):
                continue
            yield path.relative_to(top).as_posix(), path


def accepts(accept_encoding: str, wanted: str) -> bool:
    """Whether an Accept-Encoding header accepts the content coding `wanted` (q > 0). `*`
    stands for gzip only: zstd is sent only to a client that names it."""
    names = (wanted, "*") if wanted == "gzip" else (wanted,)
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in names:
            q = params.strip()
            return not (q.startswith("q=") and _qvalue(q[2:]) == 0)
    return False


def accepts_gzip(accept_encoding: str) -> bool:
    return accepts(accept_encoding, "gzip")


def _qvalue(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0


def _etag_matches(if_none_match: str, etags: tuple[str, ...]) -> bool:
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or any(tag in etags for tag in candidates)


def source_of(site_root: Path, url_path: str) -> Path | None:
    """Where a listing would find the file of `url_path`, or None when no rule of
    `site_files` could serve it (a dot segment, a hidden name, an ending a tree does not
    serve, another prefix). Used only to tell whether a relisting could find something."""
    parts = url_path.split("/")[1:]
    if not parts or any(not part or part.startswith(".") or "\\" in part for part in parts):
        return None
    head, rest = parts[0], parts[1:]
    if not rest:
        return site_root / head if head in ROOT_FILES else None
    if head in TREES:
        return site_root.joinpath(head, *rest) if url_path.lower().endswith(TREES[head]) else None
    if head == "vendor" and len(rest) >= 3:
        vendor = next((v for v in VENDORS if v.name == rest[0]), None)
        if vendor is None:
            return None
        source = site_root.joinpath(vendor.package_dir, vendor.served_dir, *rest[2:])
        if url_path.endswith(".gz") and precompress.wants_gz(url_path[:-3]):  # a copy made at set-up
            return precompress.copy_path(site_root, url_path[:-3], source.with_name(source.name[:-3]), "gz")
        return source
    if "/" + head == SNAPSHOT_URL and url_path.endswith(".gz"):
        return site_root.joinpath(SNAPSHOT_DIR, *rest)
    return None


class StaticSite:
    """Serves `site_files(root)`, listed once at start.

    The site is relisted (a walk of its trees) only when that can find something new: a
    listed file that changed out of its listing (gone, or a copy made from an older
    version), or a path whose file exists where a listing would look (`source_of`: a file
    added since) and was not already found unlisted at that version. Any other unknown path
    is a 404 after one dictionary lookup and at most one stat(), no more than a known file
    costs (issue 23 item 7: a 404 used to walk the whole tree).
    """

    MAX_UNLISTED = 1024  # remembered unlisted paths (then forgotten all at once)

    def __init__(self, root: Path) -> None:
        self.root = root
        self._unlisted: dict[Path, str] = {}  # source -> stamp of a file a relisting did not take
        self._relist()
        self._gzipped_cache: dict[str, tuple[str, bytes | None]] = {}  # url -> (stamp, gzip bytes)
        self._gzip_locks: dict[str, asyncio.Lock] = {}

    def find(self, url_path: str) -> tuple[SiteFile, str] | None:
        if url_path == "/":
            url_path = "/index.html"
        site_file = self._files.get(url_path)
        if site_file is not None:
            stamp = site_file.stamp()
            if stamp is not None:
                return site_file, stamp
        else:
            source = source_of(self.root, url_path)
            stamp = precompress.stat_stamp(source) if source is not None else None
            if stamp is None or self._unlisted.get(source) == stamp or not self._vendor_may_have(url_path):
                return None
        self._relist()
        site_file = self._files.get(url_path)
        found = site_file.stamp() if site_file is not None else None
        if found is None:
            if site_file is None and stamp is not None:
                if len(self._unlisted) >= self.MAX_UNLISTED:
                    self._unlisted.clear()
                self._unlisted[source] = stamp  # by file, not URL: any version in a URL is one key
            return None
        return site_file, found

    def _relist(self) -> None:
        self._files = site_files(self.root)
        self._packages = {v.name: (vendor_version(self.root, v),
                                   precompress.stat_stamp(self.root / v.package_dir / "package.json"))
                          for v in VENDORS}

    def _vendor_may_have(self, url_path: str) -> bool:
        """False for a vendor URL whose version is not the listed one while the package
        (its package.json) has not changed since the listing."""
        parts = url_path.split("/")
        if parts[1] != "vendor":
            return True
        vendor = next(v for v in VENDORS if v.name == parts[2])
        version, package_stamp = self._packages[vendor.name]
        return (parts[3] == version
                or precompress.stat_stamp(self.root / vendor.package_dir / "package.json") != package_stamp)

    async def respond(self, request: Request) -> Response | None:
        found = self.find(request.url.path)
        if found is None:
            return None
        site_file, stamp = found
        accept = request.headers.get("accept-encoding", "")
        ready = next(((coding, path, media) for coding, path, media, made_for in site_file.encoded
                      if made_for == stamp and accepts(accept, coding) and path.is_file()), None)
        use_gzip = ready is None and site_file.suffix in COMPRESSIBLE and accepts(accept, "gzip")
        etag = f'"{stamp}"'
        gzip_etag = f'"{stamp}-gz"'
        headers = {
            "Cache-Control": IMMUTABLE if site_file.immutable else REVALIDATE,
            "ETag": f'"{stamp}-{ready[0]}"' if ready else gzip_etag if use_gzip else etag,
            "Vary": "Accept-Encoding",
        }
        if _etag_matches(request.headers.get("if-none-match", ""), (headers["ETag"],)):
            return Response(status_code=304, headers=headers)
        body = await _read_ready(ready[1]) if ready else None
        media_type = site_file.media_type
        if body is not None:
            assert ready is not None
            headers["Content-Encoding"] = ready[0]
            media_type = ready[2] or media_type
        elif (body := await self._gzipped(site_file, stamp) if use_gzip else None) is not None:
            headers["Content-Encoding"] = "gzip"
        else:
            headers["ETag"] = etag
            body = await anyio.to_thread.run_sync(site_file.read)
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            body = b""
        return Response(body, media_type=media_type, headers=headers)

    async def warm_up(self) -> None:
        """Compress the vendor files a page loads ahead of its first load (run in the background)."""
        for site_file in list(self._files.values()):
            if worth_warming(site_file) and (stamp := site_file.stamp()) is not None:  # no generated file made
                await self._gzipped(site_file, stamp)

    async def _gzipped(self, site_file: SiteFile, stamp: str) -> bytes | None:
        """The gzip form of this file version, compressed once and kept (PyScript and Pyodide
        are megabytes); None when the file is too small to be worth it."""
        url = site_file.url_path
        lock = self._gzip_locks.setdefault(url, asyncio.Lock())
        async with lock:
            cached = self._gzipped_cache.get(url)
            if cached is None or cached[0] != stamp:
                cached = (stamp, await anyio.to_thread.run_sync(_compress, site_file))
                self._gzipped_cache[url] = cached
            return cached[1]


def worth_warming(site_file: SiteFile) -> bool:
    """Whether `warm_up` gzips this file: an immutable, compressible one that a page loads
    (no source map, type declaration or vendor doc) and that has no gzip copy built already.
    The rest is compressed when first asked (then kept), by a client that takes gzip only."""
    return (site_file.immutable and site_file.suffix in COMPRESSIBLE
            and not site_file.url_path.endswith(EXPORT_SKIP_VENDOR_ENDINGS)
            and not any(coding == "gzip" for coding, *_ in site_file.encoded))


async def _read_ready(path: Path) -> bytes | None:
    """A ready-made encoding's bytes; None if it went away since listing (then the plain path)."""
    try:
        return await anyio.to_thread.run_sync(path.read_bytes)
    except OSError:
        return None


def _compress(site_file: SiteFile) -> bytes | None:
    raw = site_file.read()
    return gzip.compress(raw, compresslevel=6, mtime=0) if len(raw) >= MIN_GZIP_BYTES else None
