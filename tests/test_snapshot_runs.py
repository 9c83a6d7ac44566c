"""The snapshot as stored without its zero pages: scripts/snapshot_runs.mjs packs it (set-up),
static/pyodide-loader.mjs `unpackSnapshot` rebuilds it in the page. Both run here under Node,
the same code the build and the browser run; malformed files must throw (the loader then
boots without the snapshot), never give Pyodide wrong memory."""

import base64
import gzip
import json
import random
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Reads {"op": ..., "data": base64} on stdin, answers {"ok": base64} or {"error": message}.
DRIVER = """
import { packSnapshot } from "./scripts/snapshot_runs.mjs";
import { unpackSnapshot } from "./static/pyodide-loader.mjs";
let text = "";
for await (const chunk of process.stdin) text += chunk;
const { op, data } = JSON.parse(text);
const bytes = new Uint8Array(Buffer.from(data, "base64"));
try {
  const out = op === "pack" ? packSnapshot(bytes) : unpackSnapshot(bytes);
  process.stdout.write(JSON.stringify({ ok: Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString("base64") }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error.message || error) }));
}
"""
PAGE = 4096
HEAD = 16


def run(op: str, data: bytes) -> bytes:
    done = subprocess.run(["node", "--input-type=module", "-e", DRIVER], cwd=ROOT, check=True, timeout=60,
                          input=json.dumps({"op": op, "data": base64.b64encode(data).decode()}),
                          capture_output=True, text=True)
    answer = json.loads(done.stdout)
    if "error" in answer:
        raise ValueError(answer["error"])
    return base64.b64decode(answer["ok"])


def memory(pages: str, tail: int = 0) -> bytes:
    """One 4 KiB page per letter: '0' all zeros, 'x' random bytes with a zero or two inside;
    then `tail` random bytes (a last partial page)."""
    rng = random.Random(pages + str(tail))
    out = bytearray()
    for kind in pages:
        page = bytearray(PAGE) if kind == "0" else bytearray(rng.randbytes(PAGE))
        if kind == "x":
            page[rng.randrange(PAGE)] = 0
        out += page
    return bytes(out + rng.randbytes(tail))


@pytest.mark.parametrize("pages,tail", [
    ("x0x00xxx0", 0), ("0000", 0), ("xxxx", 0), ("", 0), ("0x0", 1000), ("00", 7), ("x", 4095),
])
def test_packing_then_unpacking_gives_back_every_byte(pages, tail):
    full = memory(pages, tail)
    packed = run("pack", full)
    assert run("unpack", packed) == full


def test_zero_pages_are_not_stored_and_neighbouring_pages_make_one_run():
    full = memory("xx000x0xxx", 10)
    packed = run("pack", full)
    assert packed[:8] == b"SNAPRUNS"
    assert int.from_bytes(packed[8:12], "little") == len(full)
    runs = int.from_bytes(packed[12:16], "little")
    assert runs == 3  # pages 0-1, page 5, pages 7-9 plus the 10-byte tail
    assert len(packed) == HEAD + 8 * runs + 6 * PAGE + 10


def test_bytes_without_the_mark_pass_through_unchanged():
    plain = memory("x0x")
    assert run("unpack", plain) == plain


@pytest.mark.parametrize("damage", ["cut_table", "cut_data", "extra", "past_end", "overlap"])
def test_a_damaged_file_throws_instead_of_giving_wrong_memory(damage):
    packed = bytearray(run("pack", memory("x0x0x")))
    if damage == "cut_table":
        packed = packed[:HEAD + 4]
    elif damage == "cut_data":
        packed = packed[:-1]
    elif damage == "extra":
        packed += b"\x01"
    elif damage == "past_end":  # the last run's offset moved beyond the snapshot's length
        packed[HEAD + 16:HEAD + 20] = (5 * PAGE).to_bytes(4, "little")
    elif damage == "overlap":  # the second run starts inside the first
        packed[HEAD + 8:HEAD + 12] = (PAGE // 2).to_bytes(4, "little")
    with pytest.raises(ValueError, match="snapshot"):
        run("unpack", bytes(packed))


def test_the_built_snapshot_is_stored_as_runs():
    built = sorted((ROOT / "build" / "snapshot").glob("pyodide-*.gz"))
    assert built, "no snapshot built (scripts/setup.sh builds one)"
    stored = gzip.decompress(built[-1].read_bytes())
    assert stored[:8] == b"SNAPRUNS"
    assert len(stored) < int.from_bytes(stored[8:12], "little")
