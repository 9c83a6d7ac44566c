"""When to send "mark as read" (AC-28) for the open, visible conversation.

AC-28 asks for a markRead call when a message arrives in the chat the trainer is
looking at. One call per message is what a naive client does; in a stream that
is one HTTP round trip per message (about as much main-thread time as
everything else a message costs) and one `read_receipt` broadcast per message.
This rule keeps the call immediate for a lone message and coalesces a stream:

- the first request goes out at once (leading edge);
- while one is in flight, or within `interval` seconds of the last start,
  further requests are remembered, not sent;
- one trailing request then covers everything that arrived meanwhile: the
  server marks ALL the other party's unread messages read, so nothing is lost.

Time is an input; the owner asks `next_wakeup()` and calls `tick(now)` then.

    marker = ReadMarker(interval=1.0)
    if marker.request(now):        # a message arrived in the visible chat
        start_the_call()
    ...
    if marker.finished(now):       # the call came back (success or failure)
        start_the_call()
    if marker.tick(now):           # at marker.next_wakeup()
        start_the_call()
"""
from __future__ import annotations

from typing import Optional

DEFAULT_INTERVAL = 1.0  # seconds between the starts of two mark-read calls in a stream


class ReadMarker:
    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        if interval < 0:
            raise ValueError("interval must not be negative")
        self.interval = interval
        self.in_flight = False
        self.pending = False
        self.last_start: Optional[float] = None

    def request(self, now: float) -> bool:
        """Something is unread in the visible chat. True: start a call now."""
        self.pending = True
        return self._start_if_due(now)

    def finished(self, now: float) -> bool:
        """The call in flight ended. True: start the trailing call now."""
        self.in_flight = False
        return self._start_if_due(now)

    def tick(self, now: float) -> bool:
        """The wake-up time came. True: start the trailing call now."""
        return self._start_if_due(now)

    def next_wakeup(self) -> Optional[float]:
        """When a waiting request becomes due; None when nothing waits on time."""
        if not self.pending or self.in_flight or self.last_start is None:
            return None
        return self.last_start + self.interval

    def cancel(self) -> None:
        """Forget a waiting request (the conversation was closed)."""
        self.pending = False

    def _start_if_due(self, now: float) -> bool:
        if not self.pending or self.in_flight:
            return False
        if self.last_start is not None and now < self.last_start + self.interval:
            return False
        self.pending = False
        self.in_flight = True
        self.last_start = now
        return True
