// Before Python: make the page useful while Pyodide boots. It decides nothing that
// Python decides later; it only starts what would otherwise wait for Python.
//
// - No stored session: the login form is shown at once and can be typed into. A submit
//   made now is held (the button shows it is waiting); Python carries it out once up
//   (py/main.py asks `handOver()`), with its own checks and messages.
// - A stored session: the three calls of the first screen (who am I, conversations, unread
//   count) start now, with the stored access token. Python takes each answer only for the
//   very same request (py/core/prefetch.py); anything else it fetches itself.
// - Either way, config.json is fetched here, once per page load: Python takes its text
//   (`config()`, py/web/site_config_load.py) instead of fetching it again.
// The paths, keys and ids below are Python's (py/core/page_names.py): the SHARED block is
// generated from it (scripts/early_shared.py) and tests/test_early_shared.py checks it.
// Loaded with `defer` (no inline script: the CSP has no unsafe-inline).
(() => {
  // SHARED BEGIN (generated: python3 scripts/early_shared.py --write)
  const SHARED = {"config": "./config.json", "calls": ["/api/auth/users/me/", "/api/messaging/conversations/", "/api/messaging/unread-count/"], "storage": {"access": "access_token", "refresh": "refresh_token"}, "screens": {"boot": "boot-screen", "login": "login-screen", "messages": "messages-screen"}, "login": {"form": "login-form", "email": "login-email", "submit": "login-submit"}, "ready": "data-app-ready", "worker": "./sw.js"};
  // SHARED END
  const { calls: CALLS, storage: KEYS, screens: SCREENS, login: LOGIN } = SHARED;

  // The whole stylesheet, which index.html preloads (and so names): added by a script, it
  // blocks neither the first paint nor this script; until it is in, index.html's inline
  // style (app.css's own rules) draws the skeleton and the login form.
  for (const preload of document.querySelectorAll('link[rel="preload"][as="style"]')) {
    const sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = preload.href;
    document.head.append(sheet);
  }
  const stored = (key) => {
    try { return localStorage.getItem(key) || ""; } catch { return ""; }
  };
  const byId = (id) => document.getElementById(id);
  const answers = new Map(); // path -> {authorization, answer: Promise<{url, status, text} | undefined>}
  let submitted = false;

  // The text of config.json ("" when it could not be read); what it means is Python's
  // (py/core/site_config.py) but for the API base the early calls need.
  const configText = fetch(SHARED.config, { cache: "no-cache" })
    .then((r) => (r.ok ? r.text() : ""))
    .catch(() => "");

  const onSubmit = (event) => {
    event.preventDefault();
    submitted = true;
    byId(LOGIN.submit).disabled = true;
    byId(LOGIN.submit).setAttribute("aria-busy", "true");
  };

  const access = stored(KEYS.access);
  if (!access && !stored(KEYS.refresh)) {
    byId(SCREENS.boot).hidden = true;
    byId(SCREENS.login).hidden = false;
    byId(LOGIN.form).addEventListener("submit", onSubmit);
    document.body.dataset.earlyLogin = "true";
    if (!document.activeElement || document.activeElement === document.body) byId(LOGIN.email).focus();
  } else if (access) {
    const base = configText
      .then((text) => JSON.parse(text))
      .then((c) => (c && typeof c.api_base === "string" ? c.api_base.replace(/\/+$/, "") : ""))
      .catch(() => "");
    for (const path of CALLS) {
      const authorization = "Bearer " + access;
      const answer = base.then(async (apiBase) => {
        const response = await fetch(apiBase + path, {
          headers: { Authorization: authorization }, cache: "no-store", credentials: "omit",
        });
        return { url: apiBase + path, status: response.status, text: await response.text() };
      }).catch(() => undefined);
      answers.set(path, { authorization, answer });
    }
  }

  // The service worker (static/sw.js, which the server serves at the site's root), registered
  // once Python has started: its first install fetches the shell and the runtime again (from
  // the HTTP cache by then) and must not compete with the boot. A browser without service
  // workers, or a host that refuses it, simply has no offline load.
  if ("serviceWorker" in navigator) {
    const register = () => navigator.serviceWorker.register(SHARED.worker).catch(() => {});
    const ready = () => document.body.hasAttribute(SHARED.ready);
    if (ready()) register();
    else {
      const watch = new MutationObserver(() => {
        if (!ready()) return;
        watch.disconnect();
        register();
      });
      watch.observe(document.body, { attributes: true, attributeFilter: [SHARED.ready] });
    }
  }

  globalThis.coachlineEarly = {
    // The early answer (a promise of {url, status, text}, or of undefined when the fetch
    // failed) to GET `url` with this Authorization header, once; undefined when none was
    // started for it. (undefined, not null: Python sees undefined as None.)
    take(url, authorization) {
      for (const [path, entry] of answers) {
        if (!url.endsWith(path) || entry.authorization !== authorization) continue;
        answers.delete(path);
        return entry.answer.then((got) => (got && got.url === url ? got : undefined));
      }
      return undefined;
    },
    pending() { return answers.size; },
    // The promise of config.json's text, fetched above ("" when unreadable).
    config() { return configText; },
    // Python is up: stop holding submits; true when one was made before.
    handOver() {
      byId(LOGIN.form).removeEventListener("submit", onSubmit);
      byId(LOGIN.submit).removeAttribute("aria-busy");
      const was = submitted;
      submitted = false;
      return was;
    },
  };
})();

// WebSocket frames for Python (py/web/web_socket.py). Entering Python costs far more than a
// frame's own handling, and a 2,000-message burst arrives on two sockets (the chat's and the
// inbox). `coachlineFrames(handler)` makes a socket's "message" listener: it hands each frame
// to Python's `handler` at once, except while Python has set `hold` (Python's frame batcher
// is already gathering a burst for its next animation frame); then it only keeps the frame
// and its arrival time, and Python takes them all in one call (`take()`). Python decides when
// to hold and when to take; nothing here looks at what a frame says.
globalThis.coachlineFrames = (handler) => {
  const box = {
    hold: false,
    frames: [],
    lastAt: 0, // performance.now() when the newest kept frame arrived
    listener(event) {
      if (!box.hold) return handler(event.data);
      box.frames.push(event.data);
      box.lastAt = performance.now();
    },
    take() {
      box.hold = false;
      return box.frames.splice(0, box.frames.length);
    },
  };
  return box;
};
