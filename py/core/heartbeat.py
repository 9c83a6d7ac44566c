"""The link's heartbeat (AC-7): a ping every 30 s, a pong within 5 s, judged by the wall clock.

Ticks may come late (browsers throttle and freeze timers), so nothing here trusts that a
wake-up came on time; every verdict compares `now` with a deadline. The connection machine
owns one and sends the frames:

    beat = Heartbeat()
    beat.start(now)                          # the socket opened
    why = beat.dead_because(now, visible)    # on every tick: a reason, or None
    if why is None and beat.ping_due(now):
        beat.sent(now); send(PING_FRAME)
    beat.pong()                              # a pong frame came
"""
from __future__ import annotations

from typing import Optional, Tuple

from core.constants import PING_INTERVAL, PONG_TIMEOUT


class Heartbeat:
    """When to ping, and when a silent link is dead."""

    def __init__(self) -> None:
        self.next_ping_at: Optional[float] = None
        self.pong_deadline: Optional[float] = None

    def start(self, now: float) -> None:
        """The link opened: the first ping goes PING_INTERVAL after the open."""
        self.next_ping_at = now + PING_INTERVAL
        self.pong_deadline = None

    def stop(self) -> None:
        self.next_ping_at = self.pong_deadline = None

    def sent(self, now: float) -> None:
        """A ping went out: its pong is due within PONG_TIMEOUT, the next ping in PING_INTERVAL."""
        self.pong_deadline = now + PONG_TIMEOUT
        self.next_ping_at = now + PING_INTERVAL

    def pong(self) -> None:
        self.pong_deadline = None  # the link is alive

    @property
    def awaiting_pong(self) -> bool:
        return self.pong_deadline is not None

    def pong_overdue(self, now: float) -> bool:
        return self.pong_deadline is not None and now >= self.pong_deadline

    def dead_because(self, now: float, visible: bool) -> Optional[str]:
        """Why the link is dead by `now`, or None.

        A pong overdue kills it. With no ping pending, a tick PING_INTERVAL + PONG_TIMEOUT
        after the last ping means the machine was suspended (sleep): dead while the tab is
        visible; while hidden, browsers throttle timers to once a minute by design, so
        lateness proves nothing and the overdue ping just goes (ping_due).
        """
        if self.pong_deadline is not None:
            return "no pong within 5 s" if now >= self.pong_deadline else None
        if visible and self.next_ping_at is not None and now >= self.next_ping_at + PONG_TIMEOUT:
            return "heartbeat timer stalled (the machine was asleep)"
        return None

    def ping_due(self, now: float) -> bool:
        return self.pong_deadline is None and self.next_ping_at is not None and now >= self.next_ping_at

    def deadlines(self) -> Tuple[Optional[float], Optional[float]]:
        return self.next_ping_at, self.pong_deadline
