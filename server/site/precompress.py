"""Compressed copies of the big vendor files, made once at set-up (or export), never per request.

Into build/precompressed/<vendor>/<version>/, each named by the stat stamp of its source so a
changed source simply has no copy (and is served as before) until the next set-up:
- `<file>.<stamp>.zst`: zstd level 19 (window 8 MiB, the most Chromium decodes; never
  `--long`) of every compressible vendor file of at least MIN_BYTES. server/static_site.py
  sends it with `Content-Encoding: zstd` to a browser that accepts zstd (Pyodide's wasm:
  2.9 MB instead of 3.6 gzipped). Needs the `zstd` tool; without it, no .zst (gzip as before).
- `<file>.<stamp>.gz`: gzip level 9 of the files in GZ_COPIES, published beside the original
  as `<file>.gz` (served and exported as is). For hosts that compress nothing: the loader
  fetches `pyodide.asm.wasm.gz` there and unpacks it in the page (3.5 MB instead of 9.6).
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

OUT_DIR = "build/precompressed"
MIN_BYTES = 64 * 1024
ZSTD_LEVEL = "-19"
# Published as `<name>.gz` next to the original (pyodide-loader.mjs asks for it on a host
# that does not compress).
GZ_COPIES = ("pyodide.asm.wasm",)
ZSTD_ENDINGS = (".wasm", ".mjs", ".js", ".json", ".css")


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


def wants_zstd(url: str, source: Path) -> bool:
    try:
        return url.endswith(ZSTD_ENDINGS) and source.stat().st_size >= MIN_BYTES
    except OSError:
        return False


def wants_gz(url: str) -> bool:
    return url.rsplit("/", 1)[-1] in GZ_COPIES


def ensure(site_root: Path, vendor_files: dict[str, Path]) -> list[str]:
    """Build the missing copies of `vendor_files` ({url: source}); remove copies of sources
    that changed. Returns what it built (relative paths)."""
    built = []
    wanted: set[Path] = set()
    for url, source in sorted(vendor_files.items()):
        for coding, wants, make in (("zst", wants_zstd(url, source), _zstd), ("gz", wants_gz(url), _gzip9)):
            target = copy_path(site_root, url, source, coding) if wants else None
            if target is None:
                continue
            wanted.add(target)
            if target.is_file():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            if make(source, tmp):
                os.replace(tmp, target)  # never a half-written copy at its served name
                built.append(target.relative_to(site_root).as_posix())
    _remove_others(site_root / OUT_DIR, wanted)
    return built


def _zstd(source: Path, target: Path) -> bool:
    tool = shutil.which("zstd")
    if tool is None:
        return False
    proc = subprocess.run([tool, ZSTD_LEVEL, "-q", "-f", str(source), "-o", str(target)],
                          capture_output=True, timeout=600)
    if proc.returncode != 0:
        target.unlink(missing_ok=True)
    return proc.returncode == 0


def _gzip9(source: Path, target: Path) -> bool:
    target.write_bytes(gzip.compress(source.read_bytes(), compresslevel=9, mtime=0))
    return True


def _remove_others(top: Path, keep: set[Path]) -> None:
    if not top.is_dir():
        return
    for dirpath, _, filenames in os.walk(top):
        for name in filenames:
            path = Path(dirpath) / name
            if path not in keep:
                path.unlink(missing_ok=True)
