"""The open conversation's view: a thin composition of small view parts, one file each.

This is a browser adapter: it owns DOM nodes and nothing else. What to show comes from the
query cache (the MessageLog, through `show_log`) and from the effects of
core/open_conversation.py (through the controller: `show_pending`, `set_typing`,
`set_banner`, `set_ws_state`, `show_error`). The parts, top to bottom:

    web/chat_header.py        back, avatar, name, role
    web/connection_banner.py  "Reconnecting..." / "Real-time updates unavailable" (AC-29..31)
    web/message_list.py       messages by id, pending sends, scrolling (message_nodes.py,
                              pending_sends.py)
    web/typing_indicator.py   "Alex is typing..." (AC-20..22)
    web/composer.py           the message box (or, archived, a note instead)
    web/scroll_button.py      "N new messages ↓" (edge 8)
    web/screen_presence.py    is the chat on screen (AC-28)
"""

from core import formatting
from web.chat_header import chat_header
from web.composer import Composer
from web.connection_banner import ConnectionBanner
from web.message_list import MessageList
from web.screen_presence import ScreenPresence
from web.scroll_button import ScrollButton
from web.typing_indicator import TypingIndicator
from web.web_dom import Listeners, el


class ChatView:
    """DOM for one open conversation. Created on open, disposed on switch."""

    def __init__(self, host, conversation, me, other, *, api_base, tz_offset, callbacks):
        self.conversation_id = conversation["id"]
        self.read_only = bool(conversation.get("is_archived"))
        cb = callbacks  # send, retry, typing, load_older, is_loading_older, back
        self.listeners = Listeners()
        self.root = el("section", "chat-view", attrs={
            "data-testid": "chat-view",
            "data-conversation-id": self.conversation_id,
            "data-ws-state": "connecting",
            "aria-label": "Conversation with " + formatting.display_name(other),
        })
        self.presence = ScreenPresence(self.root)
        self.scroll_button = ScrollButton(self.root, self.listeners, self._jump_to_bottom)
        self.messages = MessageList(
            me, self.listeners, api_base=api_base, tz_offset=tz_offset,
            on_load_older=cb["load_older"], is_loading_older=cb["is_loading_older"], on_retry=cb["retry"],
            on_unseen=self.scroll_button.show, on_frame=self.presence.forget)
        banner_slot = el("div", "banner-slot")
        typing_slot = el("div", "typing-slot", attrs={"aria-live": "polite"})
        self.banner = ConnectionBanner(banner_slot)
        self.typing = TypingIndicator(typing_slot)
        self.composer = None
        for part in (chat_header(conversation, other, self.read_only, self.listeners, cb["back"]),
                     banner_slot, self.messages.node, typing_slot):
            self.root.appendChild(part)
        if self.read_only:
            self.root.appendChild(el("p", "archived-note", "This conversation is archived. You can read it, but not reply."))
        else:
            self.composer = Composer(self.conversation_id, self.listeners,
                                     on_send=lambda text, file: self._send(cb["send"], text, file),
                                     on_typing=cb["typing"])
            self.root.appendChild(self.composer.node)
        host.appendChild(self.root)

    def _send(self, send, text, attachment):
        self.messages.follow_bottom()
        send(text, attachment)

    def _jump_to_bottom(self):
        self.messages.jump_to_bottom()

    # ----- what the controller says ---------------------------------------------------------

    def show_log(self, log):
        self.messages.show_log(log)

    def show_pending(self, pending_list):
        self.messages.show_pending(pending_list)

    def set_typing(self, names):
        self.typing.show(names)
        self.messages.keep_bottom()  # AC-23: the list got shorter or taller

    def set_banner(self, kind):
        self.banner.show(kind)

    def set_ws_state(self, state):
        self.root.setAttribute("data-ws-state", state)

    def show_error(self, text):
        self.messages.show_status(text)

    def focus_input(self):
        if self.composer is not None:
            self.composer.focus()

    def is_visible(self):
        """AC-28: the chat is on screen (tab visible and, on phones, the chat screen shown)."""
        return self.presence.is_visible()

    def dispose(self):
        self.messages.dispose()
        self.listeners.dispose()
        self.root.remove()
        self.banner.dispose()
        self.typing.dispose()
        self.scroll_button.dispose()
