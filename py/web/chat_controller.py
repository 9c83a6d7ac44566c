"""Adapter for one open conversation: carries OpenConversation's effects out.

The rules live in core/open_conversation.py; this file only wires it to the browser: the
socket adapter (its state, events and gap fills go in), the REST client (fetches, sends and
mark-read calls go out, their answers come back in), localStorage (the outbox), the chat
view (it renders the log from the cache and what the effects say) and the session (list
updates). Created when the trainer opens a conversation and disposed when they leave it
(AC-1, AC-10, edge 2): dispose() closes the socket with 1000 first, cancels the timer and
releases every listener, so the next conversation starts clean.

Its interface to the app is narrow: commands in (the methods under "what the app may ask")
and events out, through the one `on_event` callback (core/chat_events.py).
"""

import asyncio
import uuid

import js

from core.capabilities import NO_CAPABILITIES
from core.chat_events import BackAsked, CallFailed, LateSendOutcome, SearchAsked, ServerAnswered
from core.constants import ws_messaging_url
from core.conversation_states import Load
from core.message_jump import JumpStep, MessageJump
from core import open_conversation as oc
from core.connection_machine import ConnectionMachine, ConnectionState, FailReason
from web.chat_view import ChatView
from web.message_edits import MessageEdits
from web.timers import WakeTimer
from web.web_dom import Listeners
from web.send_io import post_send, store_outbox
from web.web_socket import SocketAdapter


class ChatController:
    """One open conversation in the browser.

        chat = ChatController(host, cache, api, tokens, conversation, me, storage=..., clock=...,
                              on_event=..., ...)
        chat.start()
        outbox, files = chat.dispose()   # for core/held_sends.py
    """

    def __init__(self, host, cache, api, tokens, conversation, me, *, storage, clock, api_base, ws_base,
                 tz_offset, on_event, drafts=None, debug=False, handed=None, capabilities=None,
                 saved_replies=None):
        self.cache = cache
        # What the backend offers beyond the spec (core/capabilities.py), read when used: the
        # answer may arrive after the chat opened.
        self.capabilities = capabilities or (lambda: NO_CAPABILITIES)
        self.api = api
        self.storage = storage  # localStorage (web/browser_storage.py): the outbox
        self.clock = clock
        self.ws_base = ws_base
        self.cid = conversation["id"]
        # Every event out (core/chat_events.py), including a send answered after dispose(),
        # which goes to the outbox's new owner (core/held_sends.py).
        self.on_event = on_event
        self.disposed = False
        self.jump = None  # a search result to bring into view (core/message_jump.py)
        # The outbox comes from the session's held sends (handed), else from storage.
        self.core = oc.OpenConversation(cache, conversation, me, handed=handed,
                                        stored_outbox=None if handed is not None else self._stored_outbox(me))
        self.timer = WakeTimer(lambda: self._feed(self.core.tick))
        self.listeners = Listeners()

        self.view = ChatView(host, conversation, me, self.core.other, api_base=api_base, tz_offset=tz_offset,
                             inputs=ViewInputs(self.core, self._feed, on_event, self.cid, drafts, MessageEdits(
                                 api, cache, conversation, me, capabilities=self.capabilities, clock=clock)),
                             draft=drafts.load(self.cid) if drafts else "", saved_replies=saved_replies)
        # Read only when seen, where the browser can tell what is on screen (issue 13).
        self.core.read_when_seen = self.view.tracks_seen
        self.unsubscribe = cache.subscribe(self._on_cache, self.core.key)
        self.view.show_log(self.core.log)

        self.socket = None
        if not conversation.get("is_archived"):
            machine = ConnectionMachine(
                self.cid, self._build_url, websocket_supported=hasattr(js, "WebSocket"))
            self.socket = SocketAdapter(machine, tokens, on_state=self._on_socket_state,
                                        on_events=self._on_socket_events,
                                        on_gap_fill=lambda: self._feed(self.core.gap_fill),
                                        debug=debug)
        else:
            # Archived: read-only, no socket (edge 10); polling keeps it fresh.
            self._on_socket_state(ConnectionState.FAILED, FailReason.FORBIDDEN)

    # ----- what the app may ask ---------------------------------------------------------

    def is_visible(self):
        return self.view.is_visible()

    def focus_input(self):
        self.view.focus_input()

    def start(self):
        self.listeners.add(js.document, "visibilitychange", self._on_visibility)
        if self.socket is not None:
            self.socket.start()
        visible = self.view.is_visible()
        self._feed(lambda now: self.core.open(now, visible=visible))

    def poll(self):
        self._feed(self.core.poll)

    def send_outcome(self, cmid, message, error):
        """The answer to a send posted before this chat took the outbox (core/held_sends.py)."""
        if error is not None:
            self._feed(lambda now: self.core.send_failed(cmid, error, now))
        else:
            self._feed(lambda now: self.core.send_answered(cmid, message, now), arrivals=True)

    def reveal(self, message_id):
        """Scroll to one message (a search result), loading older pages until it is in."""
        self.jump = MessageJump(message_id)
        self.view.jump_note(None)
        self._jump_step()

    def _jump_step(self):
        jump = self.jump
        step = jump.step(self.core.log, ready=self.core.load is Load.READY, loading_older=self.core.loading_older)
        if step is JumpStep.LOAD_OLDER:
            self._feed(self.core.load_older)
            return
        if step is not JumpStep.WAIT:
            self.jump = None
        if step is JumpStep.FOUND:
            self.view.reveal(jump.message_id)
        elif step is JumpStep.MISSING:
            self.view.jump_note("That message could not be found in this conversation's history.")

    def inbox_events(self, events):
        """The inbox socket's events: the core takes this chat's while its own socket is down
        (the check here only spares the visibility read; the rule is the core's)."""
        if not self.core.realtime:
            self._feed(lambda now: self.core.inbox_events(events, now), arrivals=True)

    # ----- inputs ------------------------------------------------------------------------

    def _build_url(self, token):
        loc = js.location
        return ws_messaging_url(self.cid, token, self.ws_base, loc.protocol, loc.host)

    def _on_socket_state(self, state, reason):
        state = getattr(state, "value", state)
        reason = getattr(reason, "value", reason)
        self._feed(lambda now: self.core.socket_state(state, reason, now))

    def _on_socket_events(self, events):
        self._feed(lambda now: self.core.socket_events(events, now), arrivals=True)

    def _on_visibility(self, _event):
        self._feed(lambda now: self.core.visibility_changed(self.view.is_visible(), now))

    def _on_cache(self, _key):
        if not self.disposed:
            self.view.show_log(self.core.log)

    def _feed(self, step, arrivals=False):
        """Run one input at the current time and carry its effects out, in one cache batch."""
        if self.disposed:
            return
        now = self.clock()
        with self.cache.batch():
            effects = []
            if arrivals:
                # Asked once per batch of messages: it makes the browser compute styles.
                effects += self.core.visibility_changed(self.view.is_visible(), now)
            effects += step(now)
            for effect in effects:
                self._perform(effect)
        if not self.disposed:
            self.timer.set(self.core.next_wakeup(self.clock()))
            if self.jump is not None:
                self._jump_step()  # a page came in (or the first one): is the message there now?

    # ----- effects out ---------------------------------------------------------------------

    def _perform(self, effect):
        kind = type(effect)
        view = self.view
        if kind is oc.ShowPending:
            view.show_pending(list(effect.pending))
        elif kind is oc.ShowTyping:
            view.set_typing(list(effect.names))
        elif kind is oc.ShowBanner:
            view.set_banner(effect.kind)
        elif kind is oc.ShowConnection:
            view.set_ws_state(effect.state)
        elif kind is oc.ShowHistoryStatus:
            view.show_error(effect.text)
        elif kind is oc.ShowLoadFailed:
            view.show_load_failed(effect.text)
        elif kind is oc.FetchPage:
            asyncio.ensure_future(self._fetch(effect))
        elif kind is oc.PostMessage:
            asyncio.ensure_future(self._post(effect))
        elif kind is oc.PostMarkRead:
            asyncio.ensure_future(self._mark_read())
        elif kind is oc.SendTyping:
            if self.socket is not None:
                self.socket.send_typing(effect.is_typing)
        elif kind is oc.StoreOutbox:
            store_outbox(self.storage, effect)
        else:  # NewMessages, ConversationRead, RealtimeChanged: the session's
            self.on_event(effect)

    async def _fetch(self, fetch):
        try:
            data = await self.api.messages(self.cid, limit=fetch.limit, before=fetch.before, after=fetch.after)
        except Exception as exc:
            self.on_event(CallFailed(exc))
            self._feed(lambda now: self.core.page_failed(fetch, exc, now))
            return
        self.on_event(ServerAnswered())
        self._feed(lambda now: self.core.page_loaded(fetch, data, now), arrivals=True)
        if fetch.purpose is oc.Purpose.INITIAL and not self.disposed:
            self.view.initial_page_shown()  # the unread line is decided on what it brought

    async def _post(self, post):
        cmid = post.client_message_id
        try:
            message = await post_send(self.api, self.cid, cmid, post.content, post.attachment)
        except Exception as exc:
            self.on_event(CallFailed(exc))
            if self.disposed:
                self.on_event(LateSendOutcome(self.cid, cmid, None, exc))
            else:
                self._feed(lambda now: self.core.send_failed(cmid, exc, now))
            return
        if self.disposed:
            self.on_event(LateSendOutcome(self.cid, cmid, message, None))
            return
        self.on_event(ServerAnswered())
        self._feed(lambda now: self.core.send_answered(cmid, message, now), arrivals=True)

    async def _mark_read(self):
        try:
            await self.api.mark_read(self.cid)
            ok = True
        except Exception as exc:
            self.on_event(CallFailed(exc))
            ok = False
        self._feed(lambda now: self.core.mark_read_done(ok, now))

    def _stored_outbox(self, me):
        try:
            return self.storage.get_item(oc.outbox_storage_key(me["id"], self.cid))
        except Exception:
            return None  # storage blocked: nothing was kept

    # ----- teardown -------------------------------------------------------------------------

    def dispose(self):
        """Close: returns the outbox and its in-memory files, for core/held_sends.py."""
        if self.disposed:
            return self.core.hand_over()
        # Edge 2: the old socket is closed (1000) before anything new opens.
        if self.socket is not None:
            self.socket.stop()
        self.core.close(self.clock())
        self.disposed = True
        self.timer.cancel()
        self.listeners.dispose()
        self.unsubscribe()
        self.view.dispose()
        return self.core.hand_over()


class ViewInputs:
    """What the chat view's parts report (chat_view.py), each as one method: into the core,
    or out as an event. The view's side of the chat; the app's side is ChatController's."""

    def __init__(self, core, feed, on_event, cid, drafts, edits):
        self.edits = edits  # edit and delete own messages (web/message_edits.py)
        self._core = core
        self._feed = feed  # one input into the core at the current time (ChatController._feed)
        self._on_event = on_event
        self._cid = cid
        self._drafts = drafts

    def send(self, text, attachment):
        cmid = str(uuid.uuid4())
        image_name = attachment.name if attachment is not None else None
        self._feed(lambda now: self._core.send(text, cmid, now, image_name=image_name, attachment=attachment))

    def retry(self, cmid):
        self._feed(lambda now: self._core.retry(cmid, now))

    def typing(self):
        self._feed(self._core.local_input)

    def load_older(self):
        self._feed(self._core.load_older)

    def is_loading_older(self):
        return self._core.loading_older

    def back(self):
        self._on_event(BackAsked())

    def search_here(self):
        self._on_event(SearchAsked(self._cid))

    def retry_load(self):
        self._feed(self._core.retry_load)

    def in_view(self, ids):
        self._feed(lambda now: self._core.messages_in_view(ids, now))

    def save_draft(self, text):
        return self._drafts and self._drafts.save(self._cid, text)
