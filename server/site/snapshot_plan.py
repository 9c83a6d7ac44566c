"""Which of the page's Python modules the Pyodide snapshot holds, and the snapshot's name.

The rule (no list kept by hand): a module under `py/` goes into the snapshot, already
imported, when neither it nor any `py/` module it imports (at any depth, anywhere in the
file) imports a browser module (`js`, `pyodide`, `pyscript`). Those modules hold no live
JS object, so they survive a memory snapshot. Everything else (the adapters) travels inside
the manifest (`files`: path -> text), which the loader fetches first anyway:
static/pyodide-loader.mjs writes them into the working directory before PyScript gets the
interpreter, so no request is left after it is ready (PyScript's own `files` would be
fetched only then, one request each). `main.py` is PyScript's script; `pyscript.toml` has
no `files` (tests/test_snapshot_plan.py checks both).

The snapshot's file name carries a hash of the Pyodide version, the stdlib recipe, the trimmed
stdlib zip it was made with (server/site/stdlib_trim.py) and the
bytes of every module it imported, so a page can never restore code older than `py/`:
the server (and the export) offer the snapshot only when a file with the current name exists
(`manifest`), and the loader otherwise boots without it, writing the modules itself.

Stdlib only: scripts/make_snapshot.mjs runs this file with python3 (`--json`) to learn the plan.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    from server.site import runtime_sizes, stdlib_trim
except ImportError:  # run as a script (scripts/make_snapshot.mjs): server/site/ is on sys.path
    import runtime_sizes  # type: ignore[no-redef]
    import stdlib_trim  # type: ignore[no-redef]

# Stdlib modules imported into the snapshot as well (those the app imports at start-up).
STDLIB = (
    "asyncio", "base64", "binascii", "bisect", "collections", "contextlib", "dataclasses",
    "datetime", "enum", "html", "inspect", "io", "json", "math", "re", "typing",
    "unicodedata", "urllib.parse", "uuid",
)
BROWSER_MODULES = frozenset({"js", "pyodide", "pyscript"})
# How the snapshot file stores the snapshot (scripts/snapshot_runs.mjs): part of its name, so
# a file in an older form is never fetched by a loader that expects this one.
STORED_FORMAT = "runs of non-zero 4 KiB pages, v1"
ENTRY = "main.py"  # PyScript's <script type="py" src>, never imported by name
PY_DIR = "py"
SNAPSHOT_DIR = "build/snapshot"
MANIFEST = "manifest.json"
# The loader writes the snapshot's modules under this name in Pyodide's file system
# (PyScript's `files` put the others in the same folder, its working directory).
FS_DIR = "/home/pyodide"


@dataclass(frozen=True)
class Module:
    name: str  # dotted import name ("core.tokens", "ws_hook", "core" for core/__init__.py)
    source: str  # path under the site root, posix ("py/core/tokens.py")
    sha256: str

    @property
    def target(self) -> str:
        """Where it lives in Pyodide's working directory: its path under py/ (import path)."""
        return self.source.split("/", 1)[1]


@dataclass(frozen=True)
class Plan:
    pyodide: str
    snapshot: tuple[Module, ...]  # in import order (dependencies first)
    fetched: tuple[Module, ...]  # the adapters (main.py excluded): the loader fetches them on every boot
    key: str  # hash of everything the snapshot holds
    stdlib_zip: str  # the trimmed stdlib zip it is made with and restored with (server/site/stdlib_trim.py)

    @property
    def file_name(self) -> str:
        return f"pyodide-{self.pyodide}-{self.key}.gz"

    def to_json(self) -> dict:
        return {
            "pyodide": self.pyodide,
            "stdlib": list(STDLIB),
            "file": self.file_name,
            "fs_dir": FS_DIR,
            "stdlib_zip": self.stdlib_zip,
            "modules": [{"name": m.name, "source": m.source, "target": m.target} for m in self.snapshot],
        }


def _imported_names(source: str, filename: str) -> set[str]:
    """Every dotted name a file may import: `import a.b` -> a.b; `from a import b` -> a, a.b
    (b may be a submodule). Imports anywhere in the file count, not only at the top."""
    tree = ast.parse(source, filename=filename)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_name(rel: Path) -> str:
    parts = rel.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _loaded_by(name: str, modules: set[str]) -> set[str]:
    """The page's modules that importing `name` runs: it and each package above it."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & modules


def pyodide_version(site_root: Path) -> str:
    data = json.loads((site_root / "node_modules" / "pyodide" / "package.json").read_text())
    return str(data["version"])


def make_plan(site_root: Path, pyodide: str | None = None) -> Plan:
    py = site_root / PY_DIR
    paths = {_module_name(p.relative_to(py)): p for p in sorted(py.rglob("*.py")) if "__pycache__" not in p.parts}
    texts = {name: path.read_bytes() for name, path in paths.items()}
    known = set(paths)
    deps: dict[str, set[str]] = {}
    reaches_browser: set[str] = set()
    for name, text in texts.items():
        imported = _imported_names(text.decode("utf-8"), str(paths[name]))
        deps[name] = set().union(*(_loaded_by(i, known) for i in imported)) if imported else set()
        if "." in name:  # a submodule's import runs its packages first
            deps[name] |= _loaded_by(name.rsplit(".", 1)[0], known)
        deps[name].discard(name)
        if {i.split(".")[0] for i in imported} & BROWSER_MODULES:
            reaches_browser.add(name)

    browser = set(reaches_browser)  # modules that reach a browser module, directly or not
    changed = True
    while changed:
        changed = False
        for name, needs in deps.items():
            if name not in browser and needs & browser:
                browser.add(name)
                changed = True

    def module(name: str) -> Module:
        return Module(name, paths[name].relative_to(site_root).as_posix(), hashlib.sha256(texts[name]).hexdigest())

    entry = Path(ENTRY).stem
    pure = [n for n in sorted(paths) if n not in browser and n != entry]
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:  # dependencies first, so each import finds its own
        if name in seen:
            return
        seen.add(name)  # before recursing: an import cycle cannot loop
        for dep in sorted(deps[name] & set(pure)):
            visit(dep)
        ordered.append(name)

    for name in pure:
        visit(name)
    snapshot = tuple(module(n) for n in ordered)
    fetched = tuple(module(n) for n in sorted(browser) if n != entry)
    version = pyodide if pyodide is not None else pyodide_version(site_root)
    # The snapshot holds zipimport's index of the stdlib zip (entry offsets): it is named
    # by that zip's bytes, so it is only ever restored with the very zip it was made with.
    # (the page is served the same: server/site/static_site.py, Pyodide's own zip when no trimmed one).
    stdlib_zip = stdlib_trim.ensure(site_root) or site_root / stdlib_trim.SOURCE
    digest = hashlib.sha256(json.dumps({
        "pyodide": version, "stdlib": STDLIB, "fs_dir": FS_DIR, "stdlib_zip": _sha256_of(stdlib_zip),
        "modules": [[m.name, m.sha256] for m in snapshot],
        "stored": STORED_FORMAT,
    }, sort_keys=True).encode()).hexdigest()
    return Plan(version, snapshot, fetched, digest[:16], stdlib_zip.relative_to(site_root).as_posix())


def _sha256_of(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


_manifests: dict[Path, tuple[tuple, bytes]] = {}


def _inputs_stamp(site_root: Path) -> tuple:
    """Changes whenever the manifest may: the py/ files, Pyodide's version, the built snapshots
    and stdlib zip."""
    entries = []
    for folder in (site_root / PY_DIR, site_root / SNAPSHOT_DIR, site_root / stdlib_trim.OUT_DIR):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((str(path), st.st_size, st.st_mtime_ns))
    try:
        st = (site_root / "node_modules" / "pyodide" / "package.json").stat()
        entries.append(("pyodide", st.st_size, st.st_mtime_ns))
    except OSError:
        pass
    return tuple(entries)


def manifest(site_root: Path) -> bytes:
    """What the loader reads first (no-cache): the current snapshot's file name, or null when
    no snapshot of the current code exists, the modules to write when booting without it,
    and the adapters' text (`files`) to write on every boot.
    Recomputed only when an input changed (parsing py/ takes ~100 ms)."""
    stamp = _inputs_stamp(site_root)
    cached = _manifests.get(site_root)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        plan = make_plan(site_root)
    except (OSError, ValueError, KeyError, SyntaxError):
        content = b'{"snapshot": null, "modules": {}, "files": {}}\n'
    else:
        snapshot_file = site_root / SNAPSHOT_DIR / plan.file_name
        built = snapshot_file.is_file()
        content = (json.dumps({
            "snapshot": plan.file_name if built else None,
            "modules": {"./" + m.source: m.target for m in plan.snapshot},
            # The adapters' text, inline: one request (this one, already on the boot's path)
            # instead of one per file.
            "files": {m.target: (site_root / m.source).read_text(encoding="utf-8") for m in plan.fetched},
            # The decoded sizes of what the boot downloads, for its progress bar (issue 20).
            "sizes": runtime_sizes.runtime_sizes(site_root, snapshot_file if built else None),
        }, indent=1) + "\n").encode()
    _manifests[site_root] = (stamp, content)
    return content


if __name__ == "__main__":  # used by scripts/make_snapshot.mjs
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    print(json.dumps(make_plan(root).to_json()))
