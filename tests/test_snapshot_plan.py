"""server/site/snapshot_plan.py: which modules the Pyodide snapshot holds (a rule, not a list),
its hash-carrying name, the manifest that never names a stale snapshot, and pyscript.json
fetching exactly what the snapshot lacks."""

import json
import tomllib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.site import snapshot_plan  # noqa: E402
from server.site.snapshot_plan import make_plan, manifest  # noqa: E402


def write_site(root, modules):
    for name, text in modules.items():
        path = root / "py" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    pkg = root / "node_modules" / "pyodide" / "package.json"
    pkg.parent.mkdir(parents=True, exist_ok=True)
    pkg.write_text('{"version": "1.2.3"}')
    return root


MODULES = {
    "main.py": "import js\n",
    "pure_a.py": "import json\nfrom pure_b import X\n",
    "pure_b.py": "X = 1\n",
    "uses_js.py": "import js\n",
    "uses_ffi.py": "from pyodide.ffi import create_proxy\n",
    "indirect.py": "import pure_a\nimport uses_js\n",
    "late.py": "def f():\n    import pyscript\n",
    "core/__init__.py": "",
    "core/deep.py": "from pure_b import X\n",
    "core/uses_core.py": "from core.deep import X\nfrom core import deep\n",
    "web/__init__.py": "",
    "web/view.py": "from core import uses_core\nfrom web.dom import el\n",
    "web/dom.py": "import js\n",
}


def test_the_rule_keeps_every_module_that_reaches_no_browser_module(tmp_path):
    plan = make_plan(write_site(tmp_path, MODULES))
    assert {m.name for m in plan.snapshot} == {"pure_a", "pure_b", "core", "core.deep", "core.uses_core", "web"}
    # main.py is not listed: PyScript runs it.
    assert {m.name for m in plan.fetched} == {"uses_js", "uses_ffi", "indirect", "late", "web.view", "web.dom"}
    order = [m.name for m in plan.snapshot]
    assert order.index("pure_b") < order.index("pure_a")  # dependencies are imported first
    assert order.index("core") < order.index("core.deep") < order.index("core.uses_core")
    deep = next(m for m in plan.snapshot if m.name == "core.deep")
    assert (deep.source, deep.target) == ("py/core/deep.py", "core/deep.py")


def test_the_name_changes_with_any_byte_of_a_snapshot_module_only(tmp_path):
    root = write_site(tmp_path, MODULES)
    first = make_plan(root).file_name
    assert first.startswith("pyodide-1.2.3-") and first.endswith(".gz")
    (root / "py" / "uses_js.py").write_text("import js\nY = 2\n")  # not in the snapshot
    assert make_plan(root).file_name == first
    (root / "py" / "pure_b.py").write_text("X = 2\n")
    assert make_plan(root).file_name != first
    assert make_plan(root, pyodide="9.9.9").file_name.startswith("pyodide-9.9.9-")


def test_the_manifest_names_a_snapshot_only_when_it_matches_the_code(tmp_path):
    root = write_site(tmp_path, MODULES)
    assert json.loads(manifest(root))["snapshot"] is None  # nothing built
    built = root / snapshot_plan.SNAPSHOT_DIR / make_plan(root).file_name
    built.parent.mkdir(parents=True)
    built.write_bytes(b"\x1f\x8b")
    data = json.loads(manifest(root))
    assert data["snapshot"] == built.name
    assert data["modules"]["./py/core/deep.py"] == "core/deep.py"
    assert data["modules"]["./py/pure_a.py"] == "pure_a.py"
    assert set(data["modules"]) == {"./" + m.source for m in make_plan(root).snapshot}
    # The adapters' text, which the loader writes on every boot, snapshot or not.
    assert data["files"]["web/dom.py"] == (root / "py" / "web" / "dom.py").read_text()
    assert set(data["files"]) == {m.target for m in make_plan(root).fetched}
    assert not set(data["files"]) & set(data["modules"].values())
    (root / "py" / "web" / "dom.py").write_text("import js\nEDITED = 1\n")
    assert json.loads(manifest(root))["files"]["web/dom.py"] == "import js\nEDITED = 1\n"  # never stale
    (root / "py" / "pure_a.py").write_text("import json\nfrom pure_b import X\nZ = 3\n")
    assert json.loads(manifest(root))["snapshot"] is None  # stale: never offered


def test_the_loader_fetches_exactly_what_the_snapshot_lacks_and_pyscript_nothing():
    # PyScript would fetch its `files` only once the interpreter is ready (a round trip on
    # every boot); the adapters' text comes in the manifest (`files`), which the loader reads first.
    plan = make_plan(ROOT)
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    assert "files" not in config
    files = json.loads(manifest(ROOT))["files"]
    assert files == {m.target: (ROOT / m.source).read_text(encoding="utf-8") for m in plan.fetched}
    assert {m.name for m in plan.snapshot} >= {"ws_hook", "query_cache", "core.models", "core.tokens",
                                               "core.message_log", "core.prefetch"}
    assert {m.name for m in plan.fetched} >= {"web.app", "web.web_early", "chat_view"}
