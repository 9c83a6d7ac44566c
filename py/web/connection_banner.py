"""The connection banner (AC-29..AC-31): which one shows is banner.py's; this draws it."""

from core.banner import BANNER_TEXT
from web.web_dom import el


class ConnectionBanner:
    def __init__(self, slot):
        self.slot = slot
        self._node = None

    def show(self, kind):
        """kind: "reconnecting", "failed" or None (no banner)."""
        current = self._node.getAttribute("data-state") if self._node is not None else None
        if kind == current:
            return
        if self._node is not None:
            self._node.remove()
            self._node = None
        if kind:
            node = el("div", "connection-banner", attrs={
                "data-testid": "connection-banner", "data-state": kind, "role": "status",
            })
            if kind == "reconnecting":
                node.appendChild(el("span", "spinner", attrs={"aria-hidden": "true"}))
            node.appendChild(el("span", None, BANNER_TEXT[kind]))
            self.slot.appendChild(node)
            self._node = node

    def dispose(self):
        self._node = None
