"""Set-up and `serve.py export`: make what the site serves from build/, and write the export.

`prepare` builds the trimmed stdlib zip and the compressed vendor copies (a no-op when they
are current); `export_site` writes exactly the files the server would serve (one listing,
server/site/static_site.py `site_files`) into a folder any static host can serve.
The running server never imports this package: without a set-up it serves the plain files.
"""

from __future__ import annotations

from pathlib import Path

from server import security_headers
from server.build import compress
from server.site import precompress, stdlib_trim
from server.site.static_site import site_files


def prepare(site_root: Path) -> list[str]:
    """Build what serving and export use from build/ (scripts/setup.sh, export): the trimmed
    stdlib zip and the compressed vendor copies. A no-op when they are current."""
    stdlib_trim.ensure(site_root)
    vendor = {url: f.source for url, f in site_files(site_root).items()
              if f.immutable and f.source is not None and url.startswith("/vendor/")
              and not f.source.is_relative_to(site_root / precompress.OUT_DIR)}
    return compress.ensure(site_root, vendor)


def export_site(site_root: Path, dest: Path) -> list[str]:
    """Write the site into `dest` (what the page loads, nothing else); return the URL paths
    written. `serve.py export` rebuilds the snapshot first when py/ has changed."""
    prepare(site_root)
    written = []
    for url, site_file in site_files(site_root, export=True).items():
        target = dest / url.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(site_file.read())
        written.append(url)
    written += security_headers.secure_export(dest)
    return written


if __name__ == "__main__":  # scripts/setup.sh: python -m server.build.export
    import sys

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    for made in prepare(root):
        print(f"prepare: built {made}")
