"""The service worker the site serves at `/sw.js`: static/sw.js with its version and the list
of files it keeps for opening offline (issue 22 item 2).

Theory of operation. The worker caches one version of the site at a time: the app shell
(index.html, config.json, pyscript.toml, the styles and scripts, the Python files, the
snapshot manifest) and the runtime (PyScript, Pyodide, the current snapshot). Its text
carries both the version and the list, so the browser sees a changed /sw.js (a byte
comparison) whenever any file of the list changed, installs the new worker, which fills a
cache of its own name with every file of the list (all or nothing), and deletes the older
caches once active. The version is a hash of the listed files' stamps and of the
template, so one load's files always come from one version.

What is never listed (and the worker never caches): /api/, /ws/, /__faults/, the media
endpoint, anything a user's token opens. Only files of the site listing can be named here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Mapping

SW_URL = "/sw.js"
TEMPLATE = Path("static") / "sw.js"
# The template's placeholder line, replaced by the version and the list (one JSON object).
PLACEHOLDER = "const SHELL = {};"
# Pyodide's and PyScript's files a page never loads (the listing for an export already
# leaves out maps and docs): PyScript's own service worker, its editor and terminal. And the
# wasm's .gz twin (for hosts that compress nothing): a page the worker controls fetches the
# wasm itself (static/pyodide-loader.mjs, hostCompresses), which the worker answers from its
# cache as application/wasm, so it compiles while streaming and keeps its code cache.
SKIP_NAMES = ("service-worker.js", "pyodide.asm.wasm.gz")
SKIP_PREFIXES = ("codemirror", "xterm", "py-editor", "py-game", "py-terminal", "mpy-", "pyodide_graph", "donkey")


def kept(url: str) -> bool:
    """Whether the worker keeps the file at `url` (a path of the site listing) for offline."""
    if url in (SW_URL, "/" + TEMPLATE.as_posix()) or url.startswith("/bench/"):
        return False
    name = url.rsplit("/", 1)[-1]
    if url.startswith("/vendor/"):
        if url.endswith((".map", ".d.ts", ".md", ".html")) or name in ("package.json", "pyodide.js"):
            return False
        return name not in SKIP_NAMES and not name.startswith(SKIP_PREFIXES)
    return True


def shell(stamps: Mapping[str, str | None], template: bytes, snapshot: str | None) -> dict:
    """The version and the files (relative to the worker's scope) of one site state.
    `stamps`: URL path -> the file's stamp (None when gone). `snapshot`: the current
    snapshot's URL path, the only one of the snapshots that is kept."""
    urls = sorted(url for url, stamp in stamps.items() if stamp is not None and kept(url)
                  and (not url.startswith("/snapshot/") or url.endswith(".json") or url == snapshot))
    digest = hashlib.sha256(template)
    for url in urls:
        digest.update(f"{url} {stamps[url]}\n".encode())
    return {"version": digest.hexdigest()[:16], "files": ["." + url for url in urls]}


def script(template: bytes, shell_data: dict) -> bytes:
    """static/sw.js with its SHELL line filled in."""
    text = template.decode("utf-8")
    if PLACEHOLDER not in text:
        raise ValueError(f"{TEMPLATE} lost its line {PLACEHOLDER!r}")
    return text.replace(PLACEHOLDER, "const SHELL = " + json.dumps(shell_data, separators=(",", ":")) + ";", 1).encode()


def maker(site_root: Path, listing: Callable[[], Mapping[str, object]]) -> Callable[[], bytes]:
    """What `/sw.js` reads as: made from a fresh `listing()` (url -> SiteFile, the worker left
    out), so a file added since the server's own listing is in it; kept while nothing changed."""
    memo: dict[str, tuple[tuple, bytes]] = {}

    def make() -> bytes:
        template = (site_root / TEMPLATE).read_bytes()
        files = listing()
        manifest = files.get("/snapshot/manifest.json")
        current = json.loads(manifest.read()).get("snapshot") if manifest is not None else None  # type: ignore[attr-defined]
        snapshot = f"/snapshot/{current}" if isinstance(current, str) else None
        stamps = {url: f.stamp() for url, f in files.items() if kept(url)}  # type: ignore[attr-defined]
        key = (hashlib.sha256(template).hexdigest(), snapshot, tuple(sorted(stamps.items())))
        if memo.get("sw", ((), b""))[0] != key:
            memo["sw"] = (key, script(template, shell(stamps, template, snapshot)))
        return memo["sw"][1]

    return make
