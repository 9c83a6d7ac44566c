"""Where the compressed copies of the big vendor files live, and whether one is current.

server/build/compress.py makes them once at set-up (or export), never per request, into
build/precompressed/<vendor>/<version>/, each named by the stat stamp of its source so a
changed source simply has no copy (and is served as before) until the next set-up:
- `<file>.<stamp>.zst`: zstd level 19 (window 8 MiB, the most Chromium decodes; never
  `--long`) of every compressible vendor file of at least build/compress.py's MIN_BYTES.
  server/site/static_site.py sends it with `Content-Encoding: zstd` to a browser that accepts
  zstd (Pyodide's wasm: 2.9 MB instead of 3.6 gzipped). Needs the `zstd` tool; without it,
  no .zst (gzip as before).
- `<file>.<stamp>.gz`: gzip level 9 of the files in GZ_COPIES, published beside the original
  as `<file>.gz` (served and exported as is). For hosts that compress nothing: the loader
  fetches `pyodide.asm.wasm.gz` there and unpacks it in the page (3.5 MB instead of 9.6).
"""

from __future__ import annotations

from pathlib import Path

OUT_DIR = "build/precompressed"
# Published as `<name>.gz` next to the original (pyodide-loader.mjs asks for it on a host
# that does not compress).
GZ_COPIES = ("pyodide.asm.wasm",)


def stat_stamp(source: Path) -> str | None:
    """Size and modification time of a file, as a short text; None when it is gone."""
    try:
        st = source.stat()
    except OSError:
        return None
    return f"{st.st_size:x}-{st.st_mtime_ns:x}"


def copy_path(site_root: Path, url: str, source: Path, coding: str) -> Path | None:
    """Where the `coding` ("zst" or "gz") copy of the vendor file served at `url` lives
    for the source as it is now; None when the source is gone."""
    stamp = stat_stamp(source)
    if stamp is None:
        return None
    return site_root / OUT_DIR / f"{url.lstrip('/').removeprefix('vendor/')}.{stamp}.{coding}"


def current(site_root: Path, url: str, source: Path, coding: str) -> Path | None:
    """The `coding` copy of this file version when it was built, else None."""
    path = copy_path(site_root, url, source, coding)
    return path if path is not None and path.is_file() else None


def wants_gz(url: str) -> bool:
    return url.rsplit("/", 1)[-1] in GZ_COPIES
