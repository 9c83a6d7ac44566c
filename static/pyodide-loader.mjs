// PyScript's "interpreter" (pyscript.json): Pyodide from our own vendored copy, booted
// from a memory snapshot when one was built at set-up (scripts/make_snapshot.mjs).
//
// Restoring a snapshot skips CPython's start-up and the imports recorded in it, which
// is most of Pyodide's boot. It always falls back to a normal boot: when the snapshot
// is missing, cannot be fetched, is not worth fetching on a slow network, or fails to
// load. PyScript calls loadPyodide({stdout, stderr, indexURL}) with indexURL = this
// file's folder; we point it at the real vendor folder instead.
//
// Trade-off (bench/RESULTS.md): the snapshot is ~6 MB gzipped on top of Pyodide's own
// ~6 MB. On a fast link that costs less than the CPU it saves; on a slow link it costs
// more. So a load on a slow link (as measured on this load) that has never fetched this
// snapshot boots normally and fetches it for next time while the page is idle; once
// fetched (remembered in localStorage) it comes from the HTTP cache and is always used.

export const version = "314.0.7";

// What the snapshot holds beyond a bare interpreter: stdlib modules the app imports.
// It must not import anything that keeps a JS object (the snapshot stores only JS
// objects reachable by a path from globalThis) nor start the event loop.
export const SNAPSHOT_RECIPE = {
  pyodide: version,
  imports: [
    "asyncio", "base64", "binascii", "bisect", "collections", "contextlib", "dataclasses",
    "datetime", "enum", "html", "inspect", "io", "json", "math", "re", "typing",
    "unicodedata", "urllib.parse", "uuid",
  ],
};

// Run right after a snapshot is restored: state that must differ per boot.
// (random was seeded when the snapshot was made; reseed it from the OS RNG.)
const AFTER_RESTORE = "import random as _r\n_r.seed()\ndel _r\n";

// The slowest link (Mb/s, measured on this load) on which we still fetch a snapshot we
// have never fetched before. Below it, the ~6 MB costs more time than it saves.
export const MIN_MBPS = 15;

const INDEX_URL = new URL(`../vendor/pyodide/${version}/`, import.meta.url).href;

// FNV-1a (32-bit) of a string, as 8 hex digits: names the snapshot by its recipe, so the
// same code computes the file name here and in scripts/make_snapshot.mjs (Node).
export function recipeHash(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

export function snapshotFileName(recipe = SNAPSHOT_RECIPE) {
  return `pyodide-${recipe.pyodide}-${recipeHash(JSON.stringify(recipe))}.data`;
}

const inBrowser = typeof document !== "undefined";
const SNAPSHOT_URL = new URL(`../snapshot/${snapshotFileName()}`, import.meta.url).href;


// The link speed (Mb/s) shown by the body transfer (first to last byte, so a busy
// server does not count as a slow link) of Pyodide's standard library, the 2.5 MB that
// index.html preloads: big enough to measure, and there early. null when it came from
// the cache (a repeat visit) or did not arrive within the timeout.
// (navigator.connection is no help: capped at 10 Mb/s and a guess when idle.)
const PROBE = "python_stdlib.zip";

function speedOf(entry) {
  if (entry.transferSize < entry.encodedBodySize) return null; // from the cache
  const seconds = Math.max(entry.responseEnd - entry.responseStart, 1) / 1000;
  return (entry.transferSize * 8) / seconds / 1e6;
}

function measureLink(timeoutMs = 5000) {
  return new Promise((resolve) => {
    const find = () => performance.getEntriesByType("resource").find((e) => e.name.endsWith("/" + PROBE));
    const found = find();
    if (found) return resolve(speedOf(found));
    const observer = new PerformanceObserver(() => {
      const entry = find();
      if (entry) { observer.disconnect(); resolve(speedOf(entry)); }
    });
    observer.observe({ type: "resource" });
    setTimeout(() => { observer.disconnect(); resolve(null); }, timeoutMs);
  });
}

const HAVE_KEY = "pyodide-snapshot";
function remember(name) {
  try { localStorage.setItem(HAVE_KEY, name); } catch { /* storage off: we just refetch */ }
}
function remembered() {
  try { return localStorage.getItem(HAVE_KEY) === snapshotFileName(); } catch { return false; }
}

// The snapshot's Response (headers in, body still streaming), or null to boot without
// it. Deciding on the status alone lets the body download while Pyodide's wasm does.
async function fetchSnapshot() {
  const flag = new URLSearchParams(location.search).get("snapshot");
  if (flag === "off") return null;
  const saveData = Boolean(globalThis.navigator?.connection?.saveData);
  const known = flag === "force" || remembered();
  const mbps = known || saveData ? null : await measureLink();
  const slow = saveData || (mbps !== null && mbps < MIN_MBPS);
  if (slow && !known) {
    prefetchWhenIdle();
    return null;
  }
  try {
    const response = await fetch(SNAPSHOT_URL);
    if (response.ok) return response;
    console.info(`[boot] no snapshot (HTTP ${response.status}), booting normally`);
  } catch (error) {
    console.info("[boot] no snapshot, booting normally:", String(error));
  }
  return null;
}

function prefetchWhenIdle() {
  const later = globalThis.requestIdleCallback || ((fn) => setTimeout(fn, 10_000));
  const go = () => fetch(SNAPSHOT_URL, { priority: "low" })
    .then(async (r) => { if (r.ok) { await r.arrayBuffer(); remember(snapshotFileName()); } })
    .catch(() => {});
  const start = () => later(go, { timeout: 30_000 });
  if (document.readyState === "complete") start();
  else addEventListener("load", start, { once: true });
}

export async function loadPyodide(options = {}) {
  performance.mark("pyodide:requested");
  const { loadPyodide: load } = await pyodideModule;
  const config = { ...options, indexURL: INDEX_URL };
  const response = await snapshotResponse.catch(() => null);
  if (response) {
    try {
      const pyodide = await load({ ...config, _loadSnapshot: response.arrayBuffer() });
      pyodide.runPython(AFTER_RESTORE);
      remember(snapshotFileName());
      document.documentElement.dataset.pyodideBoot = "snapshot";
      return forBench(pyodide);
    } catch (error) {
      console.warn("[boot] snapshot failed to load, booting normally:", String(error));
    }
  }
  document.documentElement.dataset.pyodideBoot = "plain";
  return forBench(await load(config));
}

// bench/run.py loads the page with ?bench=trace to count live PyProxies (Pyodide's
// allocation tracing) after many conversation switches; normal loads skip this.
function forBench(pyodide) {
  performance.mark("pyodide:ready");
  if (new URLSearchParams(location.search).get("bench") === "trace") {
    pyodide._module.enable_pyproxy_allocation_tracing();
    globalThis.__benchPyodide = pyodide;
  }
  return pyodide;
}

// Start fetching as soon as this module runs (index.html loads it early), alongside
// Pyodide itself. Last in the file: everything above is initialised by then.
const pyodideModule = inBrowser ? import(INDEX_URL + "pyodide.mjs") : null;
const snapshotResponse = inBrowser ? fetchSnapshot() : null;
