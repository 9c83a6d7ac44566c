"""The open chat's lifecycle: at most one conversation open, through web/chat_controller.py's
narrow interface (commands in, events out).

    chat = OpenChat(controller_factory(host=..., cache=..., ...), on_event=...)
    chat.open(conversation, handed)   # the previous one must be closed first
    chat.start(); chat.focus()
    outbox = chat.close()             # its held sends, for core/held_sends.py (None: none open)

It knows which conversation is open and whether its socket is live (from the chat's
RealtimeChanged events), and hands the session's requests (a poll, the inbox's events, a
send's answer) to the chat only when they are that conversation's.
"""

from core.open_conversation import RealtimeChanged


def controller_factory(**same_for_every_chat):
    """Makes a ChatController from what changes per open (the conversation, its handed
    outbox, the event callback) and what stays the same for the session."""
    def make(conversation, handed, on_event):
        from web.chat_controller import ChatController  # not at start-up: the list needs none of it
        return ChatController(conversation=conversation, handed=handed, on_event=on_event,
                              **same_for_every_chat)
    return make


class OpenChat:
    def __init__(self, make_controller, *, on_event):
        self.make_controller = make_controller
        self.on_event = on_event  # every event of every chat, in order (core/chat_events.py)
        self.controller = None
        self.cid = None
        self.realtime = False

    def is_open(self, cid=None):
        return self.controller is not None and (cid is None or cid == self.cid)

    def open(self, conversation, handed):
        self.cid = conversation["id"]
        self.realtime = False
        self.controller = None  # events during the build already count as this chat's
        self.controller = self.make_controller(conversation, handed, self._event_of(self.cid))

    def start(self):
        self.controller.start()

    def focus(self):
        self.controller.focus_input()

    def reveal(self, message_id):
        """Scroll the open chat to one message (a search result), loading older pages as needed."""
        if self.controller is not None:
            self.controller.reveal(message_id)

    def is_visible(self):
        return self.controller is not None and self.controller.is_visible()

    def close(self):
        """The chat leaves: its outbox and files (core/held_sends.py), or None."""
        if self.controller is None:
            return None
        controller, self.controller = self.controller, None
        self.cid, self.realtime = None, False
        return controller.dispose()

    # ----- the session's requests, for the open conversation only -----------------------------

    def poll(self, cid):
        if self.is_open(cid):
            self.controller.poll()

    def inbox_events(self, events):
        if self.controller is not None:
            self.controller.inbox_events(events)  # taken only while the chat's own socket is down

    def take_send_outcome(self, cid, cmid, message, error):
        """A send's answer: True when this chat holds that conversation's outbox and took it."""
        if not self.is_open(cid):
            return False
        self.controller.send_outcome(cmid, message, error)
        return True

    def _event_of(self, cid):
        def on_event(event):
            if type(event) is RealtimeChanged and cid == self.cid:
                self.realtime = event.realtime
            self.on_event(event)
        return on_event
