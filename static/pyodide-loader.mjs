// PyScript's "interpreter" (pyscript.toml): Pyodide from our own vendored copy, booted
// from a memory snapshot when one was built at set-up (scripts/make_snapshot.mjs).
//
// Restoring a snapshot skips CPython's start-up and the imports recorded in it (the
// stdlib the app uses and every pure app module, server/site/snapshot_plan.py), which is most
// of the boot. It always falls back to a normal boot: when the snapshot is missing, not
// of the current code, cannot be fetched, is not worth fetching on a slow network, or
// fails to load. Pyodide starts as soon as this module runs (index.html loads it early);
// PyScript's later loadPyodide({indexURL}) call gets that same instance.
//
// Trade-off (bench/RESULTS.md): the snapshot is ~6 MB gzipped on top of Pyodide's own
// ~6 MB. On a fast link that costs less than the CPU it saves; on a slow link it costs
// more. So a load on a slow link (as measured on this load) that has never fetched this
// snapshot boots normally and fetches it for next time while the page is idle; once
// fetched (remembered in localStorage) it comes from the HTTP cache and is always used.

import { DownloadTally, lengthOf, progressText } from "./boot-progress.mjs";

export const version = "314.0.7";

// Boot stages as performance marks ("boot:..."), read by bench/profile_boot.py.
const mark = (name) => globalThis.performance?.mark?.("boot:" + name);
mark("loader");

// static/boot-status.js: what the page shows of the boot (absent under Node).
const status = () => globalThis.coachlineBoot;

// Run right after a snapshot is restored: state that must differ per boot.
// (random was seeded when the snapshot was made; reseed it from the OS RNG.)
const AFTER_RESTORE = "import random as _r\n_r.seed()\ndel _r\n";

// The slowest link (Mb/s, measured on this load) on which we still fetch a snapshot we
// have never fetched before. Below it, the ~6 MB costs more time than it saves.
export const MIN_MBPS = 15;

const INDEX_URL = new URL(`../vendor/pyodide/${version}/`, import.meta.url).href;
const SNAPSHOT_DIR = new URL("../snapshot/", import.meta.url).href;
// Where the page's modules live in Pyodide's file system (PyScript's working directory,
// and where scripts/make_snapshot.mjs imported them from).
const FS_DIR = "/home/pyodide";

const inBrowser = typeof document !== "undefined";

// The manifest (written by serve.py or `serve.py export` from server/site/snapshot_plan.py):
// {"snapshot": file name or null, "modules": {url: path under the working directory},
// "files": {path: text} (the adapters, written on every boot)}. The snapshot's name
// carries a hash of the code it holds, and the manifest names one only when it matches
// the current py/, so a stale snapshot is never restored. The modules are the ones the
// snapshot holds already imported; without a snapshot this loader writes them itself
// (the adapters, `files`, are written on every boot; pyscript.toml has no `files`).
async function fetchManifest() {
  try {
    const response = await fetch(SNAPSHOT_DIR + "manifest.json", { cache: "no-cache" });
    const data = response.ok ? await response.json() : null;
    if (data && typeof data === "object" && data.modules && typeof data.modules === "object") return data;
  } catch { /* no manifest: nothing to write (the site is incomplete; main.py reports it) */ }
  return { snapshot: null, modules: {}, files: {} };
}

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
function remembered(name) {
  try { return localStorage.getItem(HAVE_KEY) === name; } catch { return false; }
}

// The snapshot's bytes (a promise), or null to boot without it. It ships gzipped and is
// decompressed here as it streams in, so every host sends the same ~6 MB. A host that
// adds its own Content-Encoding (or serves the .gz already decompressed) hands us plain
// bytes: the gzip magic number decides, not the headers.
async function fetchSnapshot(manifest, tally) {
  const name = typeof manifest.snapshot === "string" ? manifest.snapshot : null;
  const flag = new URLSearchParams(location.search).get("snapshot");
  if (flag === "off" || !name) return null;
  tally.expect(name); // in the total from the start; dropped below if not fetched
  const url = SNAPSHOT_DIR + encodeURIComponent(name);
  const saveData = Boolean(globalThis.navigator?.connection?.saveData);
  const known = flag === "force" || remembered(name);
  const mbps = known || saveData ? null : await measureLink();
  const slow = saveData || (mbps !== null && mbps < MIN_MBPS);
  if (slow && !known) {
    tally.drop(name);
    prefetchWhenIdle(url, name);
    return null;
  }
  try {
    const response = await fetch(url);
    if (response.ok) return { name, bytes: storedSnapshot(counted(response, name, tally)) };
    console.info(`[boot] no snapshot (HTTP ${response.status}), booting normally`);
  } catch (error) {
    console.info("[boot] no snapshot, booting normally:", String(error));
  }
  tally.drop(name);
  return null;
}

// The response with its body counted into `tally` as it streams: each chunk is passed on as
// it is (no copy, nothing held), so counting costs one call per network chunk.
function counted(response, name, tally) {
  if (!response.ok || !response.body) return response;
  tally.expect(name, lengthOf(response.headers));
  const counter = new TransformStream({
    transform(chunk, controller) {
      tally.add(name, chunk.byteLength);
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), { status: response.status, headers: response.headers });
}

// The same, for a response that must stay the browser's own (compileStreaming keeps V8's code
// cache only for a fetched response, not for one made in JavaScript): its copy (a tee made by
// the browser) is read and counted, the response itself goes on untouched.
function countedAlongside(response, name, tally) {
  if (!response.ok || !response.body) return response;
  tally.expect(name, lengthOf(response.headers));
  const reader = response.clone().body.getReader();
  const next = ({ done, value }) => {
    if (done) return undefined;
    tally.add(name, value.byteLength);
    return reader.read().then(next);
  };
  reader.read().then(next).catch(() => {}); // a cut download fails where the response is used
  return response;
}

// Files Pyodide fetches itself (its module, the standard library): seen once complete, through
// Resource Timing, and in the total from the start (their sizes from the manifest).
const SEEN_COMPLETE = ["pyodide.asm.mjs", "python_stdlib.zip"];

function watchComplete(tally) {
  for (const name of SEEN_COMPLETE) tally.expect(name);
  if (typeof PerformanceObserver === "undefined") return () => {};
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const name = entry.name.split("?")[0].slice(INDEX_URL.length);
      if (entry.name.startsWith(INDEX_URL) && SEEN_COMPLETE.includes(name) && entry.decodedBodySize > 0) {
        tally.finish(name, entry.decodedBodySize);
      }
    }
  });
  observer.observe({ type: "resource" });
  return () => observer.disconnect();
}

async function storedSnapshot(response) {
  return unpackSnapshot(new Uint8Array(await new Response(await plainStream(response)).arrayBuffer()));
}

// The snapshot is stored without its zero pages (scripts/snapshot_runs.mjs says how): here it
// is rebuilt to its full length. Bytes without the mark are returned as they are. Anything
// inconsistent throws, and the page boots without the snapshot.
export const RUNS_MAGIC = "SNAPRUNS";

export function unpackSnapshot(bytes) {
  const magic = [...RUNS_MAGIC].map((c) => c.charCodeAt(0));
  if (bytes.length < 16 || magic.some((code, i) => bytes[i] !== code)) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = view.getUint32(8, true);
  const count = view.getUint32(12, true);
  let pos = 16 + count * 8;
  if (pos > bytes.length) throw new Error("snapshot: its run table is cut short");
  const out = new Uint8Array(total);
  let end = 0;
  for (let i = 0; i < count; i++) {
    const offset = view.getUint32(16 + i * 8, true);
    const length = view.getUint32(20 + i * 8, true);
    if (offset < end || offset + length > total || pos + length > bytes.length) {
      throw new Error("snapshot: a run lies outside it");
    }
    out.set(bytes.subarray(pos, pos + length), offset);
    pos += length;
    end = offset + length;
  }
  if (pos !== bytes.length) throw new Error("snapshot: bytes after its last run");
  return out;
}

// The body as plain bytes, unpacked as it streams when it starts with the gzip magic number.
// The first bytes are read from a clone (a tee made by the browser), so the body itself
// flows from the network to its reader without passing through JavaScript chunk by chunk
// (for the 31 MB snapshot that JavaScript pump cost ~130 ms of main thread in a profile).
async function plainStream(response) {
  const peek = response.clone().body.getReader();
  const first = await peek.read();
  peek.cancel().catch(() => {});
  const head = first.done ? new Uint8Array(0) : first.value;
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  return gzip ? response.body.pipeThrough(new DecompressionStream("gzip")) : response.body;
}

// Pyodide's wasm is 9.6 MB raw, 3.5 MB gzipped. A host that compresses (serve.py, most CDNs)
// sends it compressed. A host that compresses nothing (e.g. `python -m http.server` on the
// export) would send it raw: there the page fetches the `pyodide.asm.wasm.gz` that every
// export has (server/site/precompress.py) and unpacks it as it streams (startWasm). Whether the
// host compresses: this very file (script, compressible, already here; a host that compresses
// only HTML compresses no wasm either) came with fewer bytes than it has, else the page's
// HTML did.
const WASM = "pyodide.asm.wasm";

function hostCompresses() {
  // Under the service worker (static/sw.js) every response reads as uncoded; it holds the
  // wasm itself, not the .gz, and answers it from its cache (issue 22 item 2).
  if (navigator.serviceWorker && navigator.serviceWorker.controller) return true;
  const seen = [...performance.getEntriesByName(import.meta.url, "resource"),
    ...performance.getEntriesByType("navigation")].find((entry) => entry.decodedBodySize > 0);
  if (!seen) return true; // not known: fetch the wasm itself
  return seen.encodedBodySize < seen.decodedBodySize;
}

// The wasm, fetched (as .gz where the host compresses nothing) and compiled here as soon as
// it arrives. Pyodide would compile it only once the snapshot's bytes are in (it prepares the
// snapshot, then instantiates), so on a cold load its compile followed the snapshot's download
// instead of overlapping it. compileStreaming also feeds V8's code cache for the next load.
function startWasm(tally) {
  const response = hostCompresses()
    ? fetch(INDEX_URL + WASM).then((r) => countedAlongside(r, WASM, tally))
    : fetch(INDEX_URL + WASM + ".gz").then((r) => unpackedWasm(counted(r, WASM + ".gz", tally)));
  const compiled = response.then(async (r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const type = (r.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
    // A host that does not say application/wasm: compileStreaming would refuse the bytes.
    return type === "application/wasm" ? WebAssembly.compileStreaming(r) : WebAssembly.compile(await r.arrayBuffer());
  });
  compiled.then(() => mark("wasm-compiled"), () => {});
  return compiled;
}

// load(config), with Pyodide's one wasm fetch answered empty and its instantiateStreaming
// answered from `compiled` (startWasm): no second download, no second compile. If that
// compile failed, Pyodide's wasm is fetched and compiled as Pyodide would have. Both
// wrappers are installed just around this call, each removed at its first use or when the
// call ends; every other fetch goes to the real fetch. A module can be instantiated again
// (the second boot attempt, without the snapshot).
async function withCompiledWasm(load, config, compiled) {
  const wasmUrl = INDEX_URL + WASM;
  const realFetch = globalThis.fetch;
  const realInstantiate = WebAssembly.instantiateStreaming;
  const isWasm = (input) => (typeof input === "string" || input instanceof URL)
    && new URL(String(input), location.href).href === wasmUrl;
  const fetchWrapper = function (input, init) {
    if (!isWasm(input)) return realFetch.call(this, input, init);
    if (globalThis.fetch === fetchWrapper) globalThis.fetch = realFetch;
    return Promise.resolve(new Response(null, { headers: { "Content-Type": "application/wasm" } }));
  };
  // Pyodide (Emscripten) logs a failed instantiation and then never settles its promise: the
  // failure is taken from here instead, so a wasm that cannot be had fails the boot (issue 20).
  let wasmFailed;
  const noWasm = new Promise((resolve, reject) => { wasmFailed = reject; });
  const instantiate = async (imports) => {
    let module;
    try {
      module = await compiled;
    } catch (error) {
      console.info("[boot] the wasm was not compiled ahead, loading it as Pyodide does:", String(error));
      return realInstantiate.call(WebAssembly, realFetch(wasmUrl), imports);
    }
    return { module, instance: await WebAssembly.instantiate(module, imports) };
  };
  const instantiateWrapper = function (source, imports) {
    if (WebAssembly.instantiateStreaming === instantiateWrapper) WebAssembly.instantiateStreaming = realInstantiate;
    const instantiated = instantiate(imports);
    instantiated.catch(wasmFailed);
    return instantiated;
  };
  globalThis.fetch = fetchWrapper;
  WebAssembly.instantiateStreaming = instantiateWrapper;
  try {
    return await Promise.race([load(config), noWasm]);
  } finally {
    if (globalThis.fetch === fetchWrapper) globalThis.fetch = realFetch;
    if (WebAssembly.instantiateStreaming === instantiateWrapper) WebAssembly.instantiateStreaming = realInstantiate;
  }
}

// The .gz wasm's response as a plain wasm response (application/wasm, for compileStreaming).
async function unpackedWasm(response) {
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  return new Response(await plainStream(response), { headers: { "Content-Type": "application/wasm" } });
}

function prefetchWhenIdle(url, name) {
  const later = globalThis.requestIdleCallback || ((fn) => setTimeout(fn, 10_000));
  const go = () => fetch(url, { priority: "low" })
    .then(async (r) => { if (r.ok) { await r.arrayBuffer(); remember(name); } })
    .catch(() => {});
  const start = () => later(go, { timeout: 30_000 });
  if (document.readyState === "complete") start();
  else addEventListener("load", start, { once: true });
}

// Without a snapshot, the modules it would have held: fetched (in parallel, and only
// when needed), to be written where the snapshot build imported them from.
function fetchFiles(files) {
  return Promise.all(Object.entries(files || {}).map(async ([url, name]) => {
    const response = await fetch(new URL(url, document.baseURI), { cache: "no-cache" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return [checked(name), new Uint8Array(await response.arrayBuffer())];
  }));
}

function checked(name) {
  const path = String(name);
  if (!/^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)*\.py$/.test(path)) throw new Error(`bad module path ${path}`);
  return path;
}

// The adapters, on every boot: their text comes inside the manifest (one request, made
// first anyway), rather than through PyScript's `files`, which PyScript fetches only once
// the interpreter is ready, one request each (issue 12).
function inlineFiles(manifest) {
  return Object.entries(manifest.files || {}).map(([name, text]) => {
    if (typeof text !== "string") throw new Error(`${name}: no text`);
    return [checked(name), text];
  });
}

function writeFiles(pyodide, files) {
  for (const [path, bytes] of files) {
    const target = `${FS_DIR}/${path}`;
    pyodide.FS.mkdirTree(target.slice(0, target.lastIndexOf("/")));
    pyodide.FS.writeFile(target, bytes);
  }
}

// PyScript calls this once it has read its config; Pyodide has been starting since this
// module ran (its module, the wasm and the snapshot downloading together), so that wait is
// not on the boot's path. (Pyodide awaits the snapshot's bytes before it compiles the wasm:
// the compile follows the download, it does not overlap it.) PyScript passes only {indexURL} (and `packages`, which this app has none of);
// the folder is ours anyway.
export async function loadPyodide(options = {}) {
  performance.mark("pyodide:requested");
  if (options.packages?.length) throw new Error("this loader boots Pyodide without packages");
  return booting;
}

class NoWebAssembly extends Error {}
let shown = null; // the tally of the attempt under way

// Issue 20 item 4: an attempt that fails (no WebAssembly, a download refused or cut, a wasm
// that will not compile, a snapshot and then the plain boot both failing) is shown at once by
// static/boot-status.js with a Retry button, and the next attempt starts its downloads afresh.
// PyScript is never told: its loadPyodide() call just waits for the attempt that works, so
// the page (and what was typed into the login form) is kept as it is.
async function bootUntilUp() {
  for (let attempt = 1; ; attempt++) {
    // A failed attempt's downloads may still be running: only this attempt's are shown.
    const tally = new DownloadTally((t) => {
      if (t === shown) status()?.progress(t.done, t.total, progressText(t.done, t.total));
    });
    shown = tally;
    const stopWatching = watchComplete(tally);
    try {
      if (typeof WebAssembly !== "object" || WebAssembly === null) throw new NoWebAssembly("no WebAssembly");
      const pyodide = await boot(startDownloads(attempt, tally));
      status()?.done();
      return pyodide;
    } catch (error) {
      mark("failed");
      console.error(`[boot] Pyodide could not start (attempt ${attempt}):`, String(error));
      if (!status()) throw error;
      await status().failed(error instanceof NoWebAssembly ? "no-webassembly" : "failed");
    } finally {
      stopWatching();
    }
  }
}

// `downloads`: what startDownloads started.
async function boot(downloads) {
  const { loadPyodide: load } = await downloads.module;
  mark("pyodide-module");
  const config = { indexURL: INDEX_URL };
  const snapshot = await downloads.snapshot.catch(() => null);
  let pyodide = null;
  if (snapshot) {
    try {
      snapshot.bytes.then(() => mark("snapshot-unpacked"), () => {});
      pyodide = await withCompiledWasm(load, { ...config, _loadSnapshot: snapshot.bytes }, downloads.wasm);
      pyodide.runPython(AFTER_RESTORE);
      remember(snapshot.name);
      document.documentElement.dataset.pyodideBoot = "snapshot";
    } catch (error) {
      pyodide = null;
      console.warn("[boot] snapshot failed to load, booting normally:", String(error));
    }
  }
  if (!pyodide) {
    const modules = downloads.manifest.then((manifest) => fetchFiles(manifest.modules));
    modules.catch(() => {}); // awaited below; no unhandled rejection while Pyodide loads
    pyodide = await withCompiledWasm(load, config, downloads.wasm);
    writeFiles(pyodide, await modules);
    document.documentElement.dataset.pyodideBoot = "plain";
  }
  writeFiles(pyodide, await downloads.adapters);
  return forBench(pyodide);
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

// The downloads Pyodide needs, started by this loader rather than by index.html's preloads,
// so that a visitor without a session gets the login form painted first (below). pyodide.mjs
// is imported (it fetches pyodide.asm.mjs); the standard library is preloaded, which is also
// the link-speed probe (measureLink).
function startDownloads(attempt, tally) {
  const link = Object.assign(document.createElement("link"),
    { rel: "preload", href: INDEX_URL + PROBE, as: "fetch", crossOrigin: "anonymous" });
  document.head.append(link);
  const manifest = fetchManifest();
  manifest.then((m) => tally.knowSizes(m.sizes));
  const downloads = {
    // A retry imports it under another URL: a failed import may be remembered for its URL.
    module: import(INDEX_URL + "pyodide.mjs" + (attempt > 1 ? `?attempt=${attempt}` : "")),
    wasm: startWasm(tally),
    manifest,
    snapshot: manifest.then((m) => fetchSnapshot(m, tally)),
    adapters: manifest.then(inlineFiles),
  };
  downloads.snapshot.catch(() => {}); // each is awaited in boot(); none is an unhandled rejection meanwhile
  downloads.adapters.catch(() => {});
  return downloads;
}

// A visitor without a session is shown the login form first (static/early.js, which runs
// before this module): every download and Pyodide's start (compiling its 1.2 MB module on
// the main thread, unpacking the snapshot) wait until that form has been painted. With a
// session, they start at once.
const loginFirst = inBrowser && document.body?.dataset.earlyLogin === "true";
const afterPaint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
const booting = inBrowser ? (loginFirst ? afterPaint() : Promise.resolve()).then(bootUntilUp) : null;
booting?.catch(() => {}); // PyScript gets the rejection from loadPyodide()
