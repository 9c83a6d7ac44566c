"""Time in the browser: the wall clock, and one timer for an owner's next wake-up.

Every pure core takes `now` and says when it next needs to wake (`next_wakeup`); this is
where those two meet the browser's clock and event loop (`setTimeout` under Pyodide).
"""

import asyncio

import js
from pyodide.ffi import create_once_callable

# Pyodide runs a callback due within 2 ms through its immediate path (a MessageChannel),
# not setTimeout; WakeTimer keeps that for a wake-up that is due now.
IMMEDIATE_MS = 2

_date_now = js.Date.now  # looked up once: `js.Date.now()` costs two global lookups per call


def wall_clock():
    """Seconds since the epoch. Wall clock on purpose: heartbeat expiry and every other
    deadline must see time that passed while background timers were throttled or the
    machine slept."""
    return _date_now() / 1000.0


class WakeTimer:
    """One timer for an owner's next wake-up, a wall-clock time.

        timer = WakeTimer(on_wake)
        timer.set(machine.next_wakeup())   # None cancels
        timer.cancel()

    A timer that already fires at or before the asked time is kept: its owner judges
    everything by the clock, so an early wake-up costs one idle tick, while re-arming on
    every message (each frame moves the deadlines) cost a setTimeout and a proxy each.

    Why not `loop.call_later`: under Pyodide a cancelled call_later keeps its handle, a
    closure, a context and a JS callable alive until the time it was set for (its setTimeout
    is never cleared), so a chat left after a few seconds kept its 30-second ping timer's
    leftovers for the rest of that half-minute: 200 conversation switches grew the heaps
    (bench/ "session"). Here a cancel clears the browser's timeout and destroys its proxy.
    A wake-up due within 2 ms still goes through the event loop's immediate path, as before.
    """

    def __init__(self, on_wake):
        self._on_wake = on_wake
        self._handle = None  # an asyncio handle (immediate) or a (timeout id, proxy) pair
        self._due = None

    def set(self, wake):
        if wake is None:
            self.cancel()
            return
        if self._handle is not None and self._due <= wake:
            return
        self.cancel()
        self._due = wake
        delay_ms = max(0.0, wake - wall_clock()) * 1000
        if delay_ms <= IMMEDIATE_MS:
            self._handle = asyncio.get_event_loop().call_soon(self._fire)
        else:
            proxy = create_once_callable(self._fire)
            self._handle = (js.setTimeout(proxy, delay_ms), proxy)

    def cancel(self):
        handle, self._handle, self._due = self._handle, None, None
        if handle is None:
            return
        if isinstance(handle, tuple):
            timeout_id, proxy = handle
            js.clearTimeout(timeout_id)
            proxy.destroy()  # never called: a once-callable is destroyed only by its call
        else:
            handle.cancel()

    def _fire(self):
        self._handle = self._due = None  # a once-callable destroys itself after this call
        self._on_wake()
