// Build the Pyodide memory snapshot that static/pyodide-loader.mjs restores at boot.
//
//   node scripts/make_snapshot.mjs [--force]   (run by scripts/setup.sh and `serve.py export`)
//
// The plan comes from server/site/snapshot_plan.py (run with python3): the stdlib recipe, every
// module under py/ that reaches no browser module (a rule, not a list), and the file name,
// which carries a hash of all of it. Boots the vendored Pyodide under Node with
// _makeSnapshot, writes those modules into its file system, imports them, and writes
// build/snapshot/<name> without its zero pages (scripts/snapshot_runs.mjs) and gzipped (the page decompresses it with DecompressionStream, so
// a host that compresses nothing still sends ~6 MB, not ~30). Idempotent; older
// snapshots in the folder are removed. A snapshot restores only into the same Pyodide
// build (its BUILD_ID is checked), and the state it holds is plain CPython memory, so
// making it under Node and restoring it in a browser works (bench/RESULTS.md).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";

import { version } from "../static/pyodide-loader.mjs";
import { packSnapshot } from "./snapshot_runs.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pyodideDir = join(root, "node_modules", "pyodide");
const outDir = join(root, "build", "snapshot");

const python = existsSync(join(root, ".venv", "bin", "python")) ? join(root, ".venv", "bin", "python") : "python3";
const plan = JSON.parse(execFileSync(python, [join(root, "server", "site", "snapshot_plan.py"), root], { encoding: "utf8" }));
const target = join(outDir, plan.file);

if (plan.pyodide !== version) {
  console.error(`make_snapshot: node_modules has Pyodide ${plan.pyodide} but the loader expects ${version}`);
  process.exit(1);
}
if (existsSync(target) && !process.argv.includes("--force")) {
  if (!existsSync(join(outDir, zstdName(plan.file)))) writeZstd(gunzipSync(readFileSync(target)), zstdName(plan.file));
  console.log(`make_snapshot: ${plan.file} is up to date`);
  process.exit(0);
}

const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const started = performance.now();
// The trimmed stdlib zip (server/site/stdlib_trim.py, built by the plan above): the page loads
// the same one, and a snapshot must be restored with the zip it was made with.
const pyodide = await loadPyodide({ _makeSnapshot: true, stdLibURL: join(root, plan.stdlib_zip), stdout: () => {}, stderr: (line) => console.error(line) });
for (const module of plan.modules) {
  const path = `${plan.fs_dir}/${module.target}`;
  pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
  pyodide.FS.writeFile(path, readFileSync(join(root, module.source)));
}
pyodide.runPython([
  "import sys",
  `if ${JSON.stringify(plan.fs_dir)} not in sys.path: sys.path.insert(0, ${JSON.stringify(plan.fs_dir)})`,
  ...plan.stdlib.map((name) => `import ${name}`),
  ...plan.modules.map((module) => `import ${module.name}`),
  "import gc",
  "gc.collect()",
].join("\n"));
const full = pyodide.makeMemorySnapshot();
const bytes = packSnapshot(full); // without its zero pages (scripts/snapshot_runs.mjs)
const packed = gzipSync(bytes, { level: 9 });

mkdirSync(outDir, { recursive: true });
writeFileSync(target + ".tmp", packed);
renameSync(target + ".tmp", target); // never leave a half-written snapshot at the served name
const zstdBytes = writeZstd(bytes, zstdName(plan.file));
for (const old of readdirSync(outDir)) {
  if (old !== plan.file && old !== zstdName(plan.file)) rmSync(join(outDir, old), { force: true });
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const mb = (n) => (n / 1e6).toFixed(1);
console.log(`make_snapshot: wrote build/snapshot/${plan.file} (${mb(full.length)} MB, ${mb(bytes.length)} MB without zero pages, ${mb(packed.length)} MB gzipped, ` +
  `${zstdBytes ? mb(zstdBytes) + " MB zstd, " : ""}${plan.modules.length} app modules) in ${seconds} s`);

// Beside the .gz, the same stored bytes zstd-compressed (server/site/static_site.py sends it with
// `Content-Encoding: zstd` to a browser that accepts it: 4.7 MB instead of 6.5, and the
// browser decompresses it natively). Level 19 keeps the window at 8 MiB, the most
// Chromium's decoder accepts (never --long). Optional: without the zstd tool, the .gz only.
function zstdName(file) {
  return file.replace(/\.gz$/, ".zst");
}

function writeZstd(raw, name) {
  const path = join(outDir, name);
  try {
    execFileSync("zstd", ["-19", "-q", "-f", "-o", path + ".tmp"], { input: raw, maxBuffer: 1 << 30 });
    renameSync(path + ".tmp", path);
    return readFileSync(path).length;
  } catch (error) {
    console.warn(`make_snapshot: no zstd copy (${String(error.message || error).split("\n")[0]})`);
    rmSync(path + ".tmp", { force: true });
    return 0;
  }
}
