"""The open conversation's states and every move between them, as one table.

core/open_conversation.py and the parts it owns keep five small machines, each an enum; what
moves them is `TRANSITIONS` below and nothing else (`fire`, core/transitions.py). A move the
table does not list raises IllegalTransition: a bug in the code, never a state to recover.
Inputs that do not apply in the current state (a second Retry tap, a poll while one runs)
are turned away before they reach the table, so the table only says what really happens.

    machine   state           event          next            why
    --------  --------------  -------------  --------------  ---------------------------------
    Load      OPENING         open           LOADING         the first page is asked for
              LOADING         page_loaded    READY
              LOADING         page_failed    FAILED          the pane says why, with a Retry
              FAILED          retry          LOADING         Retry, or the link came back
              any but CLOSED  close          CLOSED          nothing more goes out
    Gap       SYNCED, MISSED  fill           FILLING         edge 7: a reconnect, or a poll
              FILLING         fill           FILLING_QUEUED  asked for during a fill ...
              FILLING_QUEUED  fill           FILLING_QUEUED  (once is enough)
              FILLING         filled         SYNCED
              FILLING_QUEUED  filled         FILLING         ... goes round once more
              FILLING(_Q.)    fill_failed    MISSED          the next link or poll fills
    Poll      IDLE            poll           FETCHING        AC-9: the newest page
              FETCHING        answered       IDLE            it reached back (or a fill runs)
              FETCHING        gap_found      AWAITING_FILL   more than a page was missed
              FETCHING        failed         IDLE
              AWAITING_FILL   fill_ended     IDLE            its fill filled or failed
    History   IDLE            load_older     LOADING         one older page at a time
              LOADING         loaded/failed  IDLE
    ReadCall  IDLE            start          IN_FLIGHT       AC-28: one mark-read call at a time
              IN_FLIGHT       done           IDLE
"""
from __future__ import annotations

import enum
from typing import Dict, Mapping

from core.transitions import IllegalTransition, fire  # noqa: F401 - the machines' one way to move


class Load(enum.Enum):
    """The first page's lifecycle, and the conversation's own."""

    OPENING = "opening"  # built; open() not called yet
    LOADING = "loading"  # the first page is on its way
    FAILED = "failed"  # it could not load: the pane says so, with a Retry (issue 13)
    READY = "ready"  # the first page is in
    CLOSED = "closed"  # the conversation left the screen: nothing more goes out


class Gap(enum.Enum):
    """Edge 7: whether every message up to `synced_id` is known to be held."""

    SYNCED = "synced"  # nothing known missing: live messages move synced_id
    MISSED = "missed"  # a reconnect (or a failed fill) left a gap no fill has closed yet
    FILLING = "filling"  # one fill runs
    FILLING_QUEUED = "filling_queued"  # one runs and another was asked for meanwhile


class Poll(enum.Enum):
    """AC-9/AC-13: the newest page while the socket is down."""

    IDLE = "idle"
    FETCHING = "fetching"  # the page is on its way
    AWAITING_FILL = "awaiting_fill"  # it found more missed than a page: its fill runs


class History(enum.Enum):
    """Older pages, one at a time."""

    IDLE = "idle"
    LOADING = "loading"


class ReadCall(enum.Enum):
    """AC-28: the mark-read call."""

    IDLE = "idle"
    IN_FLIGHT = "in_flight"  # covers the newest message held when it started


TRANSITIONS: Dict[enum.Enum, Mapping[str, enum.Enum]] = {
    Load.OPENING: {"open": Load.LOADING, "close": Load.CLOSED},
    Load.LOADING: {"page_loaded": Load.READY, "page_failed": Load.FAILED, "close": Load.CLOSED},
    Load.FAILED: {"retry": Load.LOADING, "close": Load.CLOSED},
    Load.READY: {"close": Load.CLOSED},
    Load.CLOSED: {},

    Gap.SYNCED: {"fill": Gap.FILLING},
    Gap.MISSED: {"fill": Gap.FILLING},
    Gap.FILLING: {"fill": Gap.FILLING_QUEUED, "filled": Gap.SYNCED, "fill_failed": Gap.MISSED},
    Gap.FILLING_QUEUED: {"fill": Gap.FILLING_QUEUED, "filled": Gap.FILLING, "fill_failed": Gap.MISSED},

    Poll.IDLE: {"poll": Poll.FETCHING},
    Poll.FETCHING: {"answered": Poll.IDLE, "gap_found": Poll.AWAITING_FILL, "failed": Poll.IDLE},
    Poll.AWAITING_FILL: {"fill_ended": Poll.IDLE},

    History.IDLE: {"load_older": History.LOADING},
    History.LOADING: {"loaded": History.IDLE, "failed": History.IDLE},

    ReadCall.IDLE: {"start": ReadCall.IN_FLIGHT},
    ReadCall.IN_FLIGHT: {"done": ReadCall.IDLE},
}
MACHINES = (Load, Gap, Poll, History, ReadCall)
assert set(TRANSITIONS) == {state for machine in MACHINES for state in machine}  # every state has a row


def move(state: enum.Enum, event: str) -> enum.Enum:
    """The state `event` takes `state` to; IllegalTransition when the table lists no such move."""
    return fire(TRANSITIONS, state, event)
