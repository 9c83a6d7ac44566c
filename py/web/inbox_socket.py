"""Browser adapter for the inbox socket (core/inbox.py, CONTRACT "Inbox socket").

The inbox link has the conversation socket's inputs and actions, so the same
`SocketAdapter` (web/web_socket.py) runs it: one real WebSocket at a time, one timer,
tokens, visibility and network events, every proxy released on stop. This module only
builds the URL and turns the link's state into "live or not" for the app.
"""

import js

from core.constants import ws_inbox_url
from core.inbox import InboxLink
from core.connection_machine import ConnectionState
from web.web_socket import SocketAdapter


class InboxSocket:
    """    inbox = InboxSocket(tokens, ws_base, on_live=..., on_events=...)
    inbox.start()     # after login, once the list is shown
    inbox.stop()      # logout / session end: code 1000, no timer left
    """

    def __init__(self, tokens, ws_base, *, on_live, on_events, debug=False):
        self.ws_base = ws_base
        self.link = InboxLink(self._build_url, websocket_supported=hasattr(js, "WebSocket"))
        self.on_live = on_live
        self.adapter = SocketAdapter(self.link, tokens, on_state=self._on_state, on_events=on_events,
                                     on_gap_fill=lambda: None, debug=debug)

    @property
    def live(self):
        return self.link.realtime

    def carried_by_chat(self, conversation_id):
        """The open chat whose live socket brings its messages (None: none); core/inbox.py."""
        self.adapter.perform(self.link.carried_by_chat(conversation_id))

    def start(self):
        self.adapter.start()

    def stop(self):
        self.adapter.stop()

    def _build_url(self, token):
        loc = js.location
        return ws_inbox_url(token, self.ws_base, loc.protocol, loc.host)

    def _on_state(self, state, _reason):
        self.on_live(state is ConnectionState.CONNECTED)
