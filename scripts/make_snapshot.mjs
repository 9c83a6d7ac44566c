// Build the Pyodide memory snapshot that static/pyodide-loader.mjs restores at boot.
//
//   node scripts/make_snapshot.mjs        (run by scripts/setup.sh; idempotent)
//
// Boots the vendored Pyodide under Node with _makeSnapshot, imports the recipe's
// stdlib modules, and writes build/snapshot/<name>.data, where <name> carries the
// Pyodide version and a hash of the recipe (the loader computes the same name).
// A snapshot only restores into the same Pyodide build (its BUILD_ID is checked), and
// the state it holds is plain CPython memory, so making it under Node and restoring it
// in a browser works (bench/RESULTS.md). Older snapshots in the folder are removed.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { SNAPSHOT_RECIPE, snapshotFileName, version } from "../static/pyodide-loader.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pyodideDir = join(root, "node_modules", "pyodide");
const outDir = join(root, "build", "snapshot");
const name = snapshotFileName();
const target = join(outDir, name);

const installed = JSON.parse(readFileSync(join(pyodideDir, "package.json"), "utf8")).version;
if (installed !== version) {
  console.error(`make_snapshot: node_modules has Pyodide ${installed} but the loader expects ${version}`);
  process.exit(1);
}
if (existsSync(target) && !process.argv.includes("--force")) {
  console.log(`make_snapshot: ${name} is up to date`);
  process.exit(0);
}

const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const started = performance.now();
const pyodide = await loadPyodide({ _makeSnapshot: true, stdout: () => {}, stderr: (line) => console.error(line) });
pyodide.runPython(
  SNAPSHOT_RECIPE.imports.map((module) => `import ${module}`).join("\n") + "\nimport gc\ngc.collect()\n",
);
const bytes = pyodide.makeMemorySnapshot();

mkdirSync(outDir, { recursive: true });
writeFileSync(target + ".tmp", bytes);
renameSync(target + ".tmp", target); // never leave a half-written snapshot at the served name
for (const old of readdirSync(outDir)) {
  if (old !== name) rmSync(join(outDir, old), { force: true });
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`make_snapshot: wrote build/snapshot/${name} (${(bytes.length / 1e6).toFixed(1)} MB) in ${seconds} s`);
