#!/usr/bin/env python3
"""Where the app's boot time goes: the stages of a cold and a warm boot to the conversation
list, from the page's own clock (the loader's and main.py's `boot:*` / `pyodide:*`
performance marks and the resource timings), medians of N boots. Same server and
Chromium set-up as bench/run.py. Not a target: a map for whoever works on the boot.

    .venv/bin/python bench/profile_boot.py            # 5 boots (each cold, then warm)
    .venv/bin/python bench/profile_boot.py --runs 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402  (bench/run.py: the server, the browser, the boot)

# (stage, key): a key is a mark name or "<resource path end> start|end" (see READ_JS).
STAGES = [
    ("HTML received", "html"),
    ("loader module runs", "mark boot:loader"),
    ("pyodide.mjs imported", "mark boot:pyodide-module"),
    ("manifest in (adapters' text inside)", "snapshot/manifest.json end"),
    ("snapshot fetch starts", "snapshot.gz start"),
    ("snapshot downloaded", "snapshot.gz end"),
    ("wasm downloaded", "pyodide.asm.wasm end"),
    ("wasm compiled (by the loader, while the snapshot downloads)", "mark boot:wasm-compiled"),
    ("snapshot gunzipped", "mark boot:snapshot-unpacked"),
    ("PyScript asks for the interpreter", "mark pyodide:requested"),
    ("Pyodide ready (instantiated, restored, adapters written)", "mark pyodide:ready"),
    ("main.py fetched (PyScript, after the interpreter)", "py/main.py end"),
    ("main.py starts (PyScript's bootstrap done)", "mark boot:main"),
    ("web.app imported", "mark boot:imported"),
    ("conversation list rendered", "list"),
]

READ_JS = """() => {
  const out = { html: performance.getEntriesByType('navigation')[0].responseEnd, list: window.__bench.listAt };
  for (const m of performance.getEntriesByType('mark')) out['mark ' + m.name] = m.startTime;
  for (const e of performance.getEntriesByType('resource')) {
    let key = new URL(e.name).pathname.split('/').slice(-2).join('/');
    if (key.startsWith('snapshot/pyodide-')) key = 'snapshot.gz';
    if (key.endsWith('pyodide.asm.wasm')) key = 'pyodide.asm.wasm';
    out[key + ' start'] = e.startTime;
    out[key + ' end'] = e.responseEnd;
  }
  return out;
}"""


def profile(runs: int) -> dict[str, list[dict]]:
    got: dict[str, list[dict]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        server = bench_run.Server(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=bench_run.CHROMIUM, args=bench_run.LAUNCH_ARGS)
                bench = bench_run.Bench(browser, server, bench_run.Report(), False, runs)
                bench.boot_once("/")  # untimed: the server gzips each file once, on first use
                for _ in range(runs):
                    ctx = bench.context(logged_in=True)
                    page = ctx.new_page()
                    for kind in ("cold", "warm"):
                        bench.boot(page, "/")
                        page.wait_for_function("performance.getEntriesByName('boot:started').length > 0",
                                               timeout=bench_run.TIMEOUT_MS)
                        got[kind].append(page.evaluate(READ_JS))
                    ctx.close()
                browser.close()
        finally:
            server.stop()
    return got


def table(got: dict[str, list[dict]]) -> str:
    lines = ["| stage (ms from navigation start, median) | cold | warm |", "|---|---:|---:|"]
    for name, key in STAGES:
        cells = []
        for kind in ("cold", "warm"):
            values = [r[key] for r in got[kind] if r.get(key) is not None]
            cells.append(f"{statistics.median(values):.0f}" if values else "-")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    print(table(profile(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
