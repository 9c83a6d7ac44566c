// The snapshot as stored: only its non-zero 4 KiB pages. Pyodide's memory snapshot is ~31 MB
// and about half of its pages are zeros; compressed, zeros cost almost nothing, but the page
// still had to receive all 31 MB from the network stack, which took longer than the restore.
// Stored as runs, it receives ~16 MB and the loader (static/pyodide-loader.mjs,
// unpackSnapshot) rebuilds the rest as zeros.
//
// Format (little-endian): the 8 ASCII bytes of RUNS_MAGIC, the snapshot's length (u32), the
// number of runs (u32), then per run its offset and length (u32 each, in increasing order,
// never overlapping), then the runs' bytes one after the other.
import { RUNS_MAGIC } from "../static/pyodide-loader.mjs";

const PAGE = 4096;

export function packSnapshot(bytes) {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const zero = Buffer.alloc(PAGE);
  const runs = [];
  for (let start = 0; start < data.length; start += PAGE) {
    const end = Math.min(start + PAGE, data.length);
    if (data.subarray(start, end).equals(zero.subarray(0, end - start))) continue;
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === start) last[1] = end - last[0];
    else runs.push([start, end - start]);
  }
  const head = Buffer.alloc(16 + runs.length * 8);
  head.write(RUNS_MAGIC, 0, "latin1");
  head.writeUInt32LE(data.length, 8);
  head.writeUInt32LE(runs.length, 12);
  runs.forEach(([offset, length], i) => {
    head.writeUInt32LE(offset, 16 + i * 8);
    head.writeUInt32LE(length, 20 + i * 8);
  });
  return Buffer.concat([head, ...runs.map(([offset, length]) => data.subarray(offset, offset + length))]);
}
