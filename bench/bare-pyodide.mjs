// Baseline: the cheapest possible Pyodide boot from our own vendored copy (no PyScript,
// no snapshot): loadPyodide() and one line of Python.
import { loadPyodide } from "../vendor/pyodide/314.0.7/pyodide.mjs";

const pyodide = await loadPyodide({ indexURL: new URL("../vendor/pyodide/314.0.7/", import.meta.url).href });
const answer = pyodide.runPython("1 + 1");
document.body.dataset.readyMs = String(performance.now());
document.body.dataset.ready = answer === 2 ? "true" : "wrong";
