// Marks the moment PyScript has run the page's (empty) Python script.
addEventListener("py:done", () => {
  document.body.dataset.readyMs = String(performance.now());
  document.body.dataset.ready = "true";
}, { once: true });
