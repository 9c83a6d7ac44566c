"""Issue 12: the app's pure modules are inside the Pyodide snapshot, and the page can never
run a snapshot older than py/. A copy of the site is served; a module is edited; the next
load runs the new code (booting without the now-stale snapshot), and after the snapshot is
rebuilt (scripts/make_snapshot.mjs, as set-up and `serve.py export` run it) the page boots
from the new snapshot and still runs the new code."""

import shutil
import subprocess
import uuid

import httpx
import pytest

from e2e_harness import ROOT, Server, wait_ready

SITE_ITEMS = ("index.html", "pyscript.json", "config.json", "serve.py", "static", "py", "server", "scripts")


@pytest.fixture
def site_copy(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    for name in SITE_ITEMS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    (root / "node_modules").symlink_to((ROOT / "node_modules").resolve())
    subprocess.run(["node", "scripts/make_snapshot.mjs"], cwd=root, check=True, capture_output=True, timeout=300)
    srv = Server(tmp_path, root=root).start()
    yield root, srv
    srv.stop()


def boot(browser, origin):
    """A cold load (new context) to the login screen; returns (how it booted, core.formatting.MARK)."""
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(origin + "/?bench=trace")  # the loader exposes the interpreter for tests
        wait_ready(page, "login")
        how = page.evaluate("document.documentElement.dataset.pyodideBoot")
        in_modules = page.evaluate("__benchPyodide.runPython(\"import sys; 'core.formatting' in sys.modules\")")
        mark = page.evaluate("__benchPyodide.runPython(\"from core import formatting; getattr(formatting, 'MARK', None)\")")
        return how, in_modules, mark
    finally:
        ctx.close()


def test_a_module_edit_is_never_hidden_by_the_snapshot(browser, site_copy):
    root, srv = site_copy
    manifest = httpx.get(srv.origin + "/snapshot/manifest.json").json()
    assert manifest["snapshot"] and "./py/core/formatting.py" in manifest["modules"]
    # The adapters the loader writes on every boot do not include what the snapshot holds.
    assert "web/app.py" in manifest["files"] and "core/formatting.py" not in manifest["files"]

    how, imported, mark = boot(browser, srv.origin)
    assert (how, imported, mark) == ("snapshot", True, None)  # imported inside the snapshot

    new_mark = "edited-" + uuid.uuid4().hex
    with open(root / "py" / "core" / "formatting.py", "a") as f:
        f.write(f"\nMARK = {new_mark!r}\n")
    assert boot(browser, srv.origin) == ("plain", True, new_mark)  # the old snapshot is not offered

    subprocess.run(["node", "scripts/make_snapshot.mjs"], cwd=root, check=True, capture_output=True, timeout=300)
    assert boot(browser, srv.origin) == ("snapshot", True, new_mark)  # rebuilt with the new code
