"""The session: config, tokens, login, the messages page, polling.

Started by main.py. Everything browser-specific happens through the
web_* adapters next to it; the rules live in core/.
"""

import asyncio
import json

import js

from core.api_client import ApiClient, ApiError, NetworkError, make_refresh_call
from core import conversation_ops
from core import models
from core.polling import PollScheduler
from core.prefetch import PrefetchedTransport
from core.tokens import SessionExpired, TokenManager
import query_cache as qc
from web.chat_controller import ChatController
from web.conversation_list_view import ConversationListView
from web.web_dom import FrameScheduler, Listeners, by_id, clear, el
from web.web_early import take_answer
from web.web_http import LocalStorageStore, fetch_transport
from web.web_socket import wall_clock

CONVERSATIONS = ("conversations",)
UNREAD = ("unread_count",)


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
        self.list_view = None
        # The list follows every live message (AC-15); in a burst that is once per
        # frame, not once per message, and never in the task that appends the message.
        self.list_frame = FrameScheduler(self._render_list_now)
        self.chat = None
        self.chat_host = by_id("main")
        self.page_listeners = Listeners()
        self.session_listeners = Listeners()
        self.poller = None
        self.poll_timer = None
        self.polls_running = set()
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
        self.page_listeners.add(js.document, "visibilitychange", self._on_visibility)
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
            elif exc.status == 429:
                self._set_login_error("Too many attempts. Wait a minute and try again.")
            else:
                self._set_login_error("Sign-in failed (" + str(exc.status) + "). Try again.")
            return
        except Exception:
            button.disabled = False
            self._set_login_error("Can't reach the server. Check your connection and try again.")
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
        self.cache.set_query_data(("me",), me)
        by_id("me-name").textContent = (me.get("first_name") or "") + " " + (me.get("last_name") or "")
        self.list_view = ConversationListView(
            by_id("conversation-list"), by_id("conversation-empty"), by_id("unread-total"), me,
            tz_offset=self.tz_offset, now_iso=_now_iso, on_open=self.open_conversation)
        self.session_listeners.add(by_id("conversation-list"), "keydown", self._on_list_keydown)
        self.unsub_list = self.cache.subscribe(self._render_list, CONVERSATIONS)
        self.unsub_unread = self.cache.subscribe(self._render_list, UNREAD)
        self._show("messages")
        self.poller = PollScheduler(wall_clock())
        await self.fetch_conversations()
        await self.fetch_unread()
        self._schedule_poll()
        js.document.body.setAttribute("data-app-state", "messages")
        # Reopen the conversation the trainer had open (a reload keeps the place).
        remembered = js.sessionStorage.getItem("open_conversation")
        if isinstance(remembered, str) and remembered.isdigit():
            cid = int(remembered)
            if self._conversation(cid) is not None:
                self.open_conversation(cid)

    def _conversation(self, cid):
        for c in self.cache.get_query_data(CONVERSATIONS) or []:
            if c["id"] == cid:
                return c
        return None

    def _render_list(self, _key=None):
        first = self.list_view is not None and not self.list_view.rows
        if js.document.visibilityState == "visible" and not first:
            self.list_frame.request()
        else:
            self._render_list_now()  # the first render (boot) at once; a hidden tab gets no frames

    def _render_list_now(self):
        if self.list_view is None:
            return
        conversations = self.cache.get_query_data(CONVERSATIONS) or []
        total = self.cache.get_query_data(UNREAD)
        if not isinstance(total, int):
            total = conversation_ops.total_unread(conversations)
        self.list_view.render(conversations, total)

    async def fetch_conversations(self):
        try:
            data = await self.api.conversations()
        except Exception as exc:
            self.handle_error(exc, None, None)
            return
        if not isinstance(data, list):
            return
        conversations = [c for c in (models.parse_conversation(x) for x in data) if c is not None]
        open_id = self.chat.cid if self.chat is not None else None
        if open_id is not None and self.chat.view.is_visible():
            conversations = conversation_ops.set_unread(conversations, open_id, 0)
        self.cache.set_query_data(CONVERSATIONS, conversation_ops.sort_conversations(conversations))

    async def fetch_unread(self):
        try:
            data = await self.api.unread_count()
        except Exception as exc:
            self.handle_error(exc, None, None)
            return
        if isinstance(data, dict) and isinstance(data.get("unread_count"), int) and not isinstance(data.get("unread_count"), bool):
            self.cache.set_query_data(UNREAD, max(0, data["unread_count"]))

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

    def open_conversation(self, cid):
        conversation = self._conversation(cid)
        if conversation is None:
            return
        if self.chat is not None and self.chat.cid == cid:
            self._show_chat_screen(True)
            self.chat.view.focus_input()
            return
        self._close_chat()
        by_id("chat-placeholder").hidden = True
        self.list_view.select(cid)
        js.sessionStorage.setItem("open_conversation", str(cid))
        self.chat = ChatController(self, conversation)
        self._show_chat_screen(True)
        self.chat.start()
        self.on_realtime_changed()
        self.chat.view.focus_input()

    def _show_chat_screen(self, open_):
        by_id("layout").classList.toggle("chat-open", open_)

    def close_conversation(self):
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
            self.chat.dispose()
            self.chat = None

    # ----- cache updates from the open chat ---------------------------------------------------

    def on_new_messages(self, cid, messages, chat_visible=None):
        """AC-15: preview, time and order follow new messages without a refetch.

        chat_visible: whether the open chat of `cid` is on screen, if the caller knows."""
        open_chat = self.chat is not None and self.chat.cid == cid
        if open_chat and chat_visible is None:
            chat_visible = self.chat.view.is_visible()
        open_visible = open_chat and bool(chat_visible)

        def update(conversations):
            result = conversations or []
            for message in messages:
                result = conversation_ops.apply_new_message(
                    result, message, my_user_id=self.me["id"], open_conversation_id=cid if open_visible else None,
                    chat_visible=open_visible)
            return result
        # The total badge follows the rows: a message nobody is looking at is one more unread.
        unseen = 0 if open_visible else sum(1 for m in messages if m["sender"]["id"] != self.me["id"])
        with self.cache.batch():
            self.cache.set_query_data(CONVERSATIONS, update)
            total = self.cache.get_query_data(UNREAD)
            if unseen and isinstance(total, int):
                self.cache.set_query_data(UNREAD, total + unseen)

    def on_conversation_read(self, cid):
        conversations = self.cache.get_query_data(CONVERSATIONS) or []
        before = next((c.get("unread_count", 0) for c in conversations if c["id"] == cid), 0)
        with self.cache.batch():
            self.cache.set_query_data(CONVERSATIONS, lambda cs: conversation_ops.set_unread(cs or [], cid, 0))
            total = self.cache.get_query_data(UNREAD)
            if isinstance(total, int) and before:
                self.cache.set_query_data(UNREAD, max(0, total - before))
        # The server's total is asked again only when this read changed it: reading a
        # chat that shows every message as it arrives (unread 0) leaves it as it was,
        # and asking after every live message doubled the requests of a conversation.
        if before or not isinstance(total, int):
            asyncio.ensure_future(self.fetch_unread())

    # ----- polling (AC-9, AC-13, AC-26, AC-27) -------------------------------------------------

    def on_realtime_changed(self):
        if self.poller is None:
            return
        now = wall_clock()
        self.poller.set_open_conversation(self.chat.cid if self.chat is not None else None, now)
        self.poller.set_realtime(self.chat is not None and self.chat.realtime, now)
        self._schedule_poll()

    def _schedule_poll(self):
        if self.poll_timer is not None:
            self.poll_timer.cancel()
            self.poll_timer = None
        if self.poller is None:
            return
        wake = self.poller.next_wakeup()
        if wake is not None:
            delay = max(0.0, wake - wall_clock())
            self.poll_timer = asyncio.get_event_loop().call_later(delay, self._on_poll_timer)

    def _on_poll_timer(self):
        self.poll_timer = None
        if self.poller is None:
            return
        for key in self.poller.due(wall_clock()):
            asyncio.ensure_future(self._poll(key))
        self._schedule_poll()

    async def _poll(self, key):
        if key in self.polls_running:
            return
        self.polls_running.add(key)
        try:
            if key == CONVERSATIONS:
                await self.fetch_conversations()
            elif key == UNREAD:
                await self.fetch_unread()
            elif isinstance(key, tuple) and key and key[0] == "messages":
                if self.chat is not None and self.chat.cid == key[1]:
                    await self.chat.poll()
        finally:
            self.polls_running.discard(key)

    def _on_visibility(self, _event):
        if js.document.visibilityState == "visible" and self.chat is not None:
            # AC-28 also covers messages that arrived while the tab was hidden.
            log = self.cache.get_query_data(qc.messages_key(self.chat.cid))
            other = self.chat.other.get("id")
            # The log keeps its unread ids, so this never copies the whole history.
            if log is not None and any(log.get(i)["sender"]["id"] == other for i in log.unread_ids()):
                self.chat.mark_read()

    # ----- errors and session end -------------------------------------------------------------

    def handle_error(self, exc, show, fallback_text):
        """Turn any failure into a calm outcome; returns a short description."""
        if isinstance(exc, SessionExpired):
            return "Session ended"
        if isinstance(exc, ApiError):
            text = exc.detail if isinstance(exc.detail, str) and exc.detail else fallback_text
        elif isinstance(exc, NetworkError):
            text = "Offline: will retry."
        else:
            text = fallback_text
            if self.debug:
                js.console.warn("[app]", type(exc).__name__, str(exc))
        if show is not None and text:
            show(text)
        return text

    def _on_session_end(self):
        if not self.ending:
            self.ending = True
            asyncio.get_event_loop().call_soon(self._end_session, "Your session has ended. Please sign in again.")

    def logout(self):
        self.tokens.clear()
        self._end_session(None)

    def _end_session(self, message):
        self._close_chat()
        if self.poll_timer is not None:
            self.poll_timer.cancel()
            self.poll_timer = None
        self.poller = None
        self.session_listeners.dispose()
        if self.list_view is not None:
            self.unsub_list()
            self.unsub_unread()
            self.list_view.dispose()
            self.list_view = None
        self.cache.clear()
        js.sessionStorage.removeItem("open_conversation")
        self.me = None
        by_id("chat-placeholder").hidden = False
        # Phone width: the next session starts on the list, not on an empty chat screen.
        self._show_chat_screen(False)
        self.ending = False
        self.show_login(message)
