"""Makes the compressed copies of the big vendor files that server/site/precompress.py names
(zstd level 19 for browsers, gzip level 9 of GZ_COPIES for hosts that compress nothing).

Run at set-up and export only (server/build/export.py `prepare`), never by the running
server: a missing copy just means the file is served as before.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

from server.site.precompress import OUT_DIR, copy_path, wants_gz

MIN_BYTES = 64 * 1024
ZSTD_LEVEL = "-19"
ZSTD_ENDINGS = (".wasm", ".mjs", ".js", ".json", ".css")


def wants_zstd(url: str, source: Path) -> bool:
    try:
        return url.endswith(ZSTD_ENDINGS) and source.stat().st_size >= MIN_BYTES
    except OSError:
        return False


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
