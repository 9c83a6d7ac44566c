"""Issue 22 item 2: the service worker's decisions (static/sw.js, run under Node: the same file
the browser runs; its worker part only runs inside a ServiceWorkerGlobalScope). What it
answers from its cache and what it never touches; which caches a new version deletes."""

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DRIVER = """
const { routeFor, staleCaches } = require("./static/sw.js");
let text = "";
process.stdin.on("data", (chunk) => { text += chunk; });
process.stdin.on("end", () => {
  const { requests, listed, caches, current } = JSON.parse(text);
  const set = new Set(listed);
  process.stdout.write(JSON.stringify({
    routes: requests.map((r) => routeFor(r, set)),
    stale: staleCaches(caches, current),
  }));
});
"""

LISTED = ["./index.html", "./config.json", "./static/app.css", "./py/main.py", "./snapshot/manifest.json",
          "./snapshot/pyodide-1-abc.gz", "./vendor/pyodide/314.0.7/pyodide.asm.wasm",
          "./vendor/pyscript/0.7.31/core.js"]


def run(requests=(), caches=(), current=""):
    done = subprocess.run(["node", "-e", DRIVER], cwd=ROOT, check=True, timeout=60, capture_output=True, text=True,
                          input=json.dumps({"requests": list(requests), "listed": LISTED,
                                            "caches": list(caches), "current": current}))
    return json.loads(done.stdout)


def route(path, method="GET", same_origin=True, navigate=False):
    return run([{"method": method, "sameOrigin": same_origin, "navigate": navigate, "path": path}])["routes"][0]


def test_runtime_files_named_by_their_content_come_from_the_cache_first():
    assert route("vendor/pyodide/314.0.7/pyodide.asm.wasm") == "cache-first"
    assert route("vendor/pyscript/0.7.31/core.js") == "cache-first"
    assert route("snapshot/pyodide-1-abc.gz") == "cache-first"


def test_the_shell_comes_from_the_network_first_and_from_the_cache_offline():
    for path in ("config.json", "static/app.css", "py/main.py", "snapshot/manifest.json", "index.html"):
        assert route(path) == "network-first", path
    assert route("", navigate=True) == "network-first"
    assert route("index.html", navigate=True) == "network-first"


def test_the_api_sockets_fault_controls_and_user_data_are_never_touched():
    for path in ("api/messaging/conversations/", "api/auth/users/me/", "ws/messaging/1/", "__faults/reset",
                 "media/photos/1.jpg", "static/unlisted.js", "vendor/pyodide/314.0.7/other.whl", "sw.js"):
        assert route(path) == "network", path
    assert route("api/messaging/conversations/", navigate=True) == "network"
    assert route("media/photos/1.jpg", navigate=True) == "network"


def test_only_gets_of_this_site_are_answered():
    assert route("config.json", method="POST") == "network"
    assert route("config.json", same_origin=False) == "network"
    assert route("", navigate=True, same_origin=False) == "network"


def test_an_activated_version_deletes_its_older_caches_and_no_one_elses():
    stale = run(caches=["coachline-shell-old1", "coachline-shell-new", "coachline-shell-old2", "other-app", "pyodide"],
                current="coachline-shell-new")["stale"]
    assert stale == ["coachline-shell-old1", "coachline-shell-old2"]
