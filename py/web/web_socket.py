"""Browser adapter for the Sans-I/O ConnectionMachine (core/connection_machine.py).

It only carries actions out: opens and closes the real WebSocket, sends frames,
keeps ONE timer for the machine's next wake-up, fetches tokens, and feeds
socket, visibility and network events back in with the wall-clock time.

Every proxy has an owner (STYLE rule 8): each socket's four handlers are
destroyed when that socket is closed or replaced, and the window/document
listeners when the adapter stops. A conversation switch leaves nothing behind.
"""

import asyncio

import js
from pyodide.ffi import create_proxy

from core.frame_batcher import FrameBatcher
from core.connection_machine import CloseSocket, Dispatch, GapFill, Log, OpenSocket, RequestToken, SendFrame, StateChanged
from web.timers import WakeTimer, wall_clock
from web.web_dom import FrameScheduler, Listeners, perf_now


class _Socket:
    """One real WebSocket and the proxies of its handlers.

    Frames come in through the page's `coachlineFrames` listener (static/early.js) when
    there is one: it calls in for each frame unless told to `hold` (a burst is being
    gathered), then keeps them for `take_held`. Without it, each frame calls in.
    """

    def __init__(self, socket_id, url, adapter):
        self.socket_id = socket_id
        self.ws = js.WebSocket.new(url)
        self.proxies = []  # (event name, listener, proxy to destroy)
        self.box = None
        self.closed = False
        on = self._bind
        on("open", lambda e: adapter._on_open(socket_id))
        make_box = getattr(js, "coachlineFrames", None)
        if make_box is None:
            on("message", lambda e: adapter._on_message(socket_id, e.data))
        else:
            proxy = create_proxy(lambda data: adapter._on_message(socket_id, data))
            self.box = make_box(proxy)
            self.ws.addEventListener("message", self.box.listener)
            self.proxies.append(("message", self.box.listener, proxy))
        on("close", lambda e: self._on_close(adapter, e.code))
        on("error", lambda e: None)  # a close event always follows

    def _bind(self, name, handler):
        proxy = create_proxy(handler)
        self.ws.addEventListener(name, proxy)
        self.proxies.append((name, proxy, proxy))

    def hold(self):
        """Keep this socket's next frames in the page until `take_held`."""
        if self.box is not None:
            self.box.hold = True

    def take_held(self):
        """([(socket_id, text)...], when the newest arrived in seconds) of the frames kept
        since `hold`, in order; holding stops. Binary frames are not part of the protocol."""
        box = self.box
        if box is None or not box.hold and not box.frames.length:
            return [], 0.0
        texts = box.take().to_py()
        return [(self.socket_id, t) for t in texts if isinstance(t, str)], box.lastAt / 1000.0

    def _on_close(self, adapter, code):
        self.release()
        adapter._on_close(self.socket_id, int(code))

    def send(self, text):
        if self.ws.readyState == 1:
            self.ws.send(text)

    def close(self, code, reason):
        try:
            if self.ws.readyState in (0, 1):
                self.ws.close(code, reason)
        except Exception:
            pass
        self.release()

    def release(self):
        """Listeners off, proxies destroyed. Frames already held can still be taken."""
        if self.closed:
            return
        self.closed = True
        for name, listener, proxy in self.proxies:
            self.ws.removeEventListener(name, listener)
            proxy.destroy()
        self.proxies = []


class SocketAdapter:
    """Runs one ConnectionMachine for one conversation in the browser.

        adapter = SocketAdapter(machine, tokens, on_state=..., on_events=..., on_gap_fill=...)
        adapter.start()
        adapter.send_typing(True)
        adapter.stop()        # purposeful close (1000), listeners and proxies released
    """

    def __init__(self, machine, tokens, *, on_state, on_events, on_gap_fill, debug=False):
        self.machine = machine
        self.tokens = tokens
        self.on_state = on_state
        self.on_events = on_events  # called with the events of one frame, or of a burst's frames
        # A lone frame is handled in the task that received it; a burst once per
        # animation frame (frame_batcher.py). A hidden tab gets no animation frames,
        # so there every frame is handled at once.
        self.batcher = FrameBatcher()
        self.frame = FrameScheduler(self._flush_frames)
        self.visible = True
        self._events = None
        self.on_gap_fill = on_gap_fill
        self.debug = debug
        self.sockets = {}
        self.timer = WakeTimer(self._on_timer)
        self.stopped = False
        self.listeners = Listeners()

    def start(self):
        self.visible = js.document.visibilityState == "visible"
        self.listeners.add(js.document, "visibilitychange", self._on_visibility)
        self.listeners.add(js.window, "online", lambda e: self._feed(self.machine.network_changed(True, wall_clock())))
        self.listeners.add(js.window, "offline", lambda e: self._feed(self.machine.network_changed(False, wall_clock())))
        self._feed(self.machine.start(wall_clock()))
        if not js.navigator.onLine:
            self._feed(self.machine.network_changed(False, wall_clock()))

    def stop(self):
        if self.stopped:
            return
        self.batcher.clear()
        self._feed(self.machine.stop(wall_clock()))
        self.stopped = True
        self.frame.dispose()
        self.timer.cancel()
        self.listeners.dispose()
        for sock in list(self.sockets.values()):
            sock.close(1000, "switch")
        self.sockets.clear()

    def send_typing(self, is_typing):
        self._feed(self.machine.send_typing(is_typing, wall_clock()))

    def perform(self, actions):
        """Carry out what the machine answered to an input the owner gave it directly."""
        self._feed(actions)

    # ----- events in ------------------------------------------------------------

    def _on_visibility(self, _event):
        visible = js.document.visibilityState == "visible"
        self.visible = visible
        if not visible:
            self._flush_frames()  # no animation frame will come to do it
        self._feed(self.machine.visibility_changed(visible, wall_clock()))

    def _on_open(self, socket_id):
        self._feed(self.machine.socket_open(socket_id, wall_clock()))

    def _on_message(self, socket_id, data):
        if not isinstance(data, str):
            return  # binary frames are not part of the protocol
        if not self.visible:
            self._handle_frames(self._take_waiting() + [(socket_id, data)])
            return
        ready = self.batcher.arrive((socket_id, data), perf_now() / 1000.0)
        if ready:
            self._handle_frames(ready)
        else:
            # A burst: until the flush, its next frames wait in the page without calling in.
            sock = self.sockets.get(socket_id)
            if sock is not None:
                sock.hold()
            self.frame.request()

    def _take_waiting(self):
        """Every frame waiting for the flush: the batcher's, then what the sockets held."""
        for sock in self.sockets.values():
            self.batcher.add_held(*sock.take_held())
        return self.batcher.flush()

    def _flush_frames(self, _timestamp=None):
        frames = self._take_waiting()
        if frames:
            self._handle_frames(frames)

    def _handle_frames(self, frames):
        """Feed frames to the machine; their events go to on_events together."""
        if self.stopped:
            return
        now = wall_clock()
        events = self._events = []
        try:
            for socket_id, data in frames:
                self._feed(self.machine.socket_message(socket_id, data, now))
        finally:
            self._events = None
        if events and not self.stopped:
            self.on_events(events)

    def _on_close(self, socket_id, code):
        self._flush_frames()  # what arrived before the close comes first
        self.sockets.pop(socket_id, None)
        self._feed(self.machine.socket_closed(socket_id, code, wall_clock()))

    def _on_timer(self):
        self._feed(self.machine.tick(wall_clock()))

    async def _fetch_token(self, force):
        try:
            token = await self.tokens.get_access_token(force_refresh=force)
        except Exception:
            self._feed(self.machine.token_failed(wall_clock()))
            return
        self._feed(self.machine.token_ready(token, wall_clock()))

    # ----- actions out ------------------------------------------------------------

    def _feed(self, actions):
        if self.stopped:
            return
        for action in actions:
            self._perform(action)
        self._schedule()

    def _perform(self, action):
        kind = type(action)
        if kind is SendFrame:
            sock = self.sockets.get(action.socket_id)
            if sock is not None:
                sock.send(action.text)
        elif kind is Dispatch:
            if self._events is not None:
                self._events.append(action.event)
            else:
                self.on_events([action.event])
        elif kind is OpenSocket:
            try:
                self.sockets[action.socket_id] = _Socket(action.socket_id, action.url, self)
            except Exception:
                # A URL the browser refuses: behave as a failed handshake.
                self._feed(self.machine.socket_closed(action.socket_id, 1006, wall_clock()))
        elif kind is CloseSocket:
            sock = self.sockets.pop(action.socket_id, None)
            if sock is not None:
                sock.close(action.code, action.reason)
        elif kind is RequestToken:
            asyncio.ensure_future(self._fetch_token(action.force_refresh))
        elif kind is StateChanged:
            self.on_state(action.state, action.reason)
        elif kind is GapFill:
            self.on_gap_fill()
        elif kind is Log:
            if self.debug or action.level not in ("debug",):
                js.console.debug("[ws]", action.message)

    def _schedule(self):
        self.timer.set(self.machine.next_wakeup())
