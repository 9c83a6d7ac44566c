"""The browser's history and the conversation URLs (issue 14): opening a conversation pushes
its URL, Back comes to the previous one (the list on a phone), a reload or a shared link
opens it again. Only our own entries carry a state, so Back never leaves the app from a
conversation: a deep link first puts the list under it.
"""

import js

from core.routes import conversation_from_hash, hash_for
from web.web_dom import present

_MARK = "coachline"


def _state():
    return js.Object.fromEntries([[_MARK, True]])


def _url(cid):
    loc = js.location
    return str(loc.pathname) + str(loc.search) + hash_for(cid)


class HistoryNav:
    def __init__(self, listeners, on_navigate):
        self.on_navigate = on_navigate  # (conversation id or None) from Back/Forward
        listeners.add(js.window, "popstate", self._on_pop)

    @staticmethod
    def current():
        return conversation_from_hash(js.location.hash)

    def start_at(self, cid):
        """A boot on a conversation's URL: the list goes under it, so Back lands there."""
        js.history.replaceState(None, "", _url(None))
        self.opened(cid)

    def opened(self, cid):
        if self.current() != cid:
            js.history.pushState(_state(), "", _url(cid))

    def leave(self):
        """The chat's own back button: step back if we put the entry there, else go to the list URL.
        True when the popstate that follows will do the closing."""
        state = js.history.state
        if present(state) and getattr(state, _MARK, False) and self.current() is not None:
            js.history.back()
            return True
        js.history.replaceState(None, "", _url(None))
        return False

    def reset(self):
        """Signed out: no conversation in the URL."""
        js.history.replaceState(None, "", _url(None))

    def _on_pop(self, _event):
        self.on_navigate(self.current())
