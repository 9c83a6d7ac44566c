"""Which of the page's screens shows (boot, login, messages; ids in core/page_names.py, which
static/early.js shares), and whether a phone-width layout shows the chat or the list."""

import js

from core.page_names import SCREENS
from web.web_dom import by_id


def show_screen(screen):
    """Show one screen ("login" or "messages"); body[data-app-state] names it for tests and CSS."""
    by_id(SCREENS["boot"]).hidden = True
    by_id(SCREENS["login"]).hidden = screen != "login"
    by_id(SCREENS["messages"]).hidden = screen != "messages"
    js.document.body.setAttribute("data-app-state", screen)


def show_chat_screen(open_):
    """Phone width: the open chat covers the list while `open_`."""
    by_id("layout").classList.toggle("chat-open", open_)
