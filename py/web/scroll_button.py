"""The "N new messages ↓" button (edge 8): shown while unseen messages wait below the view."""

from web.web_dom import el, set_text


class ScrollButton:
    def __init__(self, host, listeners, on_click):
        self.host = host
        self.listeners = listeners
        self.on_click = on_click
        self._node = None

    def show(self, count, label):
        if count and self._node is None:
            button = el("button", "scroll-to-bottom", attrs={"type": "button", "data-testid": "scroll-to-bottom"})
            self.listeners.add(button, "click", lambda e: self.on_click())
            self.host.appendChild(button)
            self._node = button
        if count:
            set_text(self._node, label + " ↓")
        elif self._node is not None:
            self.listeners.remove_target(self._node)
            self._node.remove()
            self._node = None

    def dispose(self):
        self._node = None
