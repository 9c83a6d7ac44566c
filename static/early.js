// Before Python: make the page useful while Pyodide boots. It decides nothing that
// Python decides later; it only starts what would otherwise wait for Python.
//
// - No stored session: the login form is shown at once and can be typed into. A submit
//   made now is held (the button shows it is waiting); Python carries it out once up
//   (py/main.py asks `handOver()`), with its own checks and messages.
// - A stored session: the three calls of the first screen (who am I, conversations, unread
//   count) start now, with the stored access token. Python takes each answer only for the
//   very same request (py/core/prefetch.py); anything else it fetches itself.
// Loaded with `defer` (no inline script: the CSP has no unsafe-inline).
(() => {
  const CALLS = ["/api/auth/users/me/", "/api/messaging/conversations/", "/api/messaging/unread-count/"];
  const stored = (key) => {
    try { return localStorage.getItem(key) || ""; } catch { return ""; }
  };
  const byId = (id) => document.getElementById(id);
  const answers = new Map(); // path -> {authorization, answer: Promise<{url, status, text} | undefined>}
  let submitted = false;

  const onSubmit = (event) => {
    event.preventDefault();
    submitted = true;
    byId("login-submit").disabled = true;
    byId("login-submit").setAttribute("aria-busy", "true");
  };

  const access = stored("access_token");
  if (!access && !stored("refresh_token")) {
    byId("boot-screen").hidden = true;
    byId("login-screen").hidden = false;
    byId("login-form").addEventListener("submit", onSubmit);
    document.body.dataset.earlyLogin = "true";
    if (!document.activeElement || document.activeElement === document.body) byId("login-email").focus();
  } else if (access) {
    const base = fetch("./config.json", { cache: "no-cache" })
      .then((r) => (r.ok ? r.json() : {}))
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
    // Python is up: stop holding submits; true when one was made before.
    handOver() {
      byId("login-form").removeEventListener("submit", onSubmit);
      byId("login-submit").removeAttribute("aria-busy");
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
