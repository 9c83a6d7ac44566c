"""Calls back when elements change size (a ResizeObserver), for the message list to keep
following the bottom after a tall message renders, an image loads or anything grows
(issue 14). Owns its proxy and observer; dispose() lets both go."""

import js
from pyodide.ffi import create_proxy


class SizeWatch:
    def __init__(self, nodes, on_change):
        self._proxy = create_proxy(lambda _entries, _observer: on_change())
        self._observer = js.ResizeObserver.new(self._proxy)
        for node in nodes:
            self._observer.observe(node)

    def dispose(self):
        if self._observer is not None:
            self._observer.disconnect()
            self._observer = None
            self._proxy.destroy()
