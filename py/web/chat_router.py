"""Routing and deep links (issue 14): which conversation the URL and this tab name.

    router = ChatRouter(listeners, session_storage, on_navigate=...)  # on_navigate(Navigation, cid)
    cid = router.reopen(in_list)     # after sign-in: the deep link or the tab's last chat, or None
    router.opened(cid, from_history) # a chat opened (its URL, remembered for a reload)
    router.closed()                  # back on the list

The decisions are core/chat_routing.py's; the history entries are web/history_nav.py's; this
module owns the remembered conversation (sessionStorage) and keeps the three in step.
"""

from core.chat_routing import OPEN_CONVERSATION_KEY, after_navigation, conversation_to_reopen
from web.history_nav import HistoryNav


class ChatRouter:
    def __init__(self, listeners, session_storage, *, on_navigate):
        self.storage = session_storage  # web/browser_storage.py's interface
        self.on_navigate = on_navigate
        self.in_list = lambda cid: False  # until a list is shown (reopen)
        self.chat_open = False
        self.nav = HistoryNav(listeners, self._on_pop)

    def reopen(self, in_list):
        """A sign-in or boot: the conversation to open now, or None (the list, with a clean URL)."""
        self.in_list = in_list
        target = conversation_to_reopen(self.nav.current(), self.storage.get_item(OPEN_CONVERSATION_KEY), in_list)
        if target is not None:
            self.nav.start_at(target)
        else:
            self.nav.reset()
        return target

    def opened(self, cid, from_history):
        """Its URL (unless Back/Forward brought us to it)."""
        if not from_history:
            self.nav.opened(cid)

    def remember(self, cid):
        """A chat opened: a reload of this tab without the hash reopens it."""
        self.chat_open = True
        self.storage.set_item(OPEN_CONVERSATION_KEY, str(cid))

    def leave(self):
        """The chat's back button: like the browser's Back. True when the popstate that
        follows closes the chat (the caller must not)."""
        return self.nav.leave()

    def closed(self):
        self.chat_open = False
        self.storage.remove_item(OPEN_CONVERSATION_KEY)

    def reset(self):
        """Signed out: no conversation in the URL or remembered."""
        self.in_list = lambda cid: False
        self.closed()
        self.nav.reset()

    def _on_pop(self, cid):
        self.on_navigate(after_navigation(cid, self.in_list, self.chat_open), cid)
