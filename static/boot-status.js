// What the page says while Python is not up yet (issue 20 item 4): how much of the runtime has
// downloaded, and, when Python cannot start, a calm message with a Retry button, instead of
// a skeleton that spins forever. The loader (static/pyodide-loader.mjs) decides; this only
// shows, through `globalThis.coachlineBoot`:
//
//   coachlineBoot.progress(done, total, "12.4 of 14.0 MB");  // total null: bytes only
//   await coachlineBoot.failed("no-webassembly");           // resolves when Retry is pressed
//   coachlineBoot.done();                                   // Pyodide is up
//   coachlineBoot.started();                                // py/main.py runs
//
// It goes into the screen the visitor sees: under the login form (static/early.js showed it;
// what was typed there stays, the form is never hidden or reset) or at the top of the boot
// skeleton. Built with DOM calls and textContent (the CSP allows no inline script or style;
// its rules are in index.html's inline style and app.css). A classic `defer` script, so it
// also sees PyScript's own module script fail to load, which no module could report.
(() => {
  const SHOW_PROGRESS_AFTER_MS = 1000; // a warm load is up by then: no bar flashing past
  // From Pyodide up to py/main.py running: PyScript fetches main.py, and a failed fetch is only
  // logged (PyScript 0.7.31 reports no event for it). Generous: a busy machine is not a failure.
  const MAIN_DEADLINE_MS = 20_000;
  const MESSAGES = {
    "no-webassembly": "This browser cannot run Coachline: WebAssembly is turned off or not supported "
      + "(a browser policy may block it). Try an up-to-date Chrome, Edge, Firefox or Safari, "
      + "or ask whoever manages this device to allow WebAssembly, then press Retry.",
    failed: "Coachline could not start in this browser: its download was interrupted or blocked "
      + "on this network. Check your connection, then press Retry.",
    // Retry loads the page again (what was typed is then lost: the message does not promise it).
    reload: "Coachline could not start in this browser: part of it did not load. "
      + "Check your connection, then press Retry to load the page again.",
  };
  // Said under the login form when Retry keeps the page (and so what was typed there): not
  // for "reload".
  const KEPT = " What you typed stays where it is.";
  const byId = (id) => document.getElementById(id);
  const make = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  };

  let box = null; // div.boot-status, once something is to be shown
  let bar = null;
  let barText = null;
  let notice = null;
  let latest = null; // [done, total, text] not yet drawn
  let drawing = false;
  const startedAt = performance.now();

  // The login form when it is what the visitor sees, else the skeleton, under its top bar.
  const inLogin = () => {
    const login = byId("login-screen");
    return Boolean(login && byId("login-form") && !login.hidden);
  };
  const place = () => {
    const form = byId("login-form");
    if (inLogin()) {
      if (box.parentNode !== form) form.append(box);
      return;
    }
    const screen = byId("boot-screen");
    const top = screen && screen.querySelector(".topbar");
    if (top && box.parentNode !== screen) top.after(box);
  };

  const ensureBox = () => {
    if (!box) box = make("div", "boot-status");
    place();
    return box;
  };

  const draw = () => {
    drawing = false;
    if (!latest || notice) return;
    const [done, total, text] = latest;
    latest = null;
    if (!bar) {
      const row = make("div", "boot-progress");
      row.dataset.testid = "boot-progress-box";
      bar = make("progress");
      bar.dataset.testid = "boot-progress";
      bar.setAttribute("aria-label", "Downloading the app");
      barText = make("span", "boot-progress-text");
      row.append(bar, barText);
      ensureBox().append(row);
    }
    if (typeof total === "number" && total > 0) {
      bar.max = total;
      bar.value = Math.min(done, total);
    } else {
      bar.removeAttribute("value"); // indeterminate: the total is not known
    }
    barText.textContent = `Downloading the app: ${text}`;
    box.hidden = performance.now() - startedAt < SHOW_PROGRESS_AFTER_MS;
  };

  let retried = null; // resolves the promise failed() returned

  // The skeleton's "Loading your messages…" would contradict the message.
  const spinning = (on) => {
    const text = document.querySelector("#boot-screen .boot-text");
    if (text) text.hidden = !on;
  };

  const showFailure = (kind, onRetry) => {
    if (document.body.dataset.appReady === "true") return new Promise(() => {}); // Python is up: not ours
    ensureBox().hidden = false;
    if (bar) bar.parentNode.hidden = true;
    if (!notice) {
      notice = make("div", "boot-notice");
      notice.setAttribute("role", "alert");
      notice.dataset.testid = "boot-failure";
      const button = make("button", "btn btn-primary", "Retry");
      button.type = "button"; // inside the login form: never a submit
      button.dataset.testid = "boot-retry";
      button.addEventListener("click", () => {
        notice.remove();
        notice = null;
        if (bar) bar.parentNode.hidden = false;
        spinning(true);
        document.body.dataset.appState = "booting";
        const resolve = retried;
        retried = null;
        if (resolve) resolve();
      });
      const kept = kind !== "reload" && inLogin() ? KEPT : "";
      notice.append(make("p", "", (MESSAGES[kind] || MESSAGES.failed) + kept), button);
      box.append(notice);
    }
    spinning(false);
    document.body.dataset.appState = "boot-failed";
    const retry = notice.querySelector("button");
    // Keyboard users land on Retry, unless they are typing in the login form.
    if (!document.activeElement || document.activeElement === document.body) retry.focus();
    return new Promise((resolve) => {
      retried = () => (onRetry ? onRetry() : resolve());
    });
  };

  globalThis.coachlineBoot = {
    progress(done, total, text) {
      latest = [done, total, text];
      if (!drawing) {
        drawing = true;
        requestAnimationFrame(draw); // at most one redraw a frame, however many chunks came
      }
    },
    failed(kind) {
      return showFailure(kind);
    },
    done() {
      if (box) box.remove();
      box = bar = barText = notice = latest = null;
      mainTimer = setTimeout(() => showFailure("reload", () => location.reload()), MAIN_DEADLINE_MS);
    },
    // py/main.py runs: PyScript got this far (a late start takes back the message).
    started() {
      clearTimeout(mainTimer);
      if (notice) notice.remove();
      notice = null;
      retried = null;
      spinning(true);
      if (document.body.dataset.appState === "boot-failed") document.body.dataset.appState = "booting";
    },
  };
  let mainTimer = 0;

  // PyScript's module (or the loader) not loading at all: nothing else would ever report it.
  // Retry is then a reload: the module graph of this document cannot be fetched again.
  document.addEventListener("error", (event) => {
    const script = event.target;
    if (script instanceof HTMLScriptElement && script.type === "module") {
      console.error("[boot] a script of the app did not load:", script.src);
      showFailure("reload", () => location.reload());
    }
  }, true);
})();
