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
    return _imported_names(path.read_text(), str(path))


def _imported_names(source, filename="<module>"):
    tree = ast.parse(source, filename=filename)
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


# Imports go downward only: the top of py/ (the design card's four names) may import core/ and
# web/, web/ may import core/, core/ imports only core/. The top-level ws_hook.py, query_cache.py
# and chat_view.py are re-exports of core/ and web/ modules for the card; main.py is the entry.
TOP_LEVEL_NAMES = {Path(name).stem for name in TOP_LEVEL_PURE | TOP_LEVEL_ADAPTERS}


def upward_imports(source, layer, filename="<module>"):
    """The modules `source` reaches up to from `layer` ("core" or "web"): a top-level module
    of py/ (from either) or, from core, the web package."""
    forbidden = set(TOP_LEVEL_NAMES) | ({"web"} if layer == "core" else set())
    return sorted({name.split(".")[0] for name in _imported_names(source, filename)} & forbidden)


def _upward_offenders():
    offenders = {}
    for layer, folder in (("core", CORE), ("web", WEB)):
        for path in sorted(folder.rglob("*.py")):
            bad = set(upward_imports(path.read_text(), layer, str(path)))
            if bad:
                offenders[_module_name(path)] = sorted(bad)
    return offenders


def test_imports_go_only_downward():
    assert _upward_offenders() == {}


def test_the_downward_rule_catches_an_upward_import():
    # The checker must be able to fail: synthetic modules that reach up, and ones that do not.
    assert upward_imports("import ws_hook\n", "core") == ["ws_hook"]
    assert upward_imports("from query_cache import messages_key\n", "core") == ["query_cache"]
    assert upward_imports("def late():\n    from web.web_dom import el\n", "core") == ["web"]
    assert upward_imports("from chat_view import ChatView\n", "web") == ["chat_view"]
    assert upward_imports("import main\n", "web") == ["main"]
    assert upward_imports("from web.chat_view import ChatView\nimport core.query_cache\n", "web") == []
    assert upward_imports("from core.query_cache import QueryCache\nimport json\n", "core") == []


def test_the_downward_rule_fails_on_a_bad_import_in_a_copy_of_the_tree(tmp_path, monkeypatch):
    # The whole check, run on a copy of py/ with one upward import added, names the module.
    import shutil
    copy = tmp_path / "py"
    shutil.copytree(PY, copy, ignore=shutil.ignore_patterns("__pycache__"))
    bad = copy / "core" / "read_marker.py"
    bad.write_text(bad.read_text() + "\nimport ws_hook  # reaching up\n")
    import sys
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "PY", copy)
    monkeypatch.setattr(here, "CORE", copy / "core")
    monkeypatch.setattr(here, "WEB", copy / "web")
    assert _upward_offenders() == {"core.read_marker": ["ws_hook"]}


# STYLE 10, issue 24: a class is one idea, and no class in py/ runs over this many lines.
MAX_CLASS_LINES = 330
# Being split on another branch (appshell); each entry goes when its class comes under.
def _class_lengths():
    lengths = {}
    for path in sorted(PY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ClassDef):
                lengths[f"{_module_name(path)}.{node.name}"] = node.end_lineno - node.lineno + 1
    return lengths


def test_no_class_runs_over_the_limit():
    lengths = _class_lengths()
    assert len(lengths) >= 20  # it walks the real tree
    over = {name: size for name, size in lengths.items() if size > MAX_CLASS_LINES}
    assert over == {}


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
    # core/session.py, core/connection_machine.py) with a theory of operation.
    missing = [_module_name(p) for p in sorted(PY.rglob("*.py"))
               if "__pycache__" not in p.parts and not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []
    for core in (CORE / "open_conversation.py", CORE / "session.py", CORE / "connection_machine.py"):
        assert "Theory of operation" in ast.get_docstring(ast.parse(core.read_text())), core.name


def test_no_two_test_files_share_a_name():
    # The test folders have no __init__.py, so pytest imports each test file by its bare name:
    # two files with one name stop the whole suite at collection.
    seen = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


# server/: the folder says what a module is (docs/ARCHITECTURE.md, "server/ layout"):
#   server/*.py, server/realtime/, server/data/   the running server ("runtime": the top
#                    level, the sockets' events, the database and data directory);
#   server/site/     the static site's files and how they are served (the runtime and the build share it);
#   server/build/    set-up and export, never imported by the running server;
#   server/testing/  the --faults controls, imported by the runtime at exactly one place,
#                    inside a function that create_app calls only with faults=True.
SERVER = ROOT / "server"
SERVER_PACKAGES = {"realtime", "data", "site", "build", "testing"}
RUNTIME = {"runtime", "realtime", "data"}
# Which packages each may import (besides itself and anything outside server/).
MAY_IMPORT = {"runtime": {"realtime", "data", "site"}, "realtime": {"runtime", "data"}, "data": {"runtime"},
              "site": set(), "build": RUNTIME | {"site"}, "testing": RUNTIME | {"site"}}
LAZY_FAULTS_IMPORT = ("server.app", "_fault_controls", "server.testing")


def _server_package(dotted):
    """The package of a dotted name under `server` ('runtime' for server/*.py), else None."""
    parts = dotted.split(".")
    if parts[0] != "server":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in SERVER_PACKAGES else "runtime"


def _server_imports(module, tree):
    """(imported dotted name, the function it sits in or None) for every import in a module's
    tree; `from a import b` counts as a.b, a relative import is resolved against `module`."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inside = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = module.split(".")[:-child.level]
                    base = ".".join([*anchor, *([base] if base else [])])
                found.extend((f"{base}.{alias.name}" if base else alias.name, function) for alias in child.names)
            visit(child, inside)

    visit(tree, None)
    return found


def server_layout_violations(modules):
    """{dotted module name: parsed tree} -> 'a imports b' for each import that crosses a line
    the layout draws. The one allowed crossing is LAZY_FAULTS_IMPORT, and only inside its function."""
    owner, function, target = LAZY_FAULTS_IMPORT
    violations = []
    for module, tree in sorted(modules.items()):
        package = _server_package(module)
        for name, inside in _server_imports(module, tree):
            imported = _server_package(name)
            if imported is None or imported == package or imported in MAY_IMPORT[package]:
                continue
            if (module, inside) == (owner, function) and name.startswith(target + "."):
                continue
            violations.append(f"{module} imports {name}" + (f" (in {inside})" if inside else ""))
    return violations


def _server_modules():
    # A package's own file keeps its `.__init__`, so a relative import in it resolves from the package.
    return {".".join(path.relative_to(ROOT).with_suffix("").parts):
            ast.parse(path.read_text(), filename=str(path))
            for path in sorted(SERVER.rglob("*.py")) if "__pycache__" not in path.parts}


def test_the_server_folders_are_the_runtime_the_site_the_build_and_the_test_controls():
    folders = {path.name for path in SERVER.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == SERVER_PACKAGES
    for name in SERVER_PACKAGES:  # each says what it is for
        assert ast.get_docstring(ast.parse((SERVER / name / "__init__.py").read_text())), name


def test_the_runtime_imports_neither_the_build_nor_the_test_controls():
    modules = _server_modules()
    assert server_layout_violations(modules) == []
    # The check sees the whole tree, and the one allowed import exists (else its exception is dead).
    kinds = [_server_package(name) for name in modules]
    assert sum(kinds.count(kind) for kind in RUNTIME) >= 35 and kinds.count("site") >= 5
    assert kinds.count("realtime") >= 5 and kinds.count("data") >= 5
    assert kinds.count("build") >= 3 and kinds.count("testing") >= 2
    owner, function, target = LAZY_FAULTS_IMPORT
    assert any(name.startswith(target + ".") and inside == function
               for name, inside in _server_imports(owner, modules[owner]))


def test_the_layout_check_finds_each_kind_of_crossing():
    def parsed(**sources):
        return {name.replace("__", "."): ast.parse(text) for name, text in sources.items()}

    clean = parsed(server__app="from server.site.static_site import StaticSite\n"
                               "def _fault_controls():\n    from server.testing import faults\n",
                   server__realtime__ws="from server import messaging\nfrom server.data.store import Store\n",
                   server__site__static_site="from server.site import precompress\n",
                   server__build__export="from server import security_headers\nfrom server.site import stdlib_trim\n",
                   server__testing__faults="from server import messaging\n")
    assert server_layout_violations(clean) == []
    broken = parsed(server__api="from server.build import export\n",
                    server__app="from server.testing import faults\n",
                    server__realtime__ws="def connect():\n    from server.testing.faults import FaultyHub\n",
                    server__data__store="from server.realtime.hub import Hub\n",
                    server__site__static_site="from server import security_headers\nfrom . import precompress\n",
                    server__site__precompress="from ..build import compress\n",
                    server__build__export="import server.testing.faults\n")
    assert server_layout_violations(broken) == [
        "server.api imports server.build.export",
        "server.app imports server.testing.faults",
        "server.build.export imports server.testing.faults",
        "server.data.store imports server.realtime.hub.Hub",
        "server.realtime.ws imports server.testing.faults.FaultyHub (in connect)",
        "server.site.precompress imports server.build.compress",
        "server.site.static_site imports server.security_headers",
    ]


def _loaded_after_serving(tmp_path, faults):
    """Which server.build / server.testing modules a fresh interpreter holds after importing
    serve.py and answering one request to /__faults/reset, and that request's status."""
    script = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
import serve
from server.app import create_app
from starlette.testclient import TestClient
app = create_app({str(tmp_path / "db.sqlite3")!r}, site_root={str(tmp_path)!r}, faults={faults!r})
with TestClient(app) as client:
    status = client.post("/__faults/reset", json={{}}).status_code
print(json.dumps({{"status": status,
                  "loaded": sorted(m for m in sys.modules if m.startswith(("server.build", "server.testing")))}}))
"""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_server_without_faults_never_loads_the_test_controls_nor_the_build(tmp_path):
    assert _loaded_after_serving(tmp_path, faults=False) == {"status": 404, "loaded": []}


def test_with_faults_the_controls_are_loaded_and_answer(tmp_path):
    # The counter-case: the probe above sees the package when it is loaded.
    result = _loaded_after_serving(tmp_path, faults=True)
    assert result["status"] == 200 and "server.testing.faults" in result["loaded"]
    assert not any(name.startswith("server.build") for name in result["loaded"])
