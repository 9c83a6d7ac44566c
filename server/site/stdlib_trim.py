"""The page's Python standard library: Pyodide's `python_stdlib.zip` minus what a browser chat
app never imports, built at set-up into build/stdlib/ and served in place of Pyodide's own zip.

Every boot downloads the whole zip (2.5 MB, its entries already deflated, so no host
compression shrinks it). The cut is a deny-list, not a keep-list: whole packages that only
make sense with processes, sockets, terminals, test runners or mail servers, plus the legacy
codec tables (the app and its server speak UTF-8 only). Anything the app (`py/`), PyScript's
Python package or Pyodide's own `pyodide`/`_pyodide` import, even lazily inside a function,
and everything those modules import in turn, is never dropped: tests/test_stdlib_trim.py
checks the deny-list against the imports of all of them.

The zip is served at Pyodide's own URL (index.html preloads it; the loader measures the link
with it), but revalidated rather than cached as immutable, since the deny-list may change
within one Pyodide version. The snapshot's name carries the trimmed zip's hash
(server/site/snapshot_plan.py): a snapshot holds zipimport's view of the zip it was built with,
so it must only ever be restored with those very bytes.

Stdlib only (scripts/make_snapshot.mjs runs server/site/snapshot_plan.py with python3).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

SOURCE = "node_modules/pyodide/python_stdlib.zip"
OUT_DIR = "build/stdlib"
NAME = "python_stdlib.zip"

# Top-level modules and packages a browser chat app never imports (nor do PyScript and
# Pyodide): process/terminal/debugging/test tooling, servers, mail protocols, XML, audio files.
DENY = (
    "__hello__", "__phello__", "_pyio", "_pyrepl", "antigravity", "bdb", "cProfile", "cmd",
    "compileall", "doctest", "ftplib", "imaplib", "mailbox", "modulefinder", "multiprocessing",
    "optparse", "pdb", "pickletools", "poplib", "profile", "pstats", "pyclbr", "pydoc", "smtplib",
    "socketserver", "tabnanny", "this", "timeit", "trace", "unittest", "wave", "webbrowser",
    "wsgiref", "xml", "xmlrpc", "zipapp",
)
# Single modules inside packages the app may need.
DENY_SUBMODULES = ("http.server",)
# encodings/: only these codecs stay (UTF-*, the codecs Python's own modules name, and the
# two Western single-byte tables browsers default to). The rest are legacy tables (cp*,
# mac_*, iso8859_*, CJK), a third of the zip.
KEEP_ENCODINGS = frozenset({
    "__init__", "_win_cp_codecs", "aliases", "ascii", "base64_codec", "bz2_codec", "charmap", "cp1252", "hex_codec",
    "idna", "iso8859_15", "latin_1", "punycode", "quopri_codec", "raw_unicode_escape", "rot_13",
    "undefined", "unicode_escape", "utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be",
    "utf_32_le", "utf_7", "utf_8", "utf_8_sig", "uu_codec", "zlib_codec",
})


def module_of(entry: str) -> str | None:
    """The dotted module name of a zip entry ("email/mime/text.py" -> "email.mime.text",
    "json/__init__.py" -> "json"); None for anything that is not a .py file."""
    if not entry.endswith(".py"):
        return None
    parts = entry[:-3].split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def dropped(entry: str) -> bool:
    """Whether a zip entry (a path inside Pyodide's zip) is left out of the trimmed zip."""
    top = entry.split("/", 1)[0].removesuffix(".py")
    if top in DENY:
        return True
    name = module_of(entry)
    if name is not None and any(name == s or name.startswith(s + ".") for s in DENY_SUBMODULES):
        return True
    if entry.startswith("encodings/") and entry.endswith(".py"):
        return entry[len("encodings/"):-3] not in KEEP_ENCODINGS
    return False


def recipe() -> str:
    """Changes whenever the trimming rule does."""
    rule = {"deny": DENY, "submodules": DENY_SUBMODULES, "encodings": sorted(KEEP_ENCODINGS), "format": 1}
    return hashlib.sha256(json.dumps(rule, sort_keys=True).encode()).hexdigest()[:16]


def trimmed(source: bytes) -> bytes:
    """The trimmed zip of Pyodide's zip `source`: same entries, order and timestamps, minus
    the dropped ones, deflated at level 9. Deterministic for the same input."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if dropped(info.filename):
                continue
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.external_attr = info.external_attr
            copy.compress_type = zipfile.ZIP_STORED if info.is_dir() else zipfile.ZIP_DEFLATED
            dst.writestr(copy, src.read(info), compresslevel=9)
    return out.getvalue()


def path(site_root: Path) -> Path:
    return site_root / OUT_DIR / NAME


def _stamp(site_root: Path) -> str | None:
    try:
        st = (site_root / SOURCE).stat()
    except OSError:
        return None
    return f"{recipe()} {st.st_size:x}-{st.st_mtime_ns:x}"


def current(site_root: Path) -> Path | None:
    """The built zip when it was made from Pyodide's zip as it is now by the current rule."""
    stamp = _stamp(site_root)
    target = path(site_root)
    try:
        return target if stamp is not None and target.is_file() and target.with_suffix(".stamp").read_text() == stamp else None
    except OSError:
        return None


def ensure(site_root: Path) -> Path | None:
    """Build build/stdlib/python_stdlib.zip when missing or made from another source or
    rule (a stamp file beside it records which); return its path, or None without Pyodide
    (or when its file is not a zip)."""
    source = site_root / SOURCE
    stamp = _stamp(site_root)
    if stamp is None:
        return None
    target = path(site_root)
    if current(site_root) is not None:
        return target
    try:
        data = trimmed(source.read_bytes())
    except (OSError, zipfile.BadZipFile):
        return None  # not a zip: Pyodide's own file is served as it is
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # never a half-written zip at the served name
    target.with_suffix(".stamp").write_text(stamp)
    return target


if __name__ == "__main__":  # scripts/setup.sh
    import sys

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    built = ensure(root)
    if built is None:
        sys.exit(f"stdlib_trim: {root / SOURCE} not found")
    before = (root / SOURCE).stat().st_size
    print(f"stdlib_trim: {built.relative_to(root)} {built.stat().st_size / 1e6:.2f} MB (Pyodide's: {before / 1e6:.2f} MB)")
