"""One signed-in trainer's messages page: the list and its totals, their fetches and polling,
the inbox socket, the held sends, and the open chat's effects on all of them.

    page = MessagesPage(me, cache=..., api=..., ..., router=..., tab=...)   # shows the page
    await page.load()          # the list's first answers; then reopens a linked chat
    page.open_conversation(cid)
    page.end(clear_drafts)     # signed out, or the session ended

The rules are core/session.py's (the list, unread totals, polls) and core/held_sends.py's;
this carries their effects out. The open chat is web/open_chat.py's, the URL web/chat_router.py's.
"""

import asyncio

import js

from core.api_client import ApiError, NetworkError
from core.capabilities import FEATURES, NO_CAPABILITIES
from core import chat_events as ev
from core.chat_routing import Navigation
from core.drafts import Drafts
from core.saved_replies import ReplyBook, SavedReplies
from core import open_conversation as oc
from core.session import Fetch, PollMessages, Session
from core.tokens import SessionExpired
from core.page_names import SCREENS
from core.query_cache import CONVERSATIONS_KEY, ME_KEY, UNREAD_COUNT_KEY
from web.conversation_list_view import ConversationListView
from web.held_outboxes import HeldOutboxes
from web.inbox_socket import InboxSocket
from web.list_keyboard import ListKeyboard
from web.notifier import Notifier
from web.offline_store import OfflineKeeper
from web.open_chat import OpenChat, controller_factory
from web.saved_replies_panel import close_saved_replies, open_saved_replies
from web.search_panel import SearchPanel
from web.screens import show_chat_screen, show_screen
from web.timers import WakeTimer
from web.web_dom import FrameScheduler, Listeners, by_id

# After the first list render, how long to wait before importing the chat view's modules
# (web.chat_controller and what it imports, ~1,300 lines): after the list's first paint.
CHAT_IMPORT_DELAY_S = 0.3


def _import_chat_view():
    import web.chat_controller  # noqa: F401 - loads the module; the first open uses it


def _now_iso():
    return js.Date.new().toISOString()


def error_reporter(debug):
    """A failed call whose outcome the cores decide: only an unexpected one is logged (?debug)."""
    def report(exc):
        if debug and not isinstance(exc, (SessionExpired, ApiError, NetworkError)):
            js.console.warn("[app]", type(exc).__name__, str(exc))
    return report


class MessagesPage:
    def __init__(self, me, *, cache, api, tokens, config, router, tab, clock, storage, debug, tz_offset,
                 offline_store, offline_seed=None):
        self.cache = cache
        self.api = api
        self.router = router
        self.tab = tab
        self.clock = clock
        self.report_error = error_reporter(debug)
        self.drafts = Drafts(storage, me["id"])  # unsent composer text per conversation (issue 14)
        self.listeners = Listeners()
        self.focus_taken = False  # the trainer focused something on this screen (see load)
        self.listeners.add(by_id(SCREENS["messages"]), "focusin", self._on_focus_taken)
        self.session = Session(cache, me, clock())  # None once the session ends
        cache.set_query_data(ME_KEY, me)
        by_id("me-name").textContent = (me.get("first_name") or "") + " " + (me.get("last_name") or "")
        self.list_view = ConversationListView(
            by_id("conversation-list"), by_id("conversation-empty"), by_id("unread-total"), me,
            tz_offset=tz_offset, now_iso=_now_iso, on_open=self.open_conversation)
        ListKeyboard(self.listeners, by_id("conversation-list"))
        self.search = SearchPanel(  # issue 22 item 6
            by_id("search-slot"), by_id("sidebar"), api=api, capabilities=lambda: self.capabilities, cache=cache,
            me=me, clock=clock, tz_offset=tz_offset, now_iso=_now_iso, on_choose=self.open_at_message,
            report_error=self.report_error)
        # The list follows every live message (AC-15); in a burst that is once per
        # frame, not once per message, and never in the task that appends the message.
        self.list_frame = FrameScheduler(self._render_list_now)
        self.unsubscribe = [cache.subscribe(self._render_list, key) for key in (CONVERSATIONS_KEY, UNREAD_COUNT_KEY)]
        show_screen("messages")
        self.poll_timer = WakeTimer(self._on_poll_timer)
        # Issue 22, point 5: on the server when it offers them, else in this browser for this user.
        self.saved_replies = SavedReplies(api, ReplyBook(storage, me["id"], _now_iso), lambda: self.capabilities)
        self.listeners.add(by_id("saved-replies-open"), "click", self._open_saved_replies)
        self.chat = OpenChat(controller_factory(
            host=by_id("main"), cache=cache, api=api, tokens=tokens, me=me, storage=storage, clock=clock,
            api_base=config.api_base, ws_base=config.ws_base, tz_offset=tz_offset, drafts=self.drafts,
            debug=debug, capabilities=lambda: self.capabilities, saved_replies=self.saved_replies),
            on_event=self._on_chat_event)
        self.held = HeldOutboxes(me["id"], api, storage, clock, on_sent=self._held_sent,
                                 on_outcome=self._send_outcome, on_error=self.report_error)
        self.held.restore()
        # The optional inbox socket (CONTRACT "Inbox socket"), started once the list is in.
        self.make_inbox = lambda: InboxSocket(tokens, config.ws_base, on_live=self._on_inbox_live,
                                              on_events=self._on_inbox_events, debug=debug)
        self.inbox = None
        # CONTRACT "Optional features": none until the backend says (core/capabilities.py).
        self.capabilities = NO_CAPABILITIES
        self.capabilities_known = self.capabilities_asking = False
        self.capabilities_again = False  # a chat opened while an ask was out: ask again if it fails
        # Desktop notifications follow the list in the cache (issue 22 point 1, web/notifier.py).
        self.notifier = Notifier(me, cache=cache, storage=storage, clock=clock,
                                 open_conversation=self.open_conversation, open_id=lambda: self.chat.cid,
                                 list_view=self.list_view)
        # The offline copy (issue 22 item 2): shown at once when the page opened without a
        # network (`offline_seed`), kept up to date while the page runs.
        self.keeper = OfflineKeeper(cache, offline_store, me, clock, seed=offline_seed,
                                    on_online=lambda: asyncio.ensure_future(self.fetch(CONVERSATIONS_KEY)))

    def _on_focus_taken(self, _event):
        self.focus_taken = True

    def _in_list(self, cid):
        return self.session is not None and self.session.conversation(cid) is not None

    async def load(self):
        """The list's first answers, then the inbox socket, then the chat the URL or tab names."""
        await self.fetch(CONVERSATIONS_KEY)
        await self.fetch(UNREAD_COUNT_KEY)
        self._schedule_poll()
        if self.session is None:
            return  # ended while loading
        self.inbox = self.make_inbox()
        self._tell_inbox_carried()
        self.inbox.start()
        asyncio.ensure_future(self.fetch_capabilities())
        js.document.body.setAttribute("data-app-state", "messages")
        # The chat view's modules are imported on the first open; once the list is on screen,
        # import them ahead of it so that first open is not slower.
        asyncio.get_event_loop().call_later(CHAT_IMPORT_DELAY_S, _import_chat_view)
        linked = self.router.reopen(self._in_list)
        if linked is not None:
            self.open_conversation(linked)
        elif not self.focus_taken:
            # After sign-in, focus goes to the list, unless the trainer has already put it
            # somewhere on this screen while the list's answers came (not taken back from them).
            self.list_view.focus_row(None)

    def _open_saved_replies(self, _event):
        open_saved_replies(self.saved_replies, by_id("saved-replies-open"))

    # ----- the list ------------------------------------------------------------------------

    def _render_list(self, _key=None):
        first = not self.list_view.rows
        if js.document.visibilityState == "visible" and not first:
            self.list_frame.request()
        else:
            self._render_list_now()  # the first render (boot) at once; a hidden tab gets no frames

    def _render_list_now(self):
        if self.session is None:
            return
        total = self.session.unread_total()
        self.list_view.render(self.cache.get_query_data(CONVERSATIONS_KEY) or [], total)
        self.tab.show(total)

    async def fetch(self, key):
        """GET the conversation list or the unread total; the session takes the answer."""
        call = self.api.conversations if key == CONVERSATIONS_KEY else self.api.unread_count
        try:
            data = await call()
        except Exception as exc:
            self.report_error(exc)
            if self.session is not None:
                self.session.fetch_failed(key, self.clock())
            return
        if self.session is None:
            return
        if key == CONVERSATIONS_KEY:
            self.session.conversations_loaded(data, self.clock(), chat_visible=self.chat.is_visible())
            self.keeper.server_heard()
        else:
            self.session.unread_loaded(data, self.clock())
        self.held.server_heard()  # after the list is written: a held send's answer updates its row
        if key == CONVERSATIONS_KEY and not self.capabilities_known and self.inbox is not None:
            asyncio.ensure_future(self.fetch_capabilities())  # the first ask had failed

    async def fetch_capabilities(self):
        """Ask once which optional features the backend offers; a failed ask (no network, a
        5xx) is asked again after the next list answer, a 404/405 means none (core/api_client)."""
        if self.capabilities_known or self.capabilities_asking:
            return
        self.capabilities_asking = True
        try:
            capabilities = await self.api.capabilities()
        except Exception as exc:
            self.report_error(exc)
            capabilities = None
        finally:
            self.capabilities_asking = False
        if self.session is None:
            return
        if capabilities is None:
            if self.capabilities_again:  # the chat that opened meanwhile asks once more, now
                self.capabilities_again = False
                asyncio.ensure_future(self.fetch_capabilities())
            return
        self.capabilities, self.capabilities_known = capabilities, True
        js.document.body.setAttribute("data-capabilities", " ".join(
            name for name in FEATURES if getattr(capabilities, name)))
        self.search.capabilities_changed()  # a search typed before the answer asks the server now

    # ----- opening and closing the chat ------------------------------------------------------

    def open_conversation(self, cid, from_history=False):
        conversation = self.session.conversation(cid) if self.session is not None else None
        if conversation is None:
            return
        self.router.opened(cid, from_history)
        if self.chat.is_open(cid):
            show_chat_screen(True)
            self.chat.focus()
            return
        self._close_chat()
        by_id("chat-placeholder").hidden = True
        self.list_view.select(cid)
        self.router.remember(cid)
        # The chat takes this conversation's held sends; closing it gives them back.
        self.chat.open(conversation, self.held.take(cid))
        self.notifier.chat_opened(cid)
        if not self.capabilities_known:
            # The first ask had failed, or is still out (then it is asked again if it fails).
            self.capabilities_again = self.capabilities_asking
            asyncio.ensure_future(self.fetch_capabilities())
        show_chat_screen(True)
        self.chat.start()
        self._chat_changed()
        self.chat.focus()

    def open_at_message(self, cid, message_id):
        """A search result: its conversation, scrolled to that message (older pages as needed)."""
        self.open_conversation(cid)
        if self.chat.is_open(cid):
            self.chat.reveal(message_id)

    def _search_here(self, cid):
        """The chat header's search button: the list pane's box, scoped to this conversation."""
        if js.window.matchMedia("(max-width: 720px)").matches:
            show_chat_screen(False)  # a phone shows one pane: the box is in the list's
        self.search.search_here(cid)

    def navigate(self, step, cid):
        """Back or Forward (core/chat_routing.py decided the step)."""
        if self.session is None:
            return
        if step is Navigation.OPEN:
            self.open_conversation(cid, from_history=True)
        elif step is Navigation.TO_LIST:
            self._close_to_list()

    def _close_to_list(self):
        """Back to the list (phone width): the chat leaves the screen."""
        cid = self.chat.cid
        self._close_chat()
        self.router.closed()
        self.list_view.select(None)
        by_id("chat-placeholder").hidden = False
        show_chat_screen(False)
        self._chat_changed()
        if cid is not None:
            self.list_view.focus_row(cid)

    def _close_chat(self):
        handed_back = self.chat.close()
        if handed_back is not None:
            self.held.give_back(*handed_back)

    # ----- what the open chat and the inbox socket say -------------------------------------------

    def _on_chat_event(self, event):
        kind = type(event)
        if kind is ev.LateSendOutcome:
            self._send_outcome(event.conversation_id, event.client_message_id, event.message, event.error)
        elif kind is ev.CallFailed:
            self.report_error(event.error)
        elif kind is ev.BackAsked:
            if not self.router.leave():
                self._close_to_list()
        elif kind is ev.SearchAsked:
            self._search_here(event.conversation_id)
        elif self.session is None:
            return
        elif kind is ev.ServerAnswered:
            self.held.server_heard()
        elif kind is oc.NewMessages:
            self.session.messages_added(event.conversation_id, list(event.messages),
                                        chat_visible=event.chat_visible)
        elif kind is oc.ConversationRead:
            self._run(self.session.conversation_read(event.conversation_id, event.still_unread))
        elif kind is oc.RealtimeChanged:
            self._chat_changed()
            if event.realtime:
                self.held.server_heard()

    def _on_inbox_live(self, live):
        if self.session is not None:
            self._run(self.session.inbox_changed(live, self.clock()))
            self._schedule_poll()
            if live:
                self.held.server_heard()

    def _on_inbox_events(self, events):
        if self.session is not None:
            self._run(self.session.inbox_events(events, self.clock(), chat_visible=self.chat.is_visible()))
            self._schedule_poll()
            self.chat.inbox_events(events)

    def _send_outcome(self, cid, cmid, message, error):
        """A send's answer goes to whoever holds that conversation's outbox now."""
        if not self.chat.take_send_outcome(cid, cmid, message, error):
            self.held.send_outcome(cid, cmid, message, error)
        if error is None:
            self.held.server_heard()

    def _held_sent(self, cid, message):
        if self.session is not None:
            self.session.messages_added(cid, [message], chat_visible=False)

    # ----- polling (AC-9, AC-13, AC-26, AC-27) -------------------------------------------------

    def _chat_changed(self):
        if self.session is None:
            return
        self.session.chat_changed(self.chat.cid, self.chat.realtime, self.clock())
        self.search.chat_changed(self.chat.cid)
        self._tell_inbox_carried()
        self._schedule_poll()

    def _tell_inbox_carried(self):
        """While the open chat's socket is live it brings that chat's messages: the inbox
        drops its copies unread (core/inbox.py)."""
        if self.inbox is not None:
            self.inbox.carried_by_chat(self.chat.cid if self.chat.realtime else None)

    def _schedule_poll(self):
        self.poll_timer.set(self.session.next_wakeup() if self.session is not None else None)

    def _on_poll_timer(self):
        if self.session is None:
            return
        self._run(self.session.tick(self.clock()))
        self._schedule_poll()

    def _run(self, effects):
        for effect in effects:
            if type(effect) is Fetch:
                asyncio.ensure_future(self.fetch(effect.key))
            elif type(effect) is PollMessages:
                self.chat.poll(effect.conversation_id)

    # ----- the end ---------------------------------------------------------------------------

    def end(self, clear_drafts):
        """Signed out (clear_drafts: a shared computer keeps no unsent words) or the session
        ended (the same trainer's drafts wait for their return)."""
        if clear_drafts:
            self.drafts.clear_all()
        self._close_chat()
        self.notifier.stop()
        close_saved_replies()  # nothing of this trainer stays on screen
        self.held.stop()  # what is held stays in storage for this user's next session
        if self.inbox is not None:
            self.inbox.stop()
            self.inbox = None
        self.poll_timer.cancel()
        self.keeper.stop()
        self.session = None
        self.listeners.dispose()
        self.search.dispose()
        for unsubscribe in self.unsubscribe:
            unsubscribe()
        self.list_view.dispose()
        self.tab.show(0)
        js.document.body.removeAttribute("data-capabilities")
        by_id("chat-placeholder").hidden = False
        # Phone width: the next session starts on the list, not on an empty chat screen.
        show_chat_screen(False)
