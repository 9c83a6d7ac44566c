"""The sizes of Pyodide's runtime files as a fetch body shows them, for the boot's progress bar.

A fetch body is decoded (no gzip, no zstd), and a coded response's Content-Length is its coded
size, so the page (static/boot-progress.mjs) cannot learn the total it counts towards from
the headers; the snapshot manifest carries it (`sizes`). Each is the size of the file as
served: the stdlib zip is the trimmed one when it is built (as static_site.py serves it), and
the snapshot's is the size of its raw form (what a zstd-coded response of it decodes to; a host
that sends the .gz as it is says its length in Content-Length, which the page then uses).
"""

from __future__ import annotations

from pathlib import Path

try:
    from server.site import stdlib_trim
except ImportError:  # run as a script by scripts/make_snapshot.mjs (through snapshot_plan.py)
    import stdlib_trim  # type: ignore[no-redef]

PYODIDE_DIR = "node_modules/pyodide"
RUNTIME = ("pyodide.asm.wasm", "pyodide.asm.mjs")


def gunzipped_size(path: Path) -> int | None:
    """The length of a gzip file's content, from its trailer (ISIZE: modulo 4 GiB, and the
    snapshot is far smaller); None when it is missing or too short to be gzip."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            if f.tell() < 18:
                return None
            f.seek(-4, 2)
            return int.from_bytes(f.read(4), "little")
    except OSError:
        return None


def runtime_sizes(site_root: Path, snapshot: Path | None = None) -> dict[str, int]:
    """{file name: bytes} for Pyodide's wasm and module, the stdlib zip, and the snapshot
    (by its file name) when given; a file that is missing is left out."""
    stdlib = stdlib_trim.current(site_root) or site_root / PYODIDE_DIR / stdlib_trim.NAME
    sizes: dict[str, int] = {}
    for name, path in [*((n, site_root / PYODIDE_DIR / n) for n in RUNTIME), (stdlib_trim.NAME, stdlib)]:
        try:
            sizes[name] = path.stat().st_size
        except OSError:
            pass
    raw = gunzipped_size(snapshot) if snapshot is not None else None
    if snapshot is not None and raw is not None:
        sizes[snapshot.name] = raw
    return sizes
