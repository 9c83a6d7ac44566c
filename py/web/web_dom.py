"""Thin DOM helpers for the browser adapters.

Rule 7 of STYLE.md lives here: elements are made with createElement, text goes
in with textContent, attributes with setAttribute. Nothing in this module ever
parses a string as HTML, so a message body can never become markup (or a
`<script type="py">` that PyScript would run).

Rule 8 lives here too: `Listeners` owns every proxy it creates and destroys it
when the listener is removed, so a conversation switch leaves nothing behind.
"""

import js
from pyodide.ffi import create_proxy

try:  # Pyodide >= 0.28 hands JS null to Python as `jsnull`, not None.
    from pyodide.ffi import jsnull
except ImportError:  # pragma: no cover - older Pyodide
    jsnull = None

document = js.document
perf_now = js.performance.now.bind(js.performance)  # milliseconds; bound once, called per message


def present(value):
    """True for a real DOM value; False for JS null/undefined."""
    return value is not None and value is not jsnull


def el(tag, cls=None, text=None, attrs=None, children=()):
    """Create an element; `text` is set as textContent, never as markup."""
    node = document.createElement(tag)
    if cls:
        node.className = cls
    if text is not None:
        node.textContent = text
    if attrs:
        for name, value in attrs.items():
            node.setAttribute(name, str(value))
    for child in children:
        if child is not None:
            node.appendChild(child)
    return node


def svg_icon(path_d, label=None):
    """A small stroke icon; the path is a constant from our own code, never data."""
    ns = "http://www.w3.org/2000/svg"
    svg = document.createElementNS(ns, "svg")
    svg.setAttribute("viewBox", "0 0 24 24")
    svg.setAttribute("fill", "none")
    svg.setAttribute("stroke", "currentColor")
    svg.setAttribute("stroke-width", "2")
    svg.setAttribute("stroke-linecap", "round")
    svg.setAttribute("stroke-linejoin", "round")
    if label is None:
        svg.setAttribute("aria-hidden", "true")
    path = document.createElementNS(ns, "path")
    path.setAttribute("d", path_d)
    svg.appendChild(path)
    return svg


def by_id(element_id):
    return document.getElementById(element_id)


def clear(node):
    node.replaceChildren()


def set_text(node, text):
    if node.textContent != text:
        node.textContent = text


class Listeners:
    """Owns event listeners and the proxies behind them.

        listeners = Listeners()
        listeners.add(button, "click", on_click)
        ...
        listeners.dispose()   # removes every listener and destroys its proxy
    """

    def __init__(self):
        self._entries = []

    def add(self, target, event, handler, options=None):
        proxy = create_proxy(handler)
        if options is None:
            target.addEventListener(event, proxy)
        else:
            target.addEventListener(event, proxy, options)
        self._entries.append((target, event, proxy))
        return proxy

    def remove_target(self, target):
        """Remove every listener on one target (e.g. a row that leaves the DOM)."""
        keep = []
        for entry in self._entries:
            if entry[0] == target:
                entry[0].removeEventListener(entry[1], entry[2])
                entry[2].destroy()
            else:
                keep.append(entry)
        self._entries = keep

    def dispose(self):
        for target, event, proxy in self._entries:
            target.removeEventListener(event, proxy)
            proxy.destroy()
        self._entries = []

    def __len__(self):
        return len(self._entries)


class FrameScheduler:
    """Runs a callback at most once per animation frame.

    Layout reads and scrolls are batched here: a 2,000-message burst then costs
    a handful of layouts instead of 2,000 (see DEVELOPERS.md: per-message
    scrollHeight reads made a plain-JS prototype 5x slower).
    """

    def __init__(self, callback):
        self._callback = callback
        self._proxy = create_proxy(self._run)
        self._handle = None
        self._disposed = False

    def request(self):
        if self._handle is None and not self._disposed:
            self._handle = js.requestAnimationFrame(self._proxy)

    def _run(self, _timestamp=None):
        self._handle = None
        if not self._disposed:
            self._callback()

    def flush(self):
        """Run now (used when a frame may never come, e.g. a hidden tab)."""
        if self._handle is not None:
            js.cancelAnimationFrame(self._handle)
            self._handle = None
        if not self._disposed:
            self._callback()

    def dispose(self):
        self._disposed = True
        if self._handle is not None:
            js.cancelAnimationFrame(self._handle)
            self._handle = None
        self._proxy.destroy()
