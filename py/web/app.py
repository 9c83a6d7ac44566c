"""The app in the browser: the composition root. It builds the parts and wires them, nothing else.

Started by main.py with what it must not reach for itself: the site config (config.json), the
clock and the browser's storages. The parts, one owner each:

- web/login_screen.py   the login form and one sign-in at a time
- web/chat_router.py    the conversation URLs, deep links, Back and Forward (core/chat_routing.py)
- web/messages_page.py  one signed-in session: the list (its keys, web/list_keyboard.py), its
                        polling, the inbox socket, held sends, and the open chat's lifecycle
                        (web/open_chat.py, which talks to web/chat_controller.py)

The session's rules live in core/session.py, the open chat's in core/open_conversation.py.
"""

import asyncio

import js

from core.api_client import ApiClient, make_refresh_call
from core import models
from core.prefetch import PrefetchedTransport
from core.tokens import SessionExpired, TokenManager
import core.query_cache as qc
from web.chat_router import ChatRouter
from web.login_screen import LoginScreen
from web.messages_page import MessagesPage
from web.tab_badge import TabBadge
from web.web_dom import Listeners, by_id
from web.web_early import take_answer
from web.web_http import fetch_transport


class App:
    """    app = App(config, clock=wall_clock, local=BrowserStorage(js.localStorage),
                  session_storage=BrowserStorage(js.sessionStorage), tokens_store=LocalStorageStore(),
                  debug=False, tz_offset=...)
        await app.start()
    """

    def __init__(self, config, *, clock, local, session_storage, tokens_store, debug, tz_offset):
        self.config = config
        self.clock = clock
        self.local = local
        self.debug = debug
        self.tz_offset = tz_offset
        self.cache = qc.QueryCache(clock=clock)
        self.tokens = TokenManager(tokens_store, make_refresh_call(config.api_base, fetch_transport),
                                   clock, on_session_end=self._on_session_end)
        # The first screen's calls may already be answered (static/early.js, py/core/prefetch.py).
        self.api = ApiClient(config.api_base, PrefetchedTransport(fetch_transport, take_answer), self.tokens)
        self.tab = TabBadge()  # the unread total in the tab's title and icon (issue 14)
        self.listeners = Listeners()
        self.login = LoginScreen(self.listeners, self.api, on_signed_in=self.enter_messages)
        self.router = ChatRouter(self.listeners, session_storage, on_navigate=self._on_navigate)
        self.listeners.add(by_id("logout"), "click", lambda e: self.logout())
        self.page = None  # the messages page while signed in
        self.ending = False

    async def start(self):
        if self.tokens.has_session():
            await self.enter_messages()
        else:
            self.login.show()
        js.document.body.setAttribute("data-app-ready", "true")

    async def enter_messages(self):
        try:
            me = models.parse_user(await self.api.me())
        except SessionExpired:
            return
        except Exception:
            me = None
        if me is None:
            # Not reachable now: keep the session, show the login with a calm note.
            self.login.show("Can't reach the server. Try again in a moment.")
            return
        self.tab.for_role(me.get("role"))
        self.page = MessagesPage(me, cache=self.cache, api=self.api, tokens=self.tokens, config=self.config,
                                 router=self.router, tab=self.tab, clock=self.clock, storage=self.local,
                                 debug=self.debug, tz_offset=self.tz_offset)
        await self.page.load()

    def _on_navigate(self, step, cid):
        if self.page is not None:
            self.page.navigate(step, cid)

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
        if self.page is not None:
            # Logging out (no message: the trainer asked) leaves no unsent words on a shared
            # computer; a session that expired keeps them for the same trainer's return.
            self.page.end(clear_drafts=message is None)
            self.page = None
        self.tab.for_role(None)
        self.cache.clear()
        self.router.reset()
        self.ending = False
        self.login.show(message)
