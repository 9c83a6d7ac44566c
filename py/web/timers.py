"""Time in the browser: the wall clock, and one timer for an owner's next wake-up.

Every pure core takes `now` and says when it next needs to wake (`next_wakeup`); this is
where those two meet the browser's clock and event loop (`setTimeout` under Pyodide).
"""

import asyncio

import js

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
    """

    def __init__(self, on_wake):
        self._on_wake = on_wake
        self._handle = None
        self._due = None

    def set(self, wake):
        if wake is None:
            self.cancel()
            return
        if self._handle is not None and self._due <= wake:
            return
        self.cancel()
        self._due = wake
        self._handle = asyncio.get_event_loop().call_later(max(0.0, wake - wall_clock()), self._fire)

    def cancel(self):
        if self._handle is not None:
            self._handle.cancel()
            self._handle = self._due = None

    def _fire(self):
        self._handle = self._due = None
        self._on_wake()
