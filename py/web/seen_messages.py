"""Which of the other party's messages are on screen (issue 13: read only when seen).

A thin adapter: one IntersectionObserver rooted at the message list watches the message
nodes the list asks it to (the other party's unread ones, core/chat_marks.watch_until_seen:
every watched node costs the browser work on each frame, so a read one is let go); whenever
the set on screen changes it hands the ids (ascending)
to `on_change`, and core/open_conversation.py decides whether a mark-read may go out. A
message counts as on screen when half of it is, or, for one taller than the list, when it
fills half of the list. Its one proxy is created here and destroyed in `dispose()`.
"""

import js
from pyodide.ffi import create_proxy, to_js

THRESHOLDS = [0, 0.5, 1]


class SeenMessages:
    def __init__(self, root, on_change):
        self.on_change = on_change
        self.in_view = set()
        self.watching = set()  # ids of the nodes observed now
        self._proxy = None
        self.observer = None
        if not hasattr(js, "IntersectionObserver"):
            return  # the core's fallback: the visible chat counts as seen
        self._proxy = create_proxy(self._on_entries)
        options = to_js({"root": root, "threshold": THRESHOLDS}, dict_converter=js.Object.fromEntries)
        self.observer = js.IntersectionObserver.new(self._proxy, options)

    @property
    def available(self):
        return self.observer is not None

    def watch(self, node, mid):
        if self.observer is not None:
            self.observer.observe(node)
            self.watching.add(mid)

    def unwatch(self, node, mid):
        """Stop watching a node (its message is read, or it leaves the DOM). Its id leaves
        the set quietly: the next change reports the set without it."""
        if self.observer is not None:
            self.observer.unobserve(node)
        self.watching.discard(mid)
        self.in_view.discard(mid)

    def _on_entries(self, entries, _observer=None):
        changed = False
        for entry in entries:
            raw = entry.target.getAttribute("data-message-id")
            try:
                mid = int(raw)
            except (TypeError, ValueError):
                continue
            if mid not in self.watching:
                continue  # an entry queued before its node was let go
            seen = entry.isIntersecting and self._enough(entry)
            if seen and mid not in self.in_view:
                self.in_view.add(mid)
                changed = True
            elif not seen and mid in self.in_view:
                self.in_view.discard(mid)
                changed = True
        if changed:
            self.on_change(tuple(sorted(self.in_view)))

    @staticmethod
    def _enough(entry):
        if entry.intersectionRatio >= 0.5:
            return True
        root_box = entry.rootBounds
        return root_box is not None and entry.intersectionRect.height >= 0.5 * root_box.height

    def dispose(self):
        if self.observer is not None:
            self.observer.disconnect()
            self.observer = None
        if self._proxy is not None:
            self._proxy.destroy()
            self._proxy = None
        self.in_view.clear()
        self.watching.clear()
