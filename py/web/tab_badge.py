"""The browser tab tells (issue 14): the unread total in the title and a badge on the icon.

The rule (the title's text) is core/chat_marks.tab_title; this only writes it, and swaps
the favicon for a static second icon that carries a dot. Writes happen only on change.
"""

import js

from core.chat_marks import BASE_TITLE, base_title, tab_title
from web.web_dom import present

ICON = "./static/icon.svg"
ICON_UNREAD = "./static/icon-unread.svg"


class TabBadge:
    def __init__(self):
        self._shown = None
        self._base = BASE_TITLE
        self._total = 0

    def for_role(self, role):
        """Signed in as `role` (None: signed out): the title's words follow (issue 22.7)."""
        self._base = base_title(role) if role is not None else BASE_TITLE
        self.show(self._total)

    def show(self, unread_total):
        self._total = unread_total
        title = tab_title(unread_total, self._base)
        if title == self._shown:
            return
        self._shown = title
        js.document.title = title
        link = js.document.querySelector("link[rel=icon]")
        if present(link):
            badged = isinstance(unread_total, int) and not isinstance(unread_total, bool) and unread_total > 0
            link.setAttribute("href", ICON_UNREAD if badged else ICON)
            link.setAttribute("data-unread", "true" if badged else "false")
