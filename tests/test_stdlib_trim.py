"""The trimmed stdlib (server/site/stdlib_trim.py) never lacks a module the page can import.

Checked statically against Pyodide's own zip (its stdlib is CPython 3.14's; this venv cannot
import it): the roots are every import, at any depth of any function, of the app (`py/`),
PyScript's Python package, Pyodide's `pyodide`/`_pyodide` packages and the snapshot's stdlib
recipe; from each stdlib module reached, every import that runs when it is imported (module
and class bodies, `try`/`if` blocks at the top; not function bodies). Nothing reached may be
missing from the trimmed zip. Python's start-up modules are checked by the e2e boots.
"""

from __future__ import annotations

import ast
import re
import zipfile
from pathlib import Path

import pytest

from server.site import snapshot_plan, stdlib_trim

ROOT = Path(__file__).resolve().parents[1]
PYSCRIPT_PY = ROOT / "node_modules" / "@pyscript" / "core" / "src" / "stdlib" / "pyscript"


def _is_main_guard(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test)


def _imports(tree: ast.AST, package: str, *, lazy: bool) -> set[str]:
    """Dotted names an import statement in `tree` may load (`from a import b` -> a, a.b)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if not lazy and (isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                             or _is_main_guard(child)):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1] if package else []
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                if module:
                    found.add(module)
                    found.update(f"{module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(tree)
    return found


IMPORT_LINE = re.compile(
    r"(?:import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)|from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?([\w, \t]+))")
MAIN_GUARD = re.compile(r"if\s+__name__\s*==\s*['\"]__main__['\"]\s*:")


def _imports_of(source: bytes, package: str, *, lazy: bool) -> set[str]:
    """`_imports` of a file. A file this Python cannot parse (newer syntax) is scanned line
    by line instead: an import under a `def` (by indentation) is lazy, any other counts."""
    try:
        return _imports(ast.parse(source), package, lazy=lazy)
    except SyntaxError:
        pass
    found: set[str] = set()
    blocks: list[tuple[int, bool]] = []  # (indent, opens a function or a __main__ block)
    for line in source.decode("utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        while blocks and blocks[-1][0] >= indent:
            blocks.pop()
        deferred = any(is_def for _, is_def in blocks)
        match = IMPORT_LINE.match(text)
        if match and (lazy or not deferred):
            found |= _names(*match.groups(), package)
        if text.startswith(("def ", "async def ")) or MAIN_GUARD.match(text):
            blocks.append((indent, True))
        elif text.endswith(":"):
            blocks.append((indent, False))
    return found


def _names(plain: str | None, module: str | None, names: str | None, package: str) -> set[str]:
    if plain:
        return {n.strip().split(" ")[0] for n in plain.split(",")}
    assert module is not None and names is not None
    level = len(module) - len(module.lstrip("."))
    module = module.lstrip(".")
    if level:
        base = package.split(".")[: len(package.split(".")) - level + 1] if package else []
        module = ".".join(base + ([module] if module else []))
    if not module:
        return set()
    return {module} | {f"{module}.{n.strip().split(' ')[0]}" for n in names.split(",") if n.strip()}


def _with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


# Codecs looked up by name at run time (never imported by an import statement): what
# CPython, Pyodide's JS bridge and the standard library's text/HTTP/URL modules name.
RUNTIME_CODECS = {f"encodings.{c}" for c in (
    "utf_8", "utf_8_sig", "ascii", "latin_1", "idna", "punycode", "utf_16", "utf_32",
    "raw_unicode_escape", "unicode_escape", "charmap", "cp1252", "base64_codec", "hex_codec")}


def _zip_modules(zf: zipfile.ZipFile) -> dict[str, str]:
    return {name: entry for entry in zf.namelist() if (name := stdlib_trim.module_of(entry))}


def _reached(zf: zipfile.ZipFile) -> set[str]:
    """Stdlib modules (in Pyodide's zip) the page can import, by the rule in the docstring."""
    modules = _zip_modules(zf)
    roots: set[str] = set(snapshot_plan.STDLIB) | {"site", "encodings"} | RUNTIME_CODECS
    for path in [*sorted((ROOT / "py").rglob("*.py")), *sorted(PYSCRIPT_PY.glob("*.py"))]:
        roots |= _imports_of(path.read_bytes(), "", lazy=True)
    for name, entry in modules.items():
        if name.split(".")[0] in ("pyodide", "_pyodide"):
            package = name if entry.endswith("__init__.py") else name.rpartition(".")[0]
            roots.add(name)
            roots |= _imports_of(zf.read(entry), package, lazy=True)
    seen: set[str] = set()
    todo = sorted(set().union(*(_with_parents(r) for r in roots)))
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        entry = modules[name]
        package = name if entry.endswith("__init__.py") else name.rpartition(".")[0]
        for imported in _imports_of(zf.read(entry), package, lazy=False):
            todo.extend(_with_parents(imported) - seen)
    return seen


@pytest.fixture(scope="module")
def zips():
    source = ROOT / stdlib_trim.SOURCE
    if not source.is_file():
        pytest.skip("node_modules/pyodide is not installed")
    built = stdlib_trim.ensure(ROOT)
    with zipfile.ZipFile(source) as full, zipfile.ZipFile(built) as trimmed:
        yield full, trimmed


def test_nothing_the_page_can_import_is_dropped(zips):
    full, trimmed = zips
    reached = _reached(full)
    kept = set(_zip_modules(trimmed))
    assert {"asyncio", "json", "pyodide.http", "_pyodide._base", "encodings.utf_8", "inspect"} <= reached
    assert sorted(reached - kept) == []


def test_the_rule_drops_what_it_names_and_keeps_the_rest(zips):
    full, trimmed = zips
    kept = set(trimmed.namelist())
    for entry in full.namelist():
        assert (entry in kept) != stdlib_trim.dropped(entry), entry
    assert {"unittest/__init__.py", "multiprocessing/__init__.py", "http/server.py", "encodings/cp1251.py"} <= (
        set(full.namelist()) - kept)
    assert {"http/client.py", "encodings/utf_8.py", "encodings/idna.py", "pyodide/__init__.py"} <= kept
    for entry in kept:  # same bytes, only fewer entries
        assert trimmed.read(entry) == full.read(entry)


def test_it_is_smaller_and_rebuilt_only_when_its_inputs_change(zips, tmp_path):
    full, trimmed = zips
    assert (ROOT / stdlib_trim.SOURCE).stat().st_size - stdlib_trim.path(ROOT).stat().st_size > 700_000
    site = tmp_path / "site"
    (site / "node_modules" / "pyodide").mkdir(parents=True)
    (site / stdlib_trim.SOURCE).write_bytes((ROOT / stdlib_trim.SOURCE).read_bytes())
    first = stdlib_trim.ensure(site)
    mtime = first.stat().st_mtime_ns
    assert stdlib_trim.ensure(site) == first and first.stat().st_mtime_ns == mtime  # up to date: untouched
    (site / stdlib_trim.SOURCE).write_bytes(_zip_of({"json/__init__.py": b"x = 1\n", "unittest/__init__.py": b""}))
    rebuilt = stdlib_trim.ensure(site)
    assert zipfile.ZipFile(rebuilt).namelist() == ["json/__init__.py"]


def _zip_of(entries: dict[str, bytes]) -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()
