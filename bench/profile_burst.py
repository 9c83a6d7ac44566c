#!/usr/bin/env python3
"""Where a burst's main-thread time goes: V8's sampling profiler (and, with --trace, a
Chromium trace) over a burst of new messages into the open chat, the app beside the plain-JS
client, each in a new context, medians of N bursts. Same server and Chromium set-up as
bench/run.py's burst section. Not a target: a map for issue 21 item 1.

    .venv/bin/python bench/profile_burst.py                  # 3 bursts of 2,000 each
    .venv/bin/python bench/profile_burst.py --runs 5 --count 1000 --trace
    .venv/bin/python bench/profile_burst.py --floor     # and the server's delivery floor

--floor also times the same bursts into a WebSocket client in Python (no browser): the span
over which the server delivers the frames, which no page's span can be below.

The groups are profile_boot.CPU_GROUPS (Python's wasm, Pyodide's and PyScript's JavaScript,
the browser's own work, the garbage collector, ...). PyScript's MutationObserver, which looks
at every element the chat adds, is in "PyScript's JavaScript".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import statistics
import sys
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
import profile_boot  # noqa: E402  (its CPU and trace splits)
import run as bench_run  # noqa: E402  (the server, the browser, the burst)


def one_burst(bench, page, cid, email, count, trace):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 100})
    cdp.send("Profiler.start")
    if trace:
        bench.browser.start_tracing(page=page, categories=profile_boot.TRACE_CATEGORIES)
    span = bench.burst_once(page, cid, email, count)
    traced = profile_boot.trace_split(json.loads(bench.browser.stop_tracing())) if trace else {}
    groups, functions = profile_boot.cpu_split(cdp.send("Profiler.stop")["profile"])
    return {"span": span, "groups": groups, "functions": functions, "trace": traced}


def delivery_span(server, count: int) -> float:
    """Milliseconds from the first to the last burst frame as a Python client receives them."""
    cid, email = server.fresh_conversation()
    url = server.origin.replace("http", "ws", 1) + f"/ws/messaging/{cid}/?token={server.tokens['access']}"
    connected = threading.Event()
    times: list[float] = []

    async def receive():
        async with websockets.connect(url, max_queue=None) as socket:
            connected.set()
            while len(times) < count:
                if "bench " in await socket.recv():
                    times.append(time.perf_counter())

    thread = threading.Thread(target=lambda: asyncio.run(receive()), daemon=True)
    thread.start()
    if not connected.wait(30):
        raise RuntimeError("the floor's client did not connect")
    server.fault("burst", email=email, conversation_id=cid, count=count)
    thread.join(120)
    if len(times) < count:
        raise RuntimeError(f"the floor's client got {len(times)} of {count} frames")
    return (times[-1] - times[0]) * 1000


def profile(runs: int, count: int, trace: bool, floor: bool = False) -> dict[str, list[dict]]:
    got: dict[str, list[dict]] = {"app": [], "plain JS": [], "floor": []}
    with bench_run.bench_session(bench_run.Report(), False, runs) as bench:
        server = bench.server
        for _ in range(runs):
            ctx = bench.context()
            cid, email = server.fresh_conversation()
            page = bench.open_app(ctx, [cid])
            bench.open_conversation(page, cid)
            got["app"].append(one_burst(bench, page, cid, email, count, trace))
            ctx.close()
            ctx = bench.context()
            cid, email = server.fresh_conversation()
            page = ctx.new_page()
            page.goto(f"{server.origin}/bench/plain-js.html?conversation={cid}")
            page.wait_for_selector("body[data-ws-state=connected]", state="attached",
                                   timeout=bench_run.TIMEOUT_MS)
            got["plain JS"].append(one_burst(bench, page, cid, email, count, trace))
            ctx.close()
            if floor:
                got["floor"].append(delivery_span(server, count))
    return got


def median_of(runs: list[dict], part: str, name: str) -> float:
    return statistics.median([run[part].get(name, 0.0) for run in runs])


def tables(got: dict[str, list[dict]], top: int = 15) -> str:
    kinds = ["app", "plain JS"]
    spans = [statistics.median([r["span"] for r in got[k] if r["span"] is not None] or [0.0]) for k in kinds]
    lines = [f"| burst, first to last message node, ms (median) | {' | '.join(kinds)} |", "|---|---:|---:|",
             "| span | " + " | ".join(f"{s:.0f}" for s in spans) + " |"]
    if got["floor"]:
        lines.append(f"| the server's delivery to a Python client (floor) | {statistics.median(got['floor']):.0f} | |")
    for part, title, limit in (("groups", "main-thread work by kind", None),
                               ("functions", "functions (self time)", top), ("trace", "trace events (self time)", top)):
        names: dict[str, float] = {}
        for run in got["app"]:
            for name, ms in run[part].items():
                names[name] = names.get(name, 0.0) + ms
        if not names:
            continue
        lines += ["", f"| {title}, ms (median) | {' | '.join(kinds)} |", "|---|---:|---:|"]
        for name in sorted(names, key=names.get, reverse=True)[:limit]:
            lines.append(f"| {name} | " + " | ".join(f"{median_of(got[k], part, name):.0f}" for k in kinds) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--trace", action="store_true", help="also a Chromium trace of each burst")
    parser.add_argument("--floor", action="store_true", help="also the server's delivery span to a Python client")
    args = parser.parse_args(argv)
    print(tables(profile(args.runs, args.count, args.trace, args.floor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
