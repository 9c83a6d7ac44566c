"""The layout keeps its promises: pure logic stays pure, the page lists every
module it needs, vendor versions match the lock, and no HTML is built from data."""

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / "py"

# Thin browser adapters: the only modules allowed to touch js / pyodide / pyscript.
ADAPTERS = {"main.py", "app.py", "chat_controller.py", "chat_view.py", "conversation_list_view.py",
            "web_dom.py", "web_http.py", "web_socket.py", "web_early.py"}
BROWSER_MODULES = {"js", "pyodide", "pyscript"}


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_pure_logic_imports_neither_js_nor_pyscript():
    offenders = {}
    for path in sorted(PY.glob("*.py")):
        if path.name in ADAPTERS:
            continue
        bad = _imports(path) & BROWSER_MODULES
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_pure_logic_never_imports_an_adapter():
    adapters = {name[:-3] for name in ADAPTERS}
    offenders = {p.name: sorted(_imports(p) & adapters) for p in PY.glob("*.py")
                 if p.name not in ADAPTERS and _imports(p) & adapters}
    assert offenders == {}


def test_every_module_the_page_imports_is_in_the_snapshot_or_fetched_by_pyscript():
    import sys
    sys.path.insert(0, str(ROOT))
    from server.snapshot_plan import make_plan
    plan = make_plan(ROOT)
    config = json.loads((ROOT / "pyscript.json").read_text())
    listed = {Path(target).name for target in config["files"].values()}
    listed |= {m.name + ".py" for m in plan.snapshot}
    needed = {p.name for p in PY.rglob("*.py") if p.name != "main.py"}
    assert needed - listed == set()


def test_vendor_paths_match_the_locked_versions():
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    pyscript = lock["node_modules/@pyscript/core"]["version"]
    pyodide = lock["node_modules/pyodide"]["version"]
    html = (ROOT / "index.html").read_text()
    config = (ROOT / "pyscript.json").read_text()
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
    for path in PY.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", line):
                hits.append(f"{path.name}:{number}")
    assert hits == []
