// IndexedDB for Python (py/web/offline_store.py): one object store of text records by key,
// each call a promise (a failure rejects; Python treats it as "nothing kept"). Here because
// IndexedDB's request events would cost Python a proxy per call.
globalThis.coachlineOfflineDb = (() => {
  const NAME = "coachline-offline";
  const STORE = "copies";
  let opened = null;
  const open = () => {
    opened ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened.catch((error) => { opened = null; throw error; });
  };
  const run = (mode, act) => open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = act(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = tx.onabort = () => reject(tx.error);
  }));
  return {
    // The text under `key`, or "" when there is none.
    get: (key) => run("readonly", (store) => store.get(key)).then((v) => (typeof v === "string" ? v : "")),
    put: (key, text) => run("readwrite", (store) => store.put(text, key)).then(() => true),
    // Delete every record but the one under `key` (null: every record).
    keepOnly: (key) => run("readwrite", (store) => {
      const cursor = store.openCursor();
      cursor.onsuccess = () => {
        const at = cursor.result;
        if (!at) return;
        if (at.key !== key) at.delete();
        at.continue();
      };
      return null;
    }).then(() => true),
    keys: () => run("readonly", (store) => store.getAllKeys()).then((keys) => keys.map(String)),
  };
})();
