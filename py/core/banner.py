"""The connection banner above the chat (AC-29..AC-31, the error table).

Which banner shows is a pure function of the socket's state, the reason it
failed, and how long the current outage has lasted:

    state          reason                        banner
    connected      -                             none               AC-29
    connecting /   -  outage < grace, or none    none   (a quick reconnect must not flash it)
    disconnected   -  outage >= grace            "reconnecting"     AC-30
    failed         "exhausted" (or unknown)      "failed"           AC-31
    failed         "forbidden"/"auth"/"unsupported"  none  (error table: nothing visible)
    connecting /   "restart" (a planned server   none   (the machine: reconnects at once; past its
    disconnected   restart, 1012)                        grace the reason is gone, and the
                                                         outage, counted from its start, shows)

``since`` is the moment the current outage began: when the link was first
seen down (a ``disconnected`` state, or a ``connecting`` state after it had
been connected) since it was last connected. It is None while there is no
outage, and in particular during the very first connect of a freshly
opened chat, which shows nothing. ``OutageTracker`` keeps it for you:

    outage = OutageTracker()                 # one per opened chat
    outage.on_state(state, now)              # on every state change
    shown = banner_for(state, reason, outage.since, now)
    wake = banner_next_wakeup(state, reason, outage.since, now)
"""

from __future__ import annotations

from typing import Optional

RECONNECTING = "reconnecting"
FAILED = "failed"

BANNER_TEXT = {
    RECONNECTING: "Reconnecting...",
    FAILED: "Real-time updates unavailable. Messages may be delayed.",
}

BANNER_GRACE_S = 1.0

# Error table: 4003, a failed re-auth and a browser without WebSocket fall
# back to polling with nothing visible.
SILENT_FAILURE_REASONS = frozenset({"forbidden", "auth", "unsupported"})

_DOWN_STATES = ("connecting", "disconnected")
PLANNED_RESTART = "restart"


def banner_for(
    state: str,
    reason: Optional[str],
    since: Optional[float],
    now: float,
    grace: float = BANNER_GRACE_S,
) -> Optional[str]:
    """``"reconnecting"``, ``"failed"`` or None (no banner); see the table above."""
    if state == "failed":
        return None if reason in SILENT_FAILURE_REASONS else FAILED
    if reason == PLANNED_RESTART:
        return None
    if state in _DOWN_STATES and since is not None and now - since >= grace:
        return RECONNECTING
    return None


def banner_next_wakeup(
    state: str,
    reason: Optional[str],
    since: Optional[float],
    now: float,
    grace: float = BANNER_GRACE_S,
) -> Optional[float]:
    """When ``banner_for`` would next change by time alone, or None."""
    if reason == PLANNED_RESTART:
        return None  # the machine reports the end of the restart's grace as a state change
    if state in _DOWN_STATES and since is not None and now - since < grace:
        return since + grace
    return None


class OutageTracker:
    """Remembers when the current outage began (the ``since`` above)."""

    def __init__(self) -> None:
        self.since: Optional[float] = None
        self._was_connected = False

    def on_state(self, state: str, now: float) -> None:
        """Feed every connection state change of this chat."""
        if state == "connected":
            self.since = None
            self._was_connected = True
        elif self.since is None and (
            state == "disconnected" or (state == "connecting" and self._was_connected)
        ):
            self.since = now

    def reset(self) -> None:
        """A new chat was opened: its first connect shows nothing."""
        self.since = None
        self._was_connected = False
