"""The layout keeps its promises: pure logic stays pure, the page lists every
module it needs, vendor versions match the lock, and no HTML is built from data."""

import ast
import json
import tomllib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / "py"

# The folder a module sits in says what it is (STYLE.md):
#   py/core/  pure logic: imports neither the browser nor an adapter, runs under CPython;
#   py/web/   browser adapters, the only code that touches js / pyodide / pyscript.
# The design card keeps four modules at the top of py/: the pure socket machine and query
# cache, the chat view and the entry point PyScript runs. Anything else belongs in a folder.
CORE = PY / "core"
WEB = PY / "web"
TOP_LEVEL_PURE = {"ws_hook.py", "query_cache.py"}
TOP_LEVEL_ADAPTERS = {"chat_view.py", "main.py"}
BROWSER_MODULES = {"js", "pyodide", "pyscript"}


def _imports(path):
    """Every module a file imports, as dotted names ('core.tokens', 'js', 'query_cache')."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_name(path):
    return ".".join(path.relative_to(PY).with_suffix("").parts)


def _pure_modules():
    return sorted(CORE.rglob("*.py")) + sorted(PY / name for name in TOP_LEVEL_PURE)


def _adapter_modules():
    return sorted(WEB.rglob("*.py")) + sorted(PY / name for name in TOP_LEVEL_ADAPTERS)


def test_every_module_sits_where_its_kind_lives():
    top_level = {path.name for path in PY.glob("*.py")}
    assert top_level == TOP_LEVEL_PURE | TOP_LEVEL_ADAPTERS
    folders = {path.name for path in PY.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == {"core", "web"}
    assert (CORE / "__init__.py").is_file() and (WEB / "__init__.py").is_file()


def test_pure_logic_imports_neither_js_nor_pyscript():
    offenders = {}
    for path in _pure_modules():
        bad = {name.split(".")[0] for name in _imports(path)} & BROWSER_MODULES
        if bad:
            offenders[_module_name(path)] = sorted(bad)
    assert offenders == {}


def test_pure_logic_never_imports_an_adapter():
    adapters = {_module_name(path) for path in _adapter_modules()} | {"web"}
    offenders = {}
    for path in _pure_modules():
        bad = {name for name in _imports(path) if name in adapters or name.split(".")[0] == "web"}
        if bad:
            offenders[_module_name(path)] = sorted(bad)
    assert offenders == {}


def test_the_architecture_checks_see_every_module():
    # A check that walks an empty folder passes by accident; these counts keep it honest.
    assert len(_pure_modules()) >= 10 and len(_adapter_modules()) >= 5
    assert any("js" in _imports(path) for path in _adapter_modules())


def test_every_module_reaches_its_import_path_through_the_loader_or_the_snapshot():
    # The loader (static/pyodide-loader.mjs) writes each of the manifest's `files` (path ->
    # text, the adapters) into the interpreter's working directory, which is on sys.path:
    # py/core/tokens.py must land at core/tokens.py to import as core.tokens. The modules the Pyodide snapshot holds
    # (server/site/snapshot_plan.py) are not in `files`: the snapshot has them imported, and
    # without it the loader writes them (the manifest's `modules`). PyScript fetches none.
    import sys
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from server.site.snapshot_plan import make_plan, manifest
    plan = make_plan(ROOT)
    assert "files" not in tomllib.loads((ROOT / "pyscript.toml").read_text())
    listed = json.loads(manifest(ROOT))
    reached = {path: f"./py/{path}" for path in listed["files"]}  # import path -> its source
    for module in plan.snapshot:
        assert module.target not in reached, module.name  # never written twice
        assert listed["modules"][f"./{module.source}"] == module.target
        reached[module.target] = f"./{module.source}"
    needed = {path.relative_to(PY).as_posix(): f"./py/{path.relative_to(PY).as_posix()}"
              for path in PY.rglob("*.py") if path.name != "main.py" and "__pycache__" not in path.parts}
    assert reached == needed


def test_vendor_paths_match_the_locked_versions():
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    pyscript = lock["node_modules/@pyscript/core"]["version"]
    pyodide = lock["node_modules/pyodide"]["version"]
    html = (ROOT / "index.html").read_text()
    config = (ROOT / "pyscript.toml").read_text()
    assert f"./vendor/pyscript/{pyscript}/core.js" in html
    versions_in_config = set(re.findall(r"vendor/pyodide/([^/$]+)/", config))
    loader = ROOT / "static" / "pyodide-loader.mjs"
    if loader.exists():
        versions_in_config |= set(re.findall(r'export const version = "([^"]+)"', loader.read_text()))
    versions_in_config |= set(re.findall(r"vendor/pyodide/([^/$]+)/", html))
    assert versions_in_config == {pyodide}


def test_no_cdn_and_no_inline_script_in_the_page():
    html = (ROOT / "index.html").read_text()
    assert not re.search(r"cdn\.jsdelivr|pyscript\.net|unpkg\.com|cdnjs", html)
    # Every <script> is external (CSP: no unsafe-inline), except PyScript's own tag, which has a src.
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag


def test_browser_python_never_builds_html_from_strings():
    hits = []
    for path in PY.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", line):
                hits.append(f"{path.relative_to(PY)}:{number}")
    assert hits == []


def test_every_browser_module_opens_by_saying_what_it_is():
    # STYLE: a module opens with its idea; the cores (core/open_conversation.py,
    # core/session.py, ws_hook.py) with a theory of operation.
    missing = [_module_name(p) for p in sorted(PY.rglob("*.py"))
               if "__pycache__" not in p.parts and not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []
    for core in (CORE / "open_conversation.py", CORE / "session.py", PY / "ws_hook.py"):
        assert "Theory of operation" in ast.get_docstring(ast.parse(core.read_text())), core.name


def test_no_two_test_files_share_a_name():
    # The test folders have no __init__.py, so pytest imports each test file by its bare name:
    # two files with one name stop the whole suite at collection.
    seen = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
