"""One open conversation: wires cache, socket machine, outbox, typing and view.

Created when the trainer opens a conversation and disposed when they leave it
(AC-1, AC-10, edge 2): dispose() closes the socket with 1000 first, cancels
every timer and releases every listener, so the next conversation starts clean.
"""

import asyncio
import json
import uuid

import js

from core.banner import OutageTracker, banner_for, banner_next_wakeup
from core.constants import ws_messaging_url
from core.message_log import MessageLog
from core import models
from core.outbox import Outbox
from core.read_marker import ReadMarker
from core.typing_signals import TypingDisplay, TypingSender
from core.ws_events import NewMessage, ReadReceipt, TypingIndicator
from chat_view import ChatView
import query_cache as qc
import ws_hook
from web.web_http import multipart_form
from web.web_socket import SocketAdapter, WakeTimer, wall_clock

PAGE_SIZE = 50


def _parse_page(data):
    """(messages, has_more) from a messages answer; bad rows are dropped, never rendered."""
    if not isinstance(data, dict):
        return [], False
    rows = data.get("results")
    if not isinstance(rows, list):
        return [], False
    messages = [m for m in (models.parse_message(r) for r in rows) if m is not None]
    return messages, data.get("has_more") is True


class ChatController:
    def __init__(self, app, conversation):
        self.app = app
        self.cid = conversation["id"]
        self.conversation = conversation
        self.me = app.me
        self.other = app.list_view.other_party(conversation)
        self.disposed = False
        self.loading_older = False
        self.gap_filling = False
        self.gap_again = False
        # Edge 7: the newest id up to which we hold EVERY message. A send's own answer
        # (or a poll) can bring a newer id while the other party's messages in between
        # were missed, so a gap fill starts here, never at the log's last id.
        self.synced_id = None
        self.gap_open = False
        self.read_marker = ReadMarker()
        self.state = "connecting"
        self.reason = None
        self.outage = OutageTracker()
        self.timer = WakeTimer(self._on_timer)  # typing, banner and mark-read deadlines

        cache = app.cache
        self.key = qc.messages_key(self.cid)
        if cache.get_query_data(self.key) is None:
            cache.set_query_data(self.key, MessageLog())
        self.outbox = Outbox(self.cid)
        self._restore_outbox()

        self.typing_sender = TypingSender()
        self.typing_display = TypingDisplay()

        self.view = ChatView(app.chat_host, conversation, self.me, self.other,
                             api_base=app.api_base, tz_offset=app.tz_offset, callbacks={
                                 "send": self.send, "retry": self.retry, "typing": self.on_local_input,
                                 "load_older": self.load_older, "is_loading_older": lambda: self.loading_older,
                                 "back": app.close_conversation,
                             })
        self.unsubscribe = cache.subscribe(self._on_cache, self.key)
        self.view.show_log(cache.get_query_data(self.key))
        self.view.show_pending(self.outbox.pending())

        self.socket = None
        if not conversation.get("is_archived"):
            machine = ws_hook.ConnectionMachine(
                self.cid, self._build_url, websocket_supported=hasattr(js, "WebSocket"))
            self.socket = SocketAdapter(machine, app.tokens, on_state=self._on_state,
                                        on_events=self._on_events, on_gap_fill=self._spawn_gap_fill,
                                        debug=app.debug)
        else:
            # Archived: read-only, no socket (edge 10); polling keeps it fresh.
            self._on_state(ws_hook.ConnectionState.FAILED, ws_hook.FailReason.FORBIDDEN)

    def start(self):
        if self.socket is not None:
            self.socket.start()
        asyncio.ensure_future(self.load_initial())

    def _build_url(self, token):
        loc = js.location
        return ws_messaging_url(self.cid, token, self.app.ws_base, loc.protocol, loc.host)

    # ----- state ---------------------------------------------------------------------

    @property
    def realtime(self):
        return self.state == "connected"

    def _on_state(self, state, reason):
        state = getattr(state, "value", state)
        reason = getattr(reason, "value", reason)
        self.state, self.reason = state, reason
        self.outage.on_state(state, wall_clock())
        self.view.set_ws_state(state)
        self._refresh_banner()
        self.app.on_realtime_changed()

    def _refresh_banner(self):
        now = wall_clock()
        self.view.set_banner(banner_for(self.state, self.reason, self.outage.since, now))
        self._schedule()

    # ----- socket events (cache updates) --------------------------------------------

    def _on_events(self, events):
        """Socket events in order; a run of new messages is merged and rendered as one."""
        if self.disposed:
            return
        run = []
        for event in events:
            if isinstance(event, NewMessage):
                run.append(event.message)
                continue
            if run:
                self.receive_messages(run, live=True)
                run = []
            self._on_event(event)
        if run and not self.disposed:
            self.receive_messages(run, live=True)

    def _on_event(self, event):
        """One typing or read-receipt event (new messages come in runs: _on_events)."""
        if self.disposed:
            return
        if isinstance(event, TypingIndicator):
            # AC-20: only the other party's typing is shown.
            if event.user_id != self.me["id"]:
                if self.typing_display.on_indicator(event.user_id, event.is_typing, wall_clock()):
                    self._render_typing()
                self._schedule()
        elif isinstance(event, ReadReceipt):
            # AC-24/AC-25: ticks update in place, no refetch.
            if event.reader_id != self.me["id"]:
                reader, read_at = event.reader_id, event.read_at

                def apply(log):
                    log.apply_read_receipt(reader, read_at)
                    return log
                self.app.cache.set_query_data(self.key, apply)

    def receive_messages(self, messages, live=False, has_more_before=None, cmid_hint=None, news=True):
        """Merge messages from any source (socket, send answer, poll, gap fill) once by id."""
        cache = self.app.cache
        added = []
        if live and self.realtime and not self.gap_open and not self.gap_filling:
            # The socket has been up since the last completed fill: nothing before this is missing.
            self._note_synced([m["id"] for m in messages])

        def merge(log):
            new, _updated = log.merge(messages, has_more_before=has_more_before)
            added.extend(new)
            return log
        with cache.batch():
            cache.set_query_data(self.key, merge)
            resolved = False
            for message in messages:
                if self.outbox.resolve(message, self.me["id"], client_message_id=cmid_hint) is not None:
                    resolved = True
            if resolved:
                self._persist_outbox()
                self.view.show_pending(self.outbox.pending())
            log = cache.get_query_data(self.key)
            # The first page and older history are not news for the list (AC-15): the
            # server's unread_count already counts them.
            fresh = [log.get(mid) for mid in added if log.get(mid) is not None] if news else []
            # Asked once per batch of messages: it makes the browser compute styles.
            visible = self.view.is_visible() if added else False
            if fresh:
                self.app.on_new_messages(self.cid, fresh, chat_visible=visible)
        from_other = [m for m in (log.get(mid) for mid in added) if m and m["sender"]["id"] != self.me["id"]]
        for message in from_other:
            if self.typing_display.on_message_from(message["sender"]["id"]):
                self._render_typing()
        # AC-28: a message from the other party in the open, visible chat is read now.
        if from_other and visible and any(not m.get("is_read") for m in from_other):
            self.mark_read()

    def _on_cache(self, _key):
        if not self.disposed:
            self.view.show_log(self.app.cache.get_query_data(self.key))

    # ----- HTTP: first page, older pages, gap fill, polling ------------------------------

    async def load_initial(self):
        try:
            data = await self.app.api.messages(self.cid, limit=PAGE_SIZE)
        except Exception as exc:
            if not self.disposed:
                self.app.handle_error(exc, self.view.show_error, "Could not load messages.")
            return
        if self.disposed:
            return
        messages, has_more = _parse_page(data)
        log = self.app.cache.get_query_data(self.key)
        self._note_synced([m["id"] for m in messages])  # the newest page is complete
        self.receive_messages(messages, has_more_before=has_more if len(log) <= len(messages) else None,
                              news=False)
        if self.conversation.get("unread_count") or any(
                not m.get("is_read") and m["sender"]["id"] != self.me["id"] for m in messages):
            self.mark_read()

    def load_older(self):
        if self.loading_older or self.disposed:
            return
        log = self.app.cache.get_query_data(self.key)
        if not log.has_more_before or log.first_id is None:
            return
        self.loading_older = True
        self.view.set_loading_older(True)
        asyncio.ensure_future(self._load_older(log.first_id))

    async def _load_older(self, before):
        try:
            data = await self.app.api.messages(self.cid, limit=PAGE_SIZE, before=before)
            messages, has_more = _parse_page(data)
            if not self.disposed:
                self.receive_messages(messages, has_more_before=has_more, news=False)
        except Exception as exc:
            if not self.disposed:
                self.app.handle_error(exc, self.view.show_error, "Could not load earlier messages.")
        finally:
            self.loading_older = False

    def _note_synced(self, ids):
        if ids:
            top = max(ids)
            if self.synced_id is None or top > self.synced_id:
                self.synced_id = top

    def _spawn_gap_fill(self):
        self.gap_open = True
        asyncio.ensure_future(self.fill_gap())

    async def fill_gap(self):
        """Edge 7: after a reconnect, fetch what was missed (after=<synced id>).

        A fill asked for while one runs makes that one go round again, so a second
        outage during a fill is covered too."""
        if self.disposed:
            return
        if self.gap_filling:
            self.gap_again = True
            return
        self.gap_filling = True
        try:
            while True:
                self.gap_again = False
                after = self.synced_id
                for _ in range(50):  # bounded: at most 50 pages of 200
                    if after is None:
                        data = await self.app.api.messages(self.cid, limit=PAGE_SIZE)
                    else:
                        data = await self.app.api.messages(self.cid, limit=200, after=after)
                    if self.disposed:
                        return
                    messages, has_more = _parse_page(data)
                    self.receive_messages(messages)
                    if messages:
                        after = max(m["id"] for m in messages)
                    if not has_more or not messages or self.synced_id is None:
                        break
                if after is not None:
                    self._note_synced([after])
                if not self.gap_again:
                    self.gap_open = False
                    return
        except Exception as exc:
            if not self.disposed:
                self.app.handle_error(exc, None, None)
        finally:
            self.gap_filling = False

    async def poll(self):
        """AC-9/AC-13: one request for the newest page (new messages and read ticks);
        a gap fill only when more than a page was missed."""
        if self.disposed:
            return
        try:
            data = await self.app.api.messages(self.cid, limit=PAGE_SIZE)
        except Exception as exc:
            self.app.handle_error(exc, None, None)
            return
        if self.disposed:
            return
        messages, _ = _parse_page(data)
        self.receive_messages(messages)
        if not messages:
            return
        synced = self.synced_id
        if synced is None or messages[0]["id"] <= synced:
            # The newest page reaches back to what we already had complete.
            self._note_synced([m["id"] for m in messages])
        else:
            # More than a page was missed: fill from the last complete point.
            await self.fill_gap()

    # ----- mark read -------------------------------------------------------------------

    def mark_read(self):
        """AC-28: at once for a lone message; a stream is coalesced (read_marker.py)."""
        if self.disposed:
            return
        waiting = self.read_marker.pending
        if self.read_marker.request(wall_clock()):
            asyncio.ensure_future(self._mark_read())
        elif waiting:
            return  # already waiting: its wake-up is already scheduled (every message of a stream)
        self._schedule()

    async def _mark_read(self):
        ok = False
        try:
            await self.app.api.mark_read(self.cid)
            ok = True
        except Exception as exc:
            self.app.handle_error(exc, None, None)
        if self.disposed:
            return
        if ok:
            other_id = self.other.get("id")

            def mark(log):
                log.mark_read_from(other_id)
                return log
            self.app.cache.set_query_data(self.key, mark)
            self.app.on_conversation_read(self.cid)
        if self.read_marker.finished(wall_clock()):
            asyncio.ensure_future(self._mark_read())
        self._schedule()

    # ----- sending ----------------------------------------------------------------------

    def send(self, text, attachment):
        cmid = str(uuid.uuid4())
        image_name = attachment.name if attachment is not None else None
        self.outbox.add(text, cmid, wall_clock(), image_name=image_name)
        self._persist_outbox()
        self.view.show_pending(self.outbox.pending())
        # AC-19: typing stops the moment a message is sent.
        for value in self.typing_sender.on_message_sent(wall_clock()):
            self._send_typing(value)
        self._schedule()
        asyncio.ensure_future(self._deliver(cmid, text, attachment))

    def retry(self, cmid):
        item = self.outbox.retry(cmid)
        if item is None:
            return
        self._persist_outbox()
        self.view.show_pending(self.outbox.pending())
        # Same client_message_id: the server stores it at most once (CONTRACT).
        asyncio.ensure_future(self._deliver(cmid, item.content, None))

    async def _deliver(self, cmid, text, attachment):
        try:
            form = multipart_form(text, cmid, attachment) if attachment is not None else None
            message = await self.app.api.send(self.cid, text, cmid, form=form)
        except Exception as exc:
            if self.disposed:
                return
            detail = self.app.handle_error(exc, None, None) or "Not sent"
            self.outbox.mark_failed(cmid, detail)
            self._persist_outbox()
            self.view.show_pending(self.outbox.pending())
            return
        if self.disposed:
            return
        parsed = models.parse_message(message)
        if parsed is not None:
            self.receive_messages([parsed], cmid_hint=cmid)

    def _outbox_storage_key(self):
        return "outbox:" + str(self.me["id"]) + ":" + str(self.cid)

    def _persist_outbox(self):
        try:
            data = self.outbox.to_json()
            text = data if isinstance(data, str) else json.dumps(data)
            if self.outbox.pending():
                js.localStorage.setItem(self._outbox_storage_key(), text)
            else:
                js.localStorage.removeItem(self._outbox_storage_key())
        except Exception:
            pass

    def _restore_outbox(self):
        try:
            text = js.localStorage.getItem(self._outbox_storage_key())
        except Exception:
            text = None
        if isinstance(text, str) and text:
            try:
                self.outbox = Outbox.from_json(text)
            except Exception:
                self.outbox = Outbox(self.cid)

    # ----- typing ---------------------------------------------------------------------------

    def on_local_input(self):
        for value in self.typing_sender.on_input(wall_clock()):
            self._send_typing(value)
        self._schedule()

    def _send_typing(self, value):
        if self.socket is not None:
            self.socket.send_typing(value)

    def _render_typing(self):
        names = []
        for uid in self.typing_display.typing_user_ids():
            if uid == self.other.get("id"):
                names.append(self.other.get("first_name") or "Someone")
            else:
                names.append("Someone")
        self.view.set_typing(names)
        self._schedule()

    # ----- one timer for typing and banner deadlines -------------------------------------------

    def _schedule(self):
        if self.disposed:
            return
        wakes = [w for w in (self.typing_sender.next_wakeup(), self.typing_display.next_wakeup(),
                             banner_next_wakeup(self.state, self.reason, self.outage.since, wall_clock()),
                             self.read_marker.next_wakeup())
                 if w is not None]
        self.timer.set(min(wakes) if wakes else None)

    def _on_timer(self):
        if self.disposed:
            return
        now = wall_clock()
        for value in self.typing_sender.tick(now):
            self._send_typing(value)
        if self.typing_display.tick(now):
            self._render_typing()
        if self.read_marker.tick(now):
            asyncio.ensure_future(self._mark_read())
        self._refresh_banner()

    # ----- teardown -------------------------------------------------------------------------

    def dispose(self):
        if self.disposed:
            return
        # Edge 2: the old socket is closed (1000) before anything new opens.
        if self.socket is not None:
            self.socket.stop()
        self.disposed = True
        self.read_marker.cancel()
        self.timer.cancel()
        self.unsubscribe()
        self.view.dispose()
