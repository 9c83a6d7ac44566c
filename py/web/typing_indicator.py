"""The other party's typing indicator (AC-20..AC-22): shown names, or nothing."""

from web.web_dom import el, set_text


class TypingIndicator:
    def __init__(self, slot):
        self.slot = slot
        self._node = None

    def show(self, names):
        if names and self._node is None:
            node = el("div", "typing-indicator", attrs={"data-testid": "typing-indicator", "aria-live": "polite"})
            dots = el("span", "dots", attrs={"aria-hidden": "true"}, children=[el("span"), el("span"), el("span")])
            node.appendChild(dots)
            node.appendChild(el("span", "typing-text"))
            self.slot.appendChild(node)
            self._node = node
        if names:
            one = len(names) == 1
            set_text(self._node.lastChild, (names[0] if one else ", ".join(names)) +
                     (" is typing..." if one else " are typing..."))
        elif self._node is not None:
            self._node.remove()
            self._node = None

    def dispose(self):
        self._node = None
