// How much of Pyodide's runtime a boot has downloaded, out of how much (issue 20 item 4).
//
// Pure: the loader (static/pyodide-loader.mjs) reports what it sees, static/boot-status.js
// shows `done` and `total`. Bytes are counted as the page receives them, after the HTTP
// content coding is undone (that is all a fetch body shows), so every total is in those
// units too: an identity response's Content-Length, or for a coded one (gzip, zstd: its
// Content-Length is the coded size) the decoded size the snapshot manifest gives ("sizes",
// server/site/runtime_sizes.py). A total that is not known makes the whole total unknown: the
// page then shows bytes fetched only, never a guess.
//
//   const tally = new DownloadTally((t) => show(t.done, t.total));
//   tally.expect("pyodide.asm.wasm", lengthOf(response.headers));
//   tally.add("pyodide.asm.wasm", chunk.byteLength);   // as it streams
//   tally.knowSizes(manifest.sizes);                    // whenever the manifest arrives

// An identity response's Content-Length; undefined for a coded one (its decoded size is
// looked up in the sizes); null when an identity response does not say.
export function lengthOf(headers) {
  const coding = (headers.get("Content-Encoding") || "identity").trim().toLowerCase();
  if (coding !== "identity") return undefined;
  const length = Number.parseInt(headers.get("Content-Length") || "", 10);
  return Number.isSafeInteger(length) && length >= 0 ? length : null;
}

export class DownloadTally {
  #files = new Map(); // name -> {done, length}: length as lengthOf says
  #sizes = {};

  constructor(onChange = () => {}) {
    this.onChange = onChange;
  }

  // The decoded sizes by file name (the manifest's "sizes"); anything else is ignored.
  knowSizes(sizes) {
    const known = {};
    for (const [name, size] of Object.entries(sizes && typeof sizes === "object" ? sizes : {})) {
      if (Number.isSafeInteger(size) && size >= 0) known[name] = size;
    }
    this.#sizes = known;
    this.onChange(this);
  }

  // A file this boot will download: `length` a number (exact), null (unknown) or undefined
  // (its size from the sizes). Bytes already counted for it are kept.
  expect(name, length = undefined) {
    this.#file(name).length = length;
    this.onChange(this);
  }

  add(name, bytes) {
    this.#file(name).done += bytes;
    this.onChange(this);
  }

  // A file seen only once complete (Resource Timing): its bytes, counted once.
  finish(name, bytes) {
    this.#file(name).done = bytes;
    this.onChange(this);
  }

  // A file this boot will not download after all (the snapshot, on a slow link).
  drop(name) {
    if (this.#files.delete(name)) this.onChange(this);
  }

  get done() {
    let done = 0;
    for (const file of this.#files.values()) done += file.done;
    return done;
  }

  // null while any file's size is unknown, or when more came than was announced.
  get total() {
    let total = 0;
    for (const [name, file] of this.#files) {
      const size = file.length === undefined ? this.#sizes[name] : file.length;
      if (typeof size !== "number") return null;
      total += size;
    }
    return this.done <= total ? total : null;
  }

  #file(name) {
    let file = this.#files.get(name);
    if (!file) this.#files.set(name, (file = { done: 0, length: undefined }));
    return file;
  }
}

const megabytes = (bytes) => (bytes / 1e6).toFixed(1);

// "12.4 of 14.0 MB", or "3.2 MB" when the total is not known.
export function progressText(done, total) {
  return typeof total === "number" && total > 0
    ? `${megabytes(done)} of ${megabytes(total)} MB`
    : `${megabytes(done)} MB`;
}
