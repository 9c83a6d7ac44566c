#!/usr/bin/env python3
"""Where the app's boot time goes: the stages of a cold and a warm boot to the conversation
list, from the page's own clock (the loader's and main.py's `boot:*` / `pyodide:*`
performance marks and the resource timings), medians of N boots. Same server and
Chromium set-up as bench/run.py. Not a target: a map for whoever works on the boot.

    .venv/bin/python bench/profile_boot.py            # 5 boots (each cold, then warm)
    .venv/bin/python bench/profile_boot.py --runs 9
    .venv/bin/python bench/profile_boot.py --cpu      # and where the main thread's CPU goes

--cpu adds V8's sampling profiler (CDP `Profiler`, 100 us) over each boot, from navigation to
the conversation list, and sums the page's main-thread time by kind of work (the groups of
`CPU_GROUPS`: Python's wasm, Pyodide's and PyScript's JavaScript, the app's loader, the
garbage collector, the browser's own work such as parsing, style and layout) and by function.
Work on other threads (wasm compilation, decompression of a response) is not in it: the
stage marks show what the main thread waited for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


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


# (group, test on (url, function name)): the first that matches names a sample's group.
CPU_GROUPS = [
    ("idle (waiting: network, other threads, timers)", lambda url, fn: fn == "(idle)"),
    ("garbage collector", lambda url, fn: fn == "(garbage collector)"),
    ("browser: parse, style, layout, paint, native calls", lambda url, fn: fn in ("(program)", "(root)")),
    ("Python and the C runtime (wasm)",
     lambda url, fn: url.startswith("wasm://") or url.endswith(".wasm") or fn.startswith("wasm-function")),
    ("Pyodide's JavaScript (pyodide.mjs, pyodide.asm.mjs)", lambda url, fn: "/pyodide/" in url),
    ("PyScript's JavaScript", lambda url, fn: "/pyscript/" in url),
    ("the app's loader and early scripts (static/)", lambda url, fn: "/static/" in url),
    ("other JavaScript", lambda url, fn: True),
]


def cpu_split(profile: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Milliseconds of main-thread time per group and per function (self time) of one
    `Profiler.stop` answer."""
    nodes = {node["id"]: node["callFrame"] for node in profile["nodes"]}
    groups: dict[str, float] = {}
    functions: dict[str, float] = {}
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[node_id]
        url, fn = frame.get("url", ""), frame.get("functionName") or "(anonymous)"
        group = next(name for name, test in CPU_GROUPS if test(url, fn))
        groups[group] = groups.get(group, 0.0) + delta / 1000
        where = url.rsplit("/", 1)[-1].split("?")[0] if url else ""
        key = f"{fn} ({where})" if where else fn
        functions[key] = functions.get(key, 0.0) + delta / 1000
    return groups, functions


TRACE_CATEGORIES = ["devtools.timeline", "v8", "v8.wasm", "blink", "loading", "disabled-by-default-devtools.timeline"]


def trace_split(trace: dict) -> dict[str, float]:
    """Milliseconds of self time per trace event name on the page's main thread (the
    renderer's CrRendererMain with the most events), from a Chromium trace: what the
    sampler's "(program)" holds (parsing, style, layout, wasm instantiation, ...)."""
    events = trace.get("traceEvents", trace if isinstance(trace, list) else [])
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"}
    counts: dict[tuple, int] = {}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key in mains and e.get("ph") == "X":
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return {}
    main = max(counts, key=counts.get)
    spans = sorted(((e["ts"], e.get("dur", 0), e["name"]) for e in events
                    if (e.get("pid"), e.get("tid")) == main and e.get("ph") == "X"), key=lambda s: (s[0], -s[1]))
    self_ms: dict[str, float] = {}
    stack: list[tuple[float, str]] = []  # (end, name) of the events that enclose this one
    for start, dur, name in spans:
        while stack and stack[-1][0] <= start:
            stack.pop()
        if stack:  # an event's self time is its duration less its children's
            self_ms[stack[-1][1]] -= dur / 1000
        self_ms[name] = self_ms.get(name, 0.0) + dur / 1000
        stack.append((start + dur, name))
    return self_ms


def profile(runs: int, cpu: bool = False, trace: bool = False) -> dict[str, list[dict]]:
    got: dict[str, list[dict]] = {"cold": [], "warm": [], "cpu cold": [], "cpu warm": [],
                                  "trace cold": [], "trace warm": []}
    with bench_run.bench_session(bench_run.Report(), False, runs) as bench:
        browser = bench.browser
        bench.boot_once("/")  # untimed: the server gzips each file once, on first use
        for _ in range(runs):
            ctx = bench.context(logged_in=True)
            page = ctx.new_page()
            cdp = ctx.new_cdp_session(page) if cpu else None
            if cdp:
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 100})
            for kind in ("cold", "warm"):
                if cdp:
                    cdp.send("Profiler.start")
                if trace:
                    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
                bench.boot(page, "/")
                if trace:
                    got["trace " + kind].append(trace_split(json.loads(browser.stop_tracing())))
                if cdp:
                    got["cpu " + kind].append(cpu_split(cdp.send("Profiler.stop")["profile"]))
                page.wait_for_function("performance.getEntriesByName('boot:started').length > 0",
                                       timeout=bench_run.TIMEOUT_MS)
                got[kind].append(page.evaluate(READ_JS))
            ctx.close()
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


def trace_table(got: dict[str, list[dict]], top: int = 20) -> str:
    names: dict[str, float] = {}
    for split in got["trace cold"]:
        for name, ms in split.items():
            names[name] = names.get(name, 0.0) + ms
    lines = ["", "| main thread, trace events (self time), ms (median) | cold | warm |", "|---|---:|---:|"]
    for name in sorted(names, key=names.get, reverse=True)[:top]:
        cells = [statistics.median([split.get(name, 0.0) for split in got[kind]]) for kind in ("trace cold", "trace warm")]
        lines.append(f"| {name} | {cells[0]:.0f} | {cells[1]:.0f} |")
    return "\n".join(lines)


def cpu_table(got: dict[str, list[dict]], top: int = 15) -> str:
    """Medians over the boots of each group's and the top functions' main-thread milliseconds."""
    lines = []
    for index, title in ((0, "main-thread work by kind"), (1, "functions (self time)")):
        lines += ["", f"| {title}, ms (median) | cold | warm |", "|---|---:|---:|"]
        names: dict[str, float] = {}
        for split in got["cpu cold"]:
            for name, ms in split[index].items():
                names[name] = names.get(name, 0.0) + ms
        order = sorted(names, key=names.get, reverse=True)
        for name in order[: top if index else len(order)]:
            cells = [statistics.median([split[index].get(name, 0.0) for split in got[kind]])
                     for kind in ("cpu cold", "cpu warm")]
            lines.append(f"| {name} | {cells[0]:.0f} | {cells[1]:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="also profile the main thread (V8's sampler)")
    parser.add_argument("--trace", action="store_true", help="also a Chromium trace: the main thread's native work")
    args = parser.parse_args(argv)
    got = profile(args.runs, args.cpu, args.trace)
    print(table(got))
    if args.cpu:
        print(cpu_table(got))
    if args.trace:
        print(trace_table(got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
