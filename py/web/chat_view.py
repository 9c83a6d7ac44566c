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
    web/composer.py           the message box (or, archived, a note instead); it edits too
    web/message_menu.py       an own message's "More actions": Edit, Delete (and its confirm)
    web/scroll_button.py      "N new messages ↓" (edge 8)
    web/screen_presence.py    is the chat on screen (AC-28)
    web/seen_messages.py      which of the other party's messages are on screen (read when seen)
"""

import js

from core import formatting
from web.chat_header import chat_header
from web.composer import Composer
from web.connection_banner import ConnectionBanner
from web.message_list import MessageList
from web.message_menu import MessageMenu
from web.screen_presence import ScreenPresence
from web.seen_messages import SeenMessages
from web.scroll_button import ScrollButton
from web.typing_indicator import TypingIndicator
from web.web_dom import Listeners, el, set_text


class ChatView:
    """DOM for one open conversation. Created on open, disposed on switch."""

    def __init__(self, host, conversation, me, other, *, api_base, tz_offset, inputs, draft="",
                 saved_replies=None):
        self.conversation_id = conversation["id"]
        self.read_only = bool(conversation.get("is_archived"))
        cb = inputs  # what the parts report: web/chat_controller.py's ViewInputs
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
            on_load_older=cb.load_older, is_loading_older=cb.is_loading_older, on_retry=cb.retry,
            on_unseen=self.scroll_button.show, on_frame=self.presence.forget, clock=cb.edits.clock)
        self.seen = SeenMessages(self.messages.node, cb.in_view)
        if self.seen.available:
            self.messages.watch_other = self.seen.watch
            self.messages.unwatch_other = self.seen.unwatch
        banner_slot = el("div", "banner-slot")
        # A conversation that cannot load says so in its pane, with a Retry (issue 13).
        self.load_failed_text = el("span", None)
        retry_load = el("button", "retry-btn", "Retry", attrs={"type": "button", "data-testid": "load-retry"})
        self.load_failed = el("div", "load-failed", attrs={"data-testid": "load-failed", "role": "alert",
                                                          "hidden": ""},
                              children=(self.load_failed_text, retry_load))
        self.listeners.add(retry_load, "click", lambda _event: cb.retry_load())
        typing_slot = el("div", "typing-slot", attrs={"aria-live": "polite"})
        # A search result that cannot be found says so here (issue 22 item 6).
        self.jump_status = el("p", "jump-note", attrs={"data-testid": "jump-note", "role": "status", "hidden": ""})
        self.banner = ConnectionBanner(banner_slot)
        self.typing = TypingIndicator(typing_slot)
        self.composer = None
        for part in (chat_header(conversation, other, self.read_only, self.listeners, cb.back,
                                 on_search=cb.search_here),
                     banner_slot, self.load_failed, self.jump_status, self.messages.node, typing_slot):
            self.root.appendChild(part)
        self.menu = None
        if self.read_only:
            self.root.classList.add("is-read-only")  # no menus on its messages (app.css)
            self.root.appendChild(el("p", "archived-note", "This conversation is archived. You can read it, but not reply."))
        else:
            self.edits = cb.edits
            self.composer = Composer(self.conversation_id, self.listeners,
                                     on_send=lambda text, file: self._send(cb.send, text, file),
                                     on_typing=cb.typing, draft=draft, on_draft=cb.save_draft,
                                     on_save_edit=cb.edits.save, on_edit_last=self._edit_last,
                                     saved_replies=saved_replies)
            self.root.appendChild(self.composer.node)
            self.menu = MessageMenu(cb.edits, on_edit=self._start_edit, on_said=self.composer.say,
                                    on_focus_away=self.messages.node.focus)
            self.messages.on_menu = self.menu.open
        host.appendChild(self.root)
        self._back = cb.back
        self.listeners.add(self.root, "keydown", self._on_keydown)
        if self.composer is not None:
            self.composer.mounted()

    def _send(self, send, text, attachment):
        self.messages.follow_bottom()
        send(text, attachment)

    def _on_keydown(self, event):
        """Escape dismisses the new-messages button, else closes the chat on a phone."""
        if event.key != "Escape" or event.isComposing:
            return
        if self.messages.dismiss_unseen():
            event.preventDefault()
        elif js.window.matchMedia("(max-width: 720px)").matches:
            event.preventDefault()
            self._back()

    def _start_edit(self, mid):
        message = self.edits.message(mid)
        if message is not None and "edit" in self.edits.actions(mid):
            self.composer.start_edit(mid, message.get("content") or "", bool(message.get("image")))

    def _edit_last(self):
        """Up arrow in an empty composer: True when an edit began."""
        mid = self.edits.last_editable()
        if mid is None:
            return False
        self._start_edit(mid)
        return True

    def _jump_to_bottom(self):
        self.messages.jump_to_bottom()

    # ----- what the controller says ---------------------------------------------------------

    def show_log(self, log):
        self.messages.show_log(log)

    def initial_page_shown(self):
        self.messages.decide_unread_line()

    def show_pending(self, pending_list):
        self.messages.show_pending(pending_list)

    def set_typing(self, names):
        self.typing.show(names)
        self.messages.keep_bottom()  # AC-23: the list got shorter or taller

    def set_banner(self, kind):
        self.banner.show(kind)

    def set_ws_state(self, state):
        self.root.setAttribute("data-ws-state", state)

    def show_load_failed(self, text):
        if text is None:
            self.load_failed.setAttribute("hidden", "")
        else:
            set_text(self.load_failed_text, text)
            self.load_failed.removeAttribute("hidden")

    def reveal(self, message_id):
        """A search result: the list scrolls to it in its next frame (web/found_message.py)."""
        self.messages.found.want(message_id)
        self.messages.frame.request()

    def jump_note(self, text):
        self.jump_status.hidden = text is None
        set_text(self.jump_status, text or "")

    def show_error(self, text):
        self.messages.show_status(text)

    def focus_input(self):
        # Issue 22.7: not on a touch device, where a focused box raises the on-screen
        # keyboard over half the conversation the trainee opened to read.
        if self.composer is not None and not js.window.matchMedia("(pointer: coarse)").matches:
            self.composer.focus()

    def is_visible(self):
        """AC-28: the chat is on screen (tab visible and, on phones, the chat screen shown)."""
        return self.presence.is_visible()

    @property
    def tracks_seen(self):
        """The browser reports which messages are on screen (else: visible means seen)."""
        return self.seen.available

    def dispose(self):
        if self.composer is not None:
            self.composer.dispose()
        if self.menu is not None:
            self.menu.dispose()
        self.seen.dispose()
        self.messages.dispose()
        self.listeners.dispose()
        self.root.remove()
        self.banner.dispose()
        self.typing.dispose()
        self.scroll_button.dispose()
