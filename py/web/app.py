"""The session in the browser: config, tokens, login, the messages page.

Started by main.py. The rules of the list, the unread totals and polling live in
core/session.py (`Session`), those of the open chat in core/open_conversation.py; this
adapter carries their effects out (fetches, timers, screens) and routes the open chat's
session effects (new messages, a read, the socket going up or down) to the session.
"""

import asyncio
import json

import js

from core.api_client import ApiClient, ApiError, NetworkError, make_refresh_call
from core import models
from core.drafts import Drafts
from core.held_sends import HeldSends, MessageSent, PostHeld, stored_conversation_id
from core import open_conversation as oc
from core.prefetch import PrefetchedTransport
from core.session import Fetch, PollMessages, Session
from core.tokens import SessionExpired, TokenManager
import query_cache as qc
from query_cache import CONVERSATIONS_KEY, ME_KEY, UNREAD_COUNT_KEY
from web.send_io import post_send, store_outbox
from web.browser_storage import BrowserStorage
from web.conversation_list_view import ConversationListView
from web.history_nav import HistoryNav
from web.inbox_socket import InboxSocket
from web.tab_badge import TabBadge
from web.timers import WakeTimer, wall_clock
from web.web_dom import FrameScheduler, Listeners, by_id, clear, el
from web.web_early import take_answer
from web.web_http import LocalStorageStore, fetch_transport


# After the first list render, how long to wait before importing the chat view's modules
# (web.chat_controller and what it imports, ~1,300 lines): after the list's first paint.
CHAT_IMPORT_DELAY_S = 0.3


def _import_chat_view():
    import web.chat_controller  # noqa: F401 - loads the module; open_conversation uses it


def _now_iso():
    return js.Date.new().toISOString()


async def load_config():
    """config.json says where the backend is; empty means this page's origin."""
    try:
        response = await js.fetch("./config.json", js.Object.fromEntries([["cache", "no-cache"]]))
        data = json.loads(await response.text()) if response.ok else {}
    except Exception:
        data = {}
    if not isinstance(data, dict):
        data = {}
    api_base = data.get("api_base") if isinstance(data.get("api_base"), str) else ""
    ws_base = data.get("ws_base") if isinstance(data.get("ws_base"), str) else ""
    return api_base.rstrip("/"), ws_base.rstrip("/")


class App:
    def __init__(self, api_base, ws_base):
        self.api_base = api_base
        self.ws_base = ws_base
        self.debug = "debug" in str(js.location.search)
        self.tz_offset = int(js.Date.new().getTimezoneOffset())
        self.cache = qc.QueryCache(clock=wall_clock)
        self.tokens = TokenManager(LocalStorageStore(), make_refresh_call(api_base, fetch_transport),
                                   wall_clock, on_session_end=self._on_session_end)
        # The first screen's calls may already be answered (static/early.js, py/core/prefetch.py).
        self.api = ApiClient(api_base, PrefetchedTransport(fetch_transport, take_answer), self.tokens)
        self.me = None
        self.drafts = None  # unsent composer text per conversation (issue 14)
        self.tab = TabBadge()  # the unread total in the tab's title and icon (issue 14)
        self.nav = None  # conversation URLs and the Back button (issue 14)
        self.list_view = None
        # The list follows every live message (AC-15); in a burst that is once per
        # frame, not once per message, and never in the task that appends the message.
        self.list_frame = FrameScheduler(self._render_list_now)
        self.chat = None
        self.chat_host = by_id("main")
        self.page_listeners = Listeners()
        self.session_listeners = Listeners()
        self.session = None
        self.poll_timer = WakeTimer(self._on_poll_timer)
        self.inbox = None  # the optional inbox socket (CONTRACT "Inbox socket")
        self.held = None  # held sends of the conversations that are not open (core/held_sends.py)
        self.held_timer = WakeTimer(self._on_held_timer)
        self.ending = False

    # ----- screens ---------------------------------------------------------------------

    def _show(self, screen):
        by_id("boot-screen").hidden = True
        by_id("login-screen").hidden = screen != "login"
        by_id("messages-screen").hidden = screen != "messages"
        js.document.body.setAttribute("data-app-state", screen)

    async def start(self):
        form = by_id("login-form")
        self.page_listeners.add(form, "submit", self._on_login_submit)
        self.page_listeners.add(by_id("logout"), "click", lambda e: self.logout())
        self.nav = HistoryNav(self.page_listeners, self._on_navigate)
        if self.tokens.has_session():
            await self.enter_messages()
        else:
            self.show_login()
        js.document.body.setAttribute("data-app-ready", "true")

    def show_login(self, message=None):
        self._show("login")
        self._set_login_error(message)
        by_id("login-submit").disabled = False
        if not by_id("login-form").contains(js.document.activeElement):  # typing since before Python: keep it
            by_id("login-email").focus()

    def _set_login_error(self, message):
        slot = by_id("login-error-slot")
        clear(slot)
        if message:
            slot.appendChild(el("span", "form-error", message,
                                attrs={"data-testid": "login-error", "role": "alert"}))

    def _on_login_submit(self, event):
        event.preventDefault()
        asyncio.ensure_future(self._login())

    async def _login(self):
        email = by_id("login-email").value.strip()
        password = by_id("login-password").value
        if not email or not password:
            self._set_login_error("Enter your email and password.")
            by_id("login-email" if not email else "login-password").focus()
            return
        button = by_id("login-submit")
        button.disabled = True
        self._set_login_error(None)
        try:
            await self.api.login(email, password)
        except ApiError as exc:
            button.disabled = False
            if exc.status == 401:
                self._set_login_error("That email and password don't match an account.")
                by_id("login-password").select()
                by_id("login-password").focus()
            elif exc.status == 429:
                self._set_login_error("Too many attempts. Wait a minute and try again.")
            else:
                self._set_login_error("Sign-in failed (" + str(exc.status) + "). Try again.")
            if exc.status != 401:
                button.focus()  # nothing to correct in a field: the way to try again
            return
        except Exception:
            button.disabled = False
            self._set_login_error("Can't reach the server. Check your connection and try again.")
            button.focus()
            return
        by_id("login-password").value = ""
        await self.enter_messages()

    # ----- messages page -------------------------------------------------------------------

    async def enter_messages(self):
        try:
            me = models.parse_user(await self.api.me())
        except SessionExpired:
            return
        except Exception:
            me = None
        if me is None:
            # Not reachable now: keep the session, show the login with a calm note.
            self.show_login("Can't reach the server. Try again in a moment.")
            return
        self.me = me
        self.drafts = Drafts(BrowserStorage(), me["id"])
        self.cache.set_query_data(ME_KEY, me)
        by_id("me-name").textContent = (me.get("first_name") or "") + " " + (me.get("last_name") or "")
        self.list_view = ConversationListView(
            by_id("conversation-list"), by_id("conversation-empty"), by_id("unread-total"), me,
            tz_offset=self.tz_offset, now_iso=_now_iso, on_open=self.open_conversation)
        self.session_listeners.add(by_id("conversation-list"), "keydown", self._on_list_keydown)
        self.unsub_list = self.cache.subscribe(self._render_list, CONVERSATIONS_KEY)
        self.unsub_unread = self.cache.subscribe(self._render_list, UNREAD_COUNT_KEY)
        self._show("messages")
        self.session = Session(self.cache, me, wall_clock())
        self.held = HeldSends(me["id"])
        self._run_held(self.held.restore(self._stored_outboxes(me["id"]), wall_clock()))
        await self.fetch(CONVERSATIONS_KEY)
        await self.fetch(UNREAD_COUNT_KEY)
        self._schedule_poll()
        if self.session is not None and self.inbox is None:
            self.inbox = InboxSocket(self.tokens, self.ws_base, on_live=self._on_inbox_live,
                                     on_events=self._on_inbox_events, debug=self.debug)
            self._tell_inbox_carried()
            self.inbox.start()
        js.document.body.setAttribute("data-app-state", "messages")
        # The chat view's modules are imported on the first open; once the list is on screen,
        # import them ahead of it so that first open is not slower.
        asyncio.get_event_loop().call_later(CHAT_IMPORT_DELAY_S, _import_chat_view)
        # Reopen the conversation the URL names (a deep link, a reload) or the trainer had open.
        linked = self.nav.current()
        remembered = js.sessionStorage.getItem("open_conversation")
        if linked is None and isinstance(remembered, str) and remembered.isdigit():
            linked = int(remembered)
        if linked is not None and self.session is not None and self.session.conversation(linked) is not None:
            self.nav.start_at(linked)
            self.open_conversation(linked)
        else:
            self.nav.reset()
            if self.list_view is not None:
                self.list_view.focus_row(None)  # after sign-in, focus goes to the list

    def _render_list(self, _key=None):
        first = self.list_view is not None and not self.list_view.rows
        if js.document.visibilityState == "visible" and not first:
            self.list_frame.request()
        else:
            self._render_list_now()  # the first render (boot) at once; a hidden tab gets no frames

    def _render_list_now(self):
        if self.list_view is None or self.session is None:
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
                self.session.fetch_failed(key, wall_clock())
            return
        if self.session is None:
            return
        if key == CONVERSATIONS_KEY:
            visible = self.chat is not None and self.chat.is_visible()
            self.session.conversations_loaded(data, wall_clock(), chat_visible=visible)
        else:
            self.session.unread_loaded(data, wall_clock())
        self._server_heard()  # after the list is written: a held send's answer updates its row

    def _on_list_keydown(self, event):
        # Arrow keys move between conversations; Enter/Space activate (native button).
        if event.key not in ("ArrowDown", "ArrowUp"):
            return
        items = js.document.querySelectorAll("[data-testid=conversation-item]")
        count = items.length
        if not count:
            return
        current = js.document.activeElement
        index = -1
        for i in range(count):
            if items.item(i) == current:
                index = i
        step = 1 if event.key == "ArrowDown" else -1
        nxt = items.item(max(0, min(count - 1, index + step)))
        nxt.focus()
        event.preventDefault()

    def open_conversation(self, cid, from_history=False):
        conversation = self.session.conversation(cid) if self.session is not None else None
        if conversation is None:
            return
        if not from_history:
            self.nav.opened(cid)
        if self.chat is not None and self.chat.cid == cid:
            self._show_chat_screen(True)
            self.chat.focus_input()
            return
        self._close_chat()
        from web.chat_controller import ChatController  # not at start-up: the list needs none of it
        by_id("chat-placeholder").hidden = True
        self.list_view.select(cid)
        js.sessionStorage.setItem("open_conversation", str(cid))
        self.chat = ChatController(
            self.chat_host, self.cache, self.api, self.tokens, conversation, self.me,
            api_base=self.api_base, ws_base=self.ws_base, tz_offset=self.tz_offset,
            on_session_effect=self._on_chat_effect, on_back=self.close_conversation,
            report_error=self.report_error, drafts=self.drafts, debug=self.debug,
            # The chat takes this conversation's held sends; closing it gives them back.
            handed=self.held.take(cid) if self.held is not None else None,
            on_late_send=self._send_outcome, on_server_answer=self._server_heard)
        self._show_chat_screen(True)
        self.chat.start()
        self.on_realtime_changed()
        self.chat.focus_input()

    def _show_chat_screen(self, open_):
        by_id("layout").classList.toggle("chat-open", open_)

    def _on_navigate(self, cid):
        """Back or Forward: the URL names a conversation, or the list."""
        if self.session is None:
            return
        if cid is not None and self.session.conversation(cid) is not None:
            self.open_conversation(cid, from_history=True)
        elif self.chat is not None:
            self._close_to_list()

    def close_conversation(self):
        """The chat's back button (phone width): like the browser's Back."""
        if not self.nav.leave():
            self._close_to_list()

    def _close_to_list(self):
        """Back to the list (phone width): the chat leaves the screen."""
        cid = self.chat.cid if self.chat is not None else None
        self._close_chat()
        js.sessionStorage.removeItem("open_conversation")
        self.list_view.select(None)
        by_id("chat-placeholder").hidden = False
        self._show_chat_screen(False)
        self.on_realtime_changed()
        if cid is not None:
            self.list_view.focus_row(cid)

    def _close_chat(self):
        if self.chat is not None:
            chat, self.chat = self.chat, None
            chat.dispose()
            if self.held is not None:
                self._run_held(self.held.give_back(*chat.hand_over(), wall_clock()))

    # ----- the open chat's effects on the session ---------------------------------------------

    def _on_chat_effect(self, effect):
        if self.session is None:
            return
        kind = type(effect)
        if kind is oc.NewMessages:
            self.session.messages_added(effect.conversation_id, list(effect.messages),
                                        chat_visible=effect.chat_visible)
        elif kind is oc.ConversationRead:
            self._run(self.session.conversation_read(effect.conversation_id, effect.still_unread))
        elif kind is oc.RealtimeChanged:
            self.on_realtime_changed()
            if effect.realtime:
                self._server_heard()

    # ----- the inbox socket's effects on the session -------------------------------------------

    def _on_inbox_live(self, live):
        if self.session is not None:
            self._run(self.session.inbox_changed(live, wall_clock()))
            self._schedule_poll()
            if live:
                self._server_heard()

    def _on_inbox_events(self, events):
        if self.session is not None:
            visible = self.chat is not None and self.chat.is_visible()
            self._run(self.session.inbox_events(events, wall_clock(), chat_visible=visible))
            self._schedule_poll()
            if self.chat is not None:
                self.chat.inbox_events(events)  # taken only while the chat's own socket is down

    # ----- held sends of the conversations that are not open (core/held_sends.py) -------------

    def _stored_outboxes(self, my_user_id):
        """Every outbox this user left in localStorage, by conversation id."""
        try:
            storage = js.localStorage
            keys = [storage.key(i) for i in range(int(storage.length))]
            found = {}
            for key in keys:
                cid = stored_conversation_id(key, my_user_id)
                text = storage.getItem(key) if cid is not None else None
                if isinstance(text, str):
                    found[cid] = text
            return found
        except Exception:
            return {}  # storage blocked: nothing was kept

    def _server_heard(self):
        """The server answered (a fetch, a send, a socket): held sends go now."""
        if self.held is not None:
            self._run_held(self.held.server_heard(wall_clock()))

    def _send_outcome(self, cid, cmid, message, error):
        """A send's answer goes to whoever holds that conversation's outbox now."""
        if self.chat is not None and self.chat.cid == cid:
            self.chat.send_outcome(cmid, message, error)
        elif self.held is not None:
            now = wall_clock()
            if error is None:
                self._run_held(self.held.send_answered(cid, cmid, message, now))
            else:
                self._run_held(self.held.send_failed(cid, cmid, error, now))
        if error is None:
            self._server_heard()

    async def _post_held(self, post):
        try:
            message = await post_send(self.api, post.conversation_id, post.client_message_id,
                                      post.content, post.attachment)
        except Exception as exc:
            self.report_error(exc)
            self._send_outcome(post.conversation_id, post.client_message_id, None, exc)
            return
        self._send_outcome(post.conversation_id, post.client_message_id, message, None)

    def _on_held_timer(self):
        if self.held is not None:
            self._run_held(self.held.tick(wall_clock()))

    def _run_held(self, effects):
        for effect in effects:
            kind = type(effect)
            if kind is PostHeld:
                asyncio.ensure_future(self._post_held(effect))
            elif kind is MessageSent:
                if self.session is not None:
                    self.session.messages_added(effect.conversation_id, [effect.message], chat_visible=False)
            else:  # StoreOutbox
                store_outbox(effect)
        self.held_timer.set(self.held.next_wakeup() if self.held is not None else None)

    # ----- polling (AC-9, AC-13, AC-26, AC-27) -------------------------------------------------

    def on_realtime_changed(self):
        if self.session is None:
            return
        chat = self.chat
        self.session.chat_changed(chat.cid if chat is not None else None,
                                  chat is not None and chat.realtime, wall_clock())
        self._tell_inbox_carried()
        self._schedule_poll()

    def _tell_inbox_carried(self):
        """While the open chat's socket is live it brings that chat's messages: the inbox
        drops its copies unread (core/inbox.py)."""
        chat = self.chat
        if self.inbox is not None:
            self.inbox.carried_by_chat(chat.cid if chat is not None and chat.realtime else None)

    def _schedule_poll(self):
        self.poll_timer.set(self.session.next_wakeup() if self.session is not None else None)

    def _on_poll_timer(self):
        if self.session is None:
            return
        self._run(self.session.tick(wall_clock()))
        self._schedule_poll()

    def _run(self, effects):
        for effect in effects:
            if type(effect) is Fetch:
                asyncio.ensure_future(self.fetch(effect.key))
            elif type(effect) is PollMessages:
                if self.chat is not None and self.chat.cid == effect.conversation_id:
                    self.chat.poll()

    # ----- errors and session end -------------------------------------------------------------

    def report_error(self, exc):
        """A failed call whose outcome the cores decide: only an unexpected one is logged (?debug)."""
        if self.debug and not isinstance(exc, (SessionExpired, ApiError, NetworkError)):
            js.console.warn("[app]", type(exc).__name__, str(exc))

    def _on_session_end(self):
        if not self.ending:
            self.ending = True
            asyncio.get_event_loop().call_soon(self._end_session, "Your session has ended. Please sign in again.")

    def logout(self):
        refresh = self.api.logout()
        self._end_session(None)
        # The server is asked to revoke the session after the page has logged out locally:
        # its answer (or its silence) changes nothing here.
        asyncio.ensure_future(self.api.revoke(refresh))

    def _end_session(self, message):
        if message is None and self.drafts is not None:
            # Logging out (no message: the trainer asked) leaves no unsent words on a shared
            # computer; a session that expired keeps them for the same trainer's return.
            self.drafts.clear_all()
        self._close_chat()
        self.held = None  # what is held stays in storage for this user's next session
        self.held_timer.cancel()
        if self.inbox is not None:
            self.inbox.stop()
            self.inbox = None
        self.poll_timer.cancel()
        self.session = None
        self.session_listeners.dispose()
        if self.list_view is not None:
            self.unsub_list()
            self.unsub_unread()
            self.list_view.dispose()
            self.list_view = None
        self.cache.clear()
        js.sessionStorage.removeItem("open_conversation")
        self.me = None
        self.drafts = None
        self.tab.show(0)
        by_id("chat-placeholder").hidden = False
        # Phone width: the next session starts on the list, not on an empty chat screen.
        self._show_chat_screen(False)
        self.ending = False
        if self.nav is not None:
            self.nav.reset()
        self.show_login(message)
