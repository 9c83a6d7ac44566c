"""Issue 20 item 4: what the boot's progress bar says (static/boot-progress.mjs, run under Node,
the same module the page runs). Bytes are counted after the HTTP coding is undone, so the total
is an identity response's Content-Length, or for a gzip/zstd response (whose Content-Length is
the coded size) the decoded size the manifest gives; unknown stays unknown, never a guess.
And the manifest's sizes (server/site/runtime_sizes.py) are those decoded sizes."""

import gzip
import json
import subprocess
from pathlib import Path

from server.site import runtime_sizes, snapshot_plan

ROOT = Path(__file__).resolve().parents[1]

# Runs a list of steps on one tally; answers [done, total, text] after each.
DRIVER = """
import { DownloadTally, lengthOf, progressText } from "./static/boot-progress.mjs";
let text = "";
for await (const chunk of process.stdin) text += chunk;
const changes = [];
const tally = new DownloadTally((t) => changes.push(t));
const out = [];
for (const [op, ...args] of JSON.parse(text)) {
  if (op === "response") tally.expect(args[0], lengthOf(new Headers(args[1])));
  else tally[op](...args);
  out.push([tally.done, tally.total, progressText(tally.done, tally.total)]);
}
process.stdout.write(JSON.stringify({ out, changes: changes.length }));
"""


def run(steps):
    done = subprocess.run(["node", "--input-type=module", "-e", DRIVER], cwd=ROOT, check=True, timeout=60,
                          input=json.dumps(steps), capture_output=True, text=True)
    return json.loads(done.stdout)


def last(steps):
    return run(steps)["out"][-1]


def test_an_identity_response_counts_towards_its_content_length():
    assert last([["response", "wasm.gz", {"Content-Length": "3500000"}], ["add", "wasm.gz", 1_200_000]]) == [
        1_200_000, 3_500_000, "1.2 of 3.5 MB"]


def test_a_gzip_or_zstd_response_counts_towards_the_decoded_size_from_the_manifest():
    for coding in ("gzip", "zstd", "br"):
        steps = [["knowSizes", {"pyodide.asm.wasm": 9_600_000}],
                 ["response", "pyodide.asm.wasm", {"Content-Encoding": coding, "Content-Length": "2900000"}],
                 ["add", "pyodide.asm.wasm", 4_800_000]]
        assert last(steps) == [4_800_000, 9_600_000, "4.8 of 9.6 MB"], coding


def test_a_coded_response_without_a_known_size_shows_bytes_only():
    steps = [["response", "pyodide.asm.wasm", {"Content-Encoding": "zstd", "Content-Length": "2900000"}],
             ["add", "pyodide.asm.wasm", 3_200_000]]
    assert last(steps) == [3_200_000, None, "3.2 MB"]


def test_an_identity_response_without_content_length_makes_the_total_unknown():
    steps = [["knowSizes", {"snap.gz": 16_000_000}], ["response", "snap.gz", {}], ["add", "snap.gz", 10]]
    assert last(steps)[1] is None


def test_the_sizes_may_arrive_after_the_bytes_started():
    steps = [["response", "pyodide.asm.wasm", {"Content-Encoding": "zstd"}], ["add", "pyodide.asm.wasm", 1_000_000],
             ["knowSizes", {"pyodide.asm.wasm": 9_600_000}]]
    assert [row[1] for row in run(steps)["out"]] == [None, None, 9_600_000]


def test_files_add_up_and_one_seen_only_complete_counts_once():
    steps = [["knowSizes", {"a": 1_000_000, "b": 500_000}], ["expect", "a"], ["expect", "b"],
             ["add", "a", 400_000], ["finish", "b", 500_000], ["finish", "b", 500_000]]
    assert last(steps) == [900_000, 1_500_000, "0.9 of 1.5 MB"]


def test_a_file_not_fetched_after_all_leaves_the_total():
    steps = [["knowSizes", {"wasm": 9_600_000, "snap": 16_000_000}], ["expect", "wasm"], ["expect", "snap"],
             ["drop", "snap"]]
    assert [row[1] for row in run(steps)["out"]] == [0, 9_600_000, 25_600_000, 9_600_000]


def test_more_bytes_than_announced_make_the_total_unknown_rather_than_over_full():
    steps = [["response", "x", {"Content-Length": "100"}], ["add", "x", 150]]
    assert last(steps)[1] is None


def test_bad_sizes_are_ignored():
    steps = [["knowSizes", {"a": -1, "b": "12", "c": 1.5}], ["expect", "a"]]
    assert last(steps)[1] is None
    assert last([["knowSizes", None], ["expect", "a"]])[1] is None


def test_every_step_notifies():
    assert run([["expect", "a"], ["add", "a", 1], ["drop", "a"], ["drop", "a"]])["changes"] == 3


def test_the_manifest_gives_the_decoded_sizes_of_what_is_served(tmp_path):
    pyodide = tmp_path / runtime_sizes.PYODIDE_DIR
    pyodide.mkdir(parents=True)
    (pyodide / "pyodide.asm.wasm").write_bytes(b"w" * 1000)
    (pyodide / "pyodide.asm.mjs").write_bytes(b"m" * 200)
    (pyodide / "python_stdlib.zip").write_bytes(b"z" * 300)
    snapshot = tmp_path / "snap.gz"
    snapshot.write_bytes(gzip.compress(b"\0" * 123_456))
    assert runtime_sizes.runtime_sizes(tmp_path, snapshot) == {
        "pyodide.asm.wasm": 1000, "pyodide.asm.mjs": 200, "python_stdlib.zip": 300, "snap.gz": 123_456}
    (snapshot).write_bytes(b"short")
    assert "snap.gz" not in runtime_sizes.runtime_sizes(tmp_path, snapshot)


def test_the_site_manifest_names_the_snapshot_with_its_raw_size():
    manifest = json.loads(snapshot_plan.manifest(ROOT))
    sizes = manifest["sizes"]
    assert sizes["pyodide.asm.wasm"] == (ROOT / "node_modules/pyodide/pyodide.asm.wasm").stat().st_size
    if manifest["snapshot"]:
        packed = ROOT / snapshot_plan.SNAPSHOT_DIR / manifest["snapshot"]
        assert sizes[manifest["snapshot"]] == len(gzip.decompress(packed.read_bytes()))
