"""The offline copy in the browser (issue 22 item 2): IndexedDB through static/offline-db.js,
one record per user (core/offline_cache.py decides what a record holds and whose it is).

    store = OfflineStore(local)               # local: web/browser_storage.BrowserStorage
    copy = await store.session_copy()         # offline boot: the stored session's user's copy
    store.signed_in(me["id"])                 # online: this browser's session is this user's
    keeper = OfflineKeeper(cache, store, me, clock, seed=copy, on_online=refresh)
    keeper.server_heard()                     # the list answered: no longer "offline"
    keeper.stop()
    store.forget()                            # logout: every copy goes

Which user's copy may show: the one localStorage names as this browser's session (set when
that user's /me answered, removed at logout) and only when the record says the same user id.
"""

import asyncio

import js

from core import offline_cache as offline
from core.message_log import MessageLog
from core.query_cache import CONVERSATIONS_KEY, UNREAD_COUNT_KEY, messages_key
from web.timers import WakeTimer
from web.web_dom import Listeners, by_id

SESSION_USER_KEY = "offline_user"  # localStorage: whose session this browser holds
NOTE_ID = "offline-note"
OFFLINE_ATTRIBUTE = "data-offline"


def _record_key(user_id):
    return f"user:{user_id}"


def _db():
    return getattr(js, "coachlineOfflineDb", None)


def _quietly(promise):
    """Carry out a storage call whose failure changes nothing (a full or blocked store)."""
    async def run():
        try:
            await promise
        except Exception:  # noqa: BLE001 - nothing kept is the calm outcome
            pass
    if promise is not None:
        asyncio.ensure_future(run())


class OfflineStore:
    def __init__(self, local):
        self.local = local

    async def session_copy(self):
        """The copy of the user whose session this browser holds, or None."""
        try:
            user_id = offline.parse_user_id(self.local.get_item(SESSION_USER_KEY))
        except Exception:  # noqa: BLE001 - storage turned off
            return None
        db = _db()
        if user_id is None or db is None:
            return None
        try:
            text = await db.get(_record_key(user_id))
        except Exception:  # noqa: BLE001
            return None
        return offline.read_copy(text, user_id=user_id)

    def signed_in(self, user_id):
        """The server named this session's user: only that user's copy stays."""
        try:
            self.local.set_item(SESSION_USER_KEY, str(user_id))
        except Exception:  # noqa: BLE001
            pass
        db = _db()
        _quietly(db.keepOnly(_record_key(user_id)) if db is not None else None)

    async def write(self, copy):
        db = _db()
        if db is not None:
            await db.put(_record_key(copy.user_id), offline.copy_text(copy))

    def forget(self):
        """Logged out: no copy of anyone stays on this browser."""
        try:
            self.local.remove_item(SESSION_USER_KEY)
        except Exception:  # noqa: BLE001
            pass
        db = _db()
        _quietly(db.keepOnly(None) if db is not None else None)


def seed_cache(cache, copy):
    """Put a copy in the query cache, as the server's answers would be (before the page loads)."""
    with cache.batch():
        cache.set_query_data(CONVERSATIONS_KEY, [dict(c) for c in copy.conversations])
        if copy.unread_count is not None:
            cache.set_query_data(UNREAD_COUNT_KEY, copy.unread_count)
        for cid in copy.recent:
            log = MessageLog(conversation_id=cid)
            # Older messages may exist: the server is asked for them once it answers.
            log.merge([dict(m) for m in copy.messages[cid]], has_more_before=True)
            cache.set_query_data(messages_key(cid), log)


class OfflineKeeper:
    """Keeps the signed-in user's copy up to date (throttled) while the page runs, and shows
    the calm offline note while the page shows a copy the server has not yet refreshed."""

    def __init__(self, cache, store, me, clock, *, seed, on_online):
        self.cache = cache
        self.store = store
        self.me = me
        self.clock = clock
        self.copy = seed
        self.touched = {}  # conversation id -> None, in the order they changed
        self.list_changed = False
        self.throttle = offline.WriteThrottle()
        self.timer = WakeTimer(self._write)
        self.listeners = Listeners()
        self.on_online = on_online
        self.unsubscribe = cache.subscribe(self._changed)
        self.offline = False
        if seed is not None:
            seed_cache(cache, seed)
            self._show_offline(True)
            self.listeners.add(js.window, "online", lambda e: self.on_online())
        else:
            self.store.signed_in(me["id"])

    def server_heard(self):
        """The server answered the list: the page shows live data again."""
        if self.offline:
            self._show_offline(False)
            self.store.signed_in(self.me["id"])
            self.listeners.dispose()

    def _show_offline(self, offline_now):
        self.offline = offline_now
        note = by_id(NOTE_ID)
        if note is not None:
            note.hidden = not offline_now
        if offline_now:
            js.document.body.setAttribute(OFFLINE_ATTRIBUTE, "true")
        else:
            js.document.body.removeAttribute(OFFLINE_ATTRIBUTE)

    def _changed(self, key):
        if key[0] == "messages" and len(key) == 2:
            self.touched.pop(key[1], None)
            self.touched[key[1]] = None
        elif key in (CONVERSATIONS_KEY, UNREAD_COUNT_KEY):
            self.list_changed = True
        else:
            return
        if self.offline:
            return  # what shows is the copy itself (and what was sent meanwhile is held)
        at = self.throttle.changed(self.clock())
        if at is not None:  # else a write is already on its way (None would cancel it)
            self.timer.set(at)

    def _write(self):
        self.throttle.written(self.clock())
        touched, self.touched = self.touched, {}
        pages = {}
        for cid in touched:
            log = self.cache.get_query_data(messages_key(cid))
            if isinstance(log, MessageLog):
                pages[cid] = list(log)
        try:
            self.copy = offline.updated(self.copy, me=self.me, touched=pages,
                                        conversations=self.cache.get_query_data(CONVERSATIONS_KEY),
                                        unread_count=self.cache.get_query_data(UNREAD_COUNT_KEY))
        except ValueError as exc:
            js.console.warn("[offline] no copy:", str(exc))
            return
        copy = self.copy

        async def write():
            try:
                await self.store.write(copy)
            except Exception as exc:  # noqa: BLE001 - a full or blocked store keeps the older copy
                js.console.warn("[offline] not saved:", type(exc).__name__, str(exc))
        asyncio.ensure_future(write())

    def stop(self):
        self.timer.cancel()
        self.unsubscribe()
        self.listeners.dispose()
        js.document.body.removeAttribute(OFFLINE_ATTRIBUTE)
