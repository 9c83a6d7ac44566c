"""bench/profile_boot.py's splits of a V8 CPU profile and of a Chromium trace (also used by
bench/profile_burst.py): what bench/RESULTS.md's stage and burst maps are read from."""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1] / "bench"))
import profile_boot  # noqa: E402


def frame(fn, url=""):
    return {"functionName": fn, "url": url, "lineNumber": 0, "columnNumber": 0, "scriptId": "0"}


def test_cpu_split_sums_each_samples_time_into_its_group_and_function():
    profile = {
        "nodes": [
            {"id": 1, "callFrame": frame("(root)")},
            {"id": 2, "callFrame": frame("(idle)")},
            {"id": 3, "callFrame": frame("wasm-function[12]", "http://h/vendor/pyodide/314/pyodide.asm.wasm")},
            {"id": 4, "callFrame": frame("restoreSnapshot", "http://h/vendor/pyodide/314/pyodide.asm.mjs")},
            {"id": 5, "callFrame": frame("", "http://h/vendor/pyscript/0.7.31/core-X.js")},
            {"id": 6, "callFrame": frame("unpackSnapshot", "http://h/static/pyodide-loader.mjs?v=1")},
            {"id": 7, "callFrame": frame("(garbage collector)")},
        ],
        "samples": [2, 3, 3, 4, 5, 6, 7, 1],
        "timeDeltas": [1000, 2000, 3000, 500, 250, 125, 100, 50],  # microseconds
    }
    groups, functions = profile_boot.cpu_split(profile)
    assert groups == {
        "idle (waiting: network, other threads, timers)": 1.0,
        "Python and the C runtime (wasm)": 5.0,
        "Pyodide's JavaScript (pyodide.mjs, pyodide.asm.mjs)": 0.5,
        "PyScript's JavaScript": 0.25,
        "the app's loader and early scripts (static/)": 0.125,
        "garbage collector": 0.1,
        "browser: parse, style, layout, paint, native calls": 0.05,
    }
    assert functions["wasm-function[12] (pyodide.asm.wasm)"] == 5.0
    assert functions["unpackSnapshot (pyodide-loader.mjs)"] == 0.125  # the query string is not part of the name
    assert functions["(anonymous) (core-X.js)"] == 0.25
    assert sum(functions.values()) == sum(groups.values())


def event(name, ts, dur, tid=1, pid=10):
    return {"ph": "X", "name": name, "ts": ts, "dur": dur, "pid": pid, "tid": tid}


def test_trace_split_gives_each_event_its_time_less_its_childrens_on_the_busiest_main_thread():
    trace = {"traceEvents": [
        {"ph": "M", "name": "thread_name", "pid": 10, "tid": 1, "args": {"name": "CrRendererMain"}},
        {"ph": "M", "name": "thread_name", "pid": 11, "tid": 1, "args": {"name": "CrRendererMain"}},
        {"ph": "M", "name": "thread_name", "pid": 10, "tid": 2, "args": {"name": "ThreadPoolForegroundWorker"}},
        event("RunTask", 0, 10_000),
        event("v8.callFunction", 1_000, 6_000),
        event("wasm.CompileLazy", 2_000, 1_000),
        event("Layout", 8_000, 1_000),
        event("RunTask", 20_000, 2_000),
        event("wasm.Compile", 0, 50_000, tid=2),  # another thread: not the main one
        event("RunTask", 0, 90_000, pid=11),  # a renderer with fewer events (another page)
    ]}
    assert profile_boot.trace_split(trace) == {
        "RunTask": 10.0 - 6.0 - 1.0 + 2.0,
        "v8.callFunction": 6.0 - 1.0,
        "wasm.CompileLazy": 1.0,
        "Layout": 1.0,
    }


def test_trace_split_of_a_trace_without_a_main_thread_is_empty():
    assert profile_boot.trace_split({"traceEvents": [event("RunTask", 0, 5)]}) == {}
