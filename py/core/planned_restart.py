"""A planned server restart (close 1012): reconnect at once, within a grace, once per grace.

A 1012 on an open link says the server is going and another process is coming (a deploy,
serve.py's SIGTERM). For RESTART_GRACE the connection machine reconnects at once and retries
every RESTART_RETRY_DELAY without spending backoff attempts, and its states carry the reason
RESTART (no banner). One fast path at most per RESTART_GRACE: a server that accepts and closes
with 1012 at once cannot hold the page in a fast loop.

    restart = PlannedRestart()
    if restart.begin(now):        # a 1012 closed the open link
        reconnect_now()
    restart.active(now)           # True while the grace lasts (it forgets it once over)
    restart.end()                 # a link opened, or the machine stopped
"""
from __future__ import annotations

from typing import Optional

from core.constants import RESTART_GRACE


class PlannedRestart:
    """The grace of the current planned restart, if any."""

    def __init__(self) -> None:
        self._until: Optional[float] = None  # the grace of the restart under way
        self._began: Optional[float] = None  # when the last fast path began

    def begin(self, now: float) -> bool:
        """A 1012 closed an open link. True: a grace starts (none began within RESTART_GRACE)."""
        if self._began is not None and now - self._began < RESTART_GRACE:
            return False
        self._began = now
        self._until = now + RESTART_GRACE
        return True

    def active(self, now: float) -> bool:
        """True while the grace lasts; once it is over it is over for good."""
        if self._until is not None and now < self._until:
            return True
        self._until = None
        return False

    def end(self) -> None:
        self._until = None
