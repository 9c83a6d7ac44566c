"""Is the chat on screen (AC-28)? The tab visible and, on phones, the chat screen shown."""

import js

from web.web_dom import present


class ScreenPresence:
    """Asks the browser at most once per frame.

    Whether the chat screen is shown changes with the layout (phone width, chat open or
    not), which only a frame or a resize can bring: the answer is kept until `forget()`.
    Asking per message made the browser recompute styles per message in a burst.
    """

    def __init__(self, root):
        self.root = root
        self._shown = None

    def forget(self):
        self._shown = None

    def is_visible(self):
        if js.document.visibilityState != "visible":
            return False
        if self._shown is None:
            root = self.root
            if not root.isConnected:
                return False
            # checkVisibility() needs only styles; offsetParent forces a full layout.
            if hasattr(root, "checkVisibility"):
                self._shown = bool(root.checkVisibility())
            else:
                self._shown = present(root.offsetParent)
        return self._shown
