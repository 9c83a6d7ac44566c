// The service worker: the page opens without a network (issue 22 item 2).
//
// Served at /sw.js (its scope is the whole site) with the SHELL line below filled in by the
// server or the export (server/site/offline_shell.py): this version's name and the files of
// the app shell and the Python runtime. A changed file makes a changed /sw.js, so the browser
// installs a new worker; it keeps every listed file in a cache of its own version (all or
// nothing: one failed file and the old worker stays), takes over once it has them, and
// deletes the older caches. A load then takes its files from one version: the running page
// keeps the code it already has, the next load is the new version's.
//
// What it answers (routeFor, pure, tested under Node by tests/test_service_worker.py):
// - "cache-first": files whose URL names their content (PyScript and Pyodide by version, the
//   snapshot by hash). The cached Response itself goes back, never one built here, so the
//   browser keeps its compiled-wasm code cache for application/wasm.
// - "network-first": the page (a navigation), config.json and the other listed files: the
//   network's answer when there is one (the cache is not written: it holds one version),
//   the cached file when the network fails.
// - "network": everything else, untouched: the API, sockets, fault controls, photos, and
//   anything a user's token opens. Nothing of a user is ever kept in Cache Storage.
const SHELL = {};

const CACHE_PREFIX = "coachline-shell-";
const IMMUTABLE = [/^vendor\//, /^snapshot\/[^/]+\.gz$/];
const INDEX = "./index.html";

// How to answer a request: "network" | "network-first" | "cache-first". `path` is the URL
// path relative to the worker's scope (no leading slash), `listed` the set of SHELL paths.
function routeFor({ method, sameOrigin, navigate, path }, listed) {
  if (method !== "GET" || !sameOrigin) return "network";
  // A navigation to the page itself; any other (a photo opened in a tab, an API URL) is not ours.
  if (navigate) return path === "" || path === "index.html" ? "network-first" : "network";
  if (!listed.has("./" + path)) return "network";
  return IMMUTABLE.some((pattern) => pattern.test(path)) ? "cache-first" : "network-first";
}

// Which caches an activated version deletes: every older one of ours, no one else's.
function staleCaches(names, current) {
  return names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== current);
}

if (typeof ServiceWorkerGlobalScope !== "undefined" && self instanceof ServiceWorkerGlobalScope) {
  const CACHE = CACHE_PREFIX + SHELL.version;
  const LISTED = new Set(SHELL.files);
  const scope = new URL(self.registration.scope);

  self.addEventListener("install", (event) => {
    event.waitUntil((async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL.files);
      await self.skipWaiting();
    })());
  });

  self.addEventListener("activate", (event) => {
    event.waitUntil((async () => {
      await Promise.all(staleCaches(await caches.keys(), CACHE).map((name) => caches.delete(name)));
      await self.clients.claim();
    })());
  });

  const fromCache = async (request) => {
    const cache = await caches.open(CACHE);
    return cache.match(request, { ignoreVary: true, ignoreSearch: request.mode === "navigate" });
  };

  const networkFirst = async (request) => {
    try {
      return await fetch(request);
    } catch (error) {
      const cached = await fromCache(request) || (request.mode === "navigate" && await fromCache(INDEX));
      if (cached) return cached;
      throw error;
    }
  };

  const cacheFirst = async (request) => (await fromCache(request)) || fetch(request);

  self.addEventListener("fetch", (event) => {
    const request = event.request;
    const url = new URL(request.url);
    const sameOrigin = url.origin === scope.origin && url.pathname.startsWith(scope.pathname);
    const route = routeFor({
      method: request.method,
      sameOrigin,
      navigate: request.mode === "navigate",
      path: sameOrigin ? url.pathname.slice(scope.pathname.length) : "",
    }, LISTED);
    if (route === "cache-first") event.respondWith(cacheFirst(request));
    else if (route === "network-first") event.respondWith(networkFirst(request));
  });
}

if (typeof module !== "undefined") module.exports = { routeFor, staleCaches };
