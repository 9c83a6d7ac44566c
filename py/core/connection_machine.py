"""The WebSocket connection lifecycle for one conversation, as a Sans-I/O state machine.

Theory of operation
-------------------
`ConnectionMachine` owns every decision about one conversation's socket (AC-1..AC-10) and
performs no I/O. An adapter (the browser side) feeds it inputs and carries out the actions
each input returns, in order:

    machine = ConnectionMachine(cid, build_url=lambda token: ws_messaging_url(cid, token, ...))
    run(machine.start(now()))               # -> StateChanged(CONNECTING), RequestToken(False)
    run(machine.token_ready(token, now()))  # -> OpenSocket(1, url)
    run(machine.socket_open(1, now()))      # -> StateChanged(CONNECTED)
    ...after every input: (re)arm one timer for machine.next_wakeup(); when it fires,
    run(machine.tick(now()))

Time is an input: `now` is wall-clock seconds (`Date.now() / 1000`), never a monotonic
clock, so that time a laptop spent asleep counts. Browsers throttle and freeze timers, so the
machine never trusts that a tick came on time; each deadline is checked against `now`.

Sockets are named by ids the machine hands out (1, 2, 3... per machine). Every input that
carries an id which is not the current socket's is ignored: that is how a late event from a
socket we already closed or replaced can do no harm (edge case 2). A socket the machine
closes itself (`CloseSocket`) is forgotten at once, so its close event is ignored too.

States (AC-8) and what moves between them:

    from          input                                   to
    ------------  --------------------------------------  ----------------------------------
    (start)       start, WebSocket missing                FAILED(UNSUPPORTED); polling only
    (start)       start                                   CONNECTING: RequestToken, OpenSocket
    CONNECTING    socket_open                             CONNECTED (+GapFill unless 1st attempt, edge 7)
    CONNECTING    failed open / token_failed / timeout    DISCONNECTED, retry after 1,2,4,8,16 s (AC-5)
    DISCONNECTED  retry time comes (tick)                 CONNECTING
    CONNECTING    6th failure in a row                    FAILED(EXHAUSTED) (AC-5, AC-9)
    CONNECTED     close with any code but 4001/4003/1012  DISCONNECTED, backoff (edge 4)
    CONNECTED     close 1012 (planned server restart)     CONNECTING(RESTART) at once, no backoff;
                                                          a failed try waits RESTART_RETRY_DELAY in
                                                          DISCONNECTED(RESTART), until RESTART_GRACE
    CONNECTED     no pong 5 s after a ping (AC-7)         CloseSocket 4000, DISCONNECTED, backoff
    any live      close 4001 (edge 1)                     CONNECTING with RequestToken(force_refresh=True)
    any live      4001 again before the refreshed link    FAILED(AUTH)
                  was stable / forced token_failed
    any live      close 4003                              FAILED(FORBIDDEN): no retries, ever
    DISCONNECTED, tab visible again (AC-6, edge 3)        CONNECTING now, backoff reset
    FAILED(EXH.)  or network back online
    live, not     network offline                         DISCONNECTED, no retry timer until online
    CONNECTED
    FAILED(EXH.)  every 60 s (tick)                       quiet try: state stays FAILED; if it
    FAILED(AUTH)                                          opens -> CONNECTED + GapFill
    any           stop (AC-10, decision 4)                CloseSocket 1000; the machine is dead

`ALLOWED_TRANSITIONS` below is the same table as data; anything else is `IllegalTransition`.
Two rules live in their own small modules: the heartbeat's deadlines (core/heartbeat.py) and
a planned restart's grace (core/planned_restart.py); the machine owns one of each.

Choices the spec leaves open, made here:
- Backoff counts retries: after the failure that ends a connection, retries wait 1, 2, 4, 8
  and 16 s; when the 5th retry fails too, FAILED(EXHAUSTED). The counter resets only once a
  link has stayed open STABLE_AFTER (5 s), so a server that accepts and then closes at once
  walks the same 1..16 s schedule to FAILED instead of looping.
- Our own "this socket is dead" close uses code 4000 (CLOSE_CLIENT_TIMEOUT): a browser may
  only send 1000 or 3000-4999, and 1000 would tell the server it was a purposeful goodbye.
- Pings go every 30 s after the last ping (or the open); an extra probe ping (tab visible,
  network offline) therefore moves the next regular ping to 30 s after the probe.
- A late tick: when `now` is past a pending pong deadline the link is dead at once. When no
  ping was pending but the tick comes 35 s or more after the last ping (30 s interval + 5 s
  pong time) the machine was evidently suspended (sleep): while the tab is visible the link is
  declared dead at once; while hidden, browsers throttle timers to once a minute by design, so
  lateness proves nothing and the machine just sends the overdue ping (and AC-6 pings again
  as soon as the tab is visible).
- A 4001 closes at once into a forced token refresh (not a backoff step). If the refreshed
  link is closed with 4001 again before it was stable, or the forced refresh fails: FAILED(AUTH).
- A token_failed for an ordinary (not forced) token request counts as a failed attempt and
  backs off: the refresh most likely failed for want of network. If the session is really
  over, the token manager ends it and the app calls stop().
- FAILED(EXHAUSTED) and FAILED(AUTH) retry quietly every 60 s (AUTH with a forced refresh);
  FAILED(FORBIDDEN) and FAILED(UNSUPPORTED) never retry.
- A handshake (token + open) still unfinished after CONNECT_TIMEOUT (10 s) is a failed
  attempt; a socket still opening is closed with 4000.
- "Offline" moves FAILED(EXHAUSTED) to DISCONNECTED (error table: "Network offline" shows
  "Reconnecting..."), and cancels its quiet timer; FAILED(AUTH/FORBIDDEN/UNSUPPORTED) stay.
- GapFill (edge 7) follows every CONNECTED except the one the very first attempt after start()
  reaches: the page's initial HTTP load covers that one; any later link, including a first
  link after failed attempts (time passed in backoff), may have missed messages.
- stop() emits no StateChanged: the view it reported to is going away.
- visibility_changed / network_changed act on changes only (hidden -> visible,
  offline -> online); repeating the current value does nothing.
- A 1012 (service restart: a deploy, serve.py's SIGTERM) is a planned outage: the server said
  it is going and another process is coming. The machine reconnects at once and, while
  RESTART_GRACE lasts, retries every RESTART_RETRY_DELAY without spending backoff attempts;
  its CONNECTING/DISCONNECTED states carry reason RESTART, for which banner.py shows nothing.
  When the grace ends the outage is an ordinary one (backoff, then the banner, whose grace the
  outage is already past). Only a 1012 on an open link starts it: a server that answers every
  handshake with 1012 cannot hold the page in a fast loop, and one fast path at most per
  RESTART_GRACE: a server that accepts and closes with 1012 at once is retried every
  RESTART_RETRY_DELAY until the grace ends, then backed off.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Union

from core.backoff import MAX_ATTEMPTS, reconnect_delay
from core.constants import (
    CLOSE_AUTH_FAILED,
    CLOSE_CLIENT_TIMEOUT,
    CLOSE_FORBIDDEN,
    CLOSE_NORMAL,
    CLOSE_SERVICE_RESTART,
    CONNECT_TIMEOUT,
    FAILED_RETRY_INTERVAL,
    RESTART_RETRY_DELAY,
    STABLE_AFTER,
)
from core.heartbeat import Heartbeat
from core.planned_restart import PlannedRestart
from core.transitions import IllegalTransition
from core.ws_events import PING_FRAME, Pong, ServerEvent, classify_server_frame, typing_frame

__all__ = [
    "ConnectionState", "FailReason", "IllegalTransition", "ALLOWED_TRANSITIONS",
    "RequestToken", "OpenSocket", "CloseSocket", "SendFrame", "StateChanged", "Dispatch",
    "GapFill", "Log", "Action", "ConnectionMachine",
]


class ConnectionState(enum.Enum):
    """AC-8; the values are what `data-ws-state` shows."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class FailReason(enum.Enum):
    EXHAUSTED = "exhausted"  # AC-5: five retries failed; polling, quiet retry every 60 s
    FORBIDDEN = "forbidden"  # 4003: not a participant / archived; polling, never retry
    AUTH = "auth"  # edge 1: token refresh failed or 4001 right after one; polling, quiet retry
    UNSUPPORTED = "unsupported"  # error table: no WebSocket in this browser; polling only
    # Not a failure: CONNECTING/DISCONNECTED during a planned server restart (1012); no banner.
    RESTART = "restart"


_S = ConnectionState
ALLOWED_TRANSITIONS: Dict[ConnectionState, FrozenSet[ConnectionState]] = {
    # DISCONNECTED is also the state before start(): start goes to CONNECTING, or to
    # FAILED(UNSUPPORTED), or reports DISCONNECTED when the network is known to be offline.
    _S.DISCONNECTED: frozenset({_S.CONNECTING, _S.FAILED, _S.DISCONNECTED}),
    # CONNECTING -> CONNECTING: the reason changes (a planned restart's grace ended mid-try).
    _S.CONNECTING: frozenset({_S.CONNECTED, _S.DISCONNECTED, _S.FAILED, _S.CONNECTING}),
    _S.CONNECTED: frozenset({_S.CONNECTING, _S.DISCONNECTED, _S.FAILED}),
    # FAILED -> FAILED: the reason changes (a quiet try meets 4003, say).
    _S.FAILED: frozenset({_S.CONNECTING, _S.CONNECTED, _S.DISCONNECTED, _S.FAILED}),
}


def check_transition(old: ConnectionState, new: ConnectionState) -> None:
    """Raise IllegalTransition (core/transitions.py) unless the table lets `old` become `new`."""
    if new not in ALLOWED_TRANSITIONS[old]:
        raise IllegalTransition(f"{old.value} -> {new.value}")


# ----------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class RequestToken:
    """Get an access token (refresh it first if expired, AC-4, or if `force_refresh`, edge 1);
    answer with token_ready(token, now) or token_failed(now)."""

    force_refresh: bool


@dataclass(frozen=True)
class OpenSocket:
    """`new WebSocket(url)`; report its events with this socket_id."""

    socket_id: int
    url: str


@dataclass(frozen=True)
class CloseSocket:
    """`ws.close(code, reason)`, then drop its listeners: the machine has forgotten this socket."""

    socket_id: int
    code: int
    reason: str


@dataclass(frozen=True)
class SendFrame:
    socket_id: int
    text: str


@dataclass(frozen=True)
class StateChanged:
    state: ConnectionState
    reason: Optional[FailReason]  # set when state is FAILED, or RESTART during a planned restart


@dataclass(frozen=True)
class Dispatch:
    """A validated new_message / typing_indicator / read_receipt for the app to apply."""

    event: ServerEvent


@dataclass(frozen=True)
class GapFill:
    """Fetch the messages after the last known id, once, after a RE-connect (edge 7)."""


@dataclass(frozen=True)
class Log:
    level: str  # "debug", "info" or "warning"
    message: str  # never holds the URL or a token


Action = Union[RequestToken, OpenSocket, CloseSocket, SendFrame, StateChanged, Dispatch, GapFill, Log]


# ----------------------------------------------------------------------------- machine


class _Phase(enum.Enum):
    """What the machine is waiting for (finer than ConnectionState, which is what users see)."""

    IDLE = "idle"  # before start()
    AWAIT_TOKEN = "await_token"
    AWAIT_OPEN = "await_open"
    OPEN = "open"
    WAIT_RETRY = "wait_retry"  # DISCONNECTED, backoff timer armed
    WAIT_QUIET = "wait_quiet"  # FAILED(EXHAUSTED/AUTH), 60 s timer armed
    OFFLINE = "offline"  # DISCONNECTED, waiting for network_changed(True)
    HALTED = "halted"  # FAILED(FORBIDDEN/UNSUPPORTED): nothing more to do
    STOPPED = "stopped"  # after stop(): every input is ignored


_LIVE = (_Phase.AWAIT_TOKEN, _Phase.AWAIT_OPEN, _Phase.OPEN)


class ConnectionMachine:
    """One conversation's socket lifecycle; see the module docstring."""

    def __init__(self, conversation_id: Optional[int], build_url: Callable[[str], str],
                 websocket_supported: bool = True, classify: Optional[Callable[[Any], Any]] = None) -> None:
        self.conversation_id = conversation_id
        self._build_url = build_url
        # The frames this socket speaks: (event, "") or (None, why); the inbox passes its own.
        self._classify = classify or (lambda text: classify_server_frame(text, conversation_id))
        self._websocket_supported = websocket_supported

        self._state = ConnectionState.DISCONNECTED
        self._reason: Optional[FailReason] = None
        self._phase = _Phase.IDLE
        self._attempt = 0  # retries used in the current run of failures (AC-5)
        self._attempts_begun = 0  # edge 7: a link from any attempt but the first is a RE-connect
        self._visible = True
        self._online = True

        self._last_socket_id = 0
        self._socket_id: Optional[int] = None  # the one socket whose events count

        self._force_next = False  # the next RequestToken forces a refresh (after 4001)
        self._forced_now = False  # the current link rests on a forced refresh, not yet stable

        # Deadlines, in wall-clock seconds; None when not armed.
        self._retry_at: Optional[float] = None
        self._connect_deadline: Optional[float] = None
        self._stable_at: Optional[float] = None
        self._beat = Heartbeat()  # AC-7: its ping and pong deadlines
        self._restart = PlannedRestart()  # a 1012's grace

    # ------------------------------------------------------------------ what it shows

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def reason(self) -> Optional[FailReason]:
        return self._reason

    @property
    def attempt(self) -> int:
        """Backoff retries used since the last stable link (0..MAX_ATTEMPTS)."""
        return self._attempt

    @property
    def realtime(self) -> bool:
        """True iff CONNECTED: the app may stop message polling (AC-13, AC-26, AC-27)."""
        return self._state is ConnectionState.CONNECTED

    @property
    def stopped(self) -> bool:
        return self._phase is _Phase.STOPPED

    def next_wakeup(self) -> Optional[float]:
        """When the adapter must call tick(now) next; None means no timer is needed."""
        if self._phase in _LIVE or self._phase in (_Phase.WAIT_RETRY, _Phase.WAIT_QUIET):
            pending = [t for t in (self._retry_at, self._connect_deadline, self._stable_at,
                                   *self._beat.deadlines()) if t is not None]
            return min(pending) if pending else None
        return None

    # ------------------------------------------------------------------ inputs

    def start(self, now: float) -> List[Action]:
        if self._phase is not _Phase.IDLE:
            return []
        if not self._websocket_supported:
            # Error table: "Browser doesn't support WebSocket -> falls back to HTTP polling".
            self._phase = _Phase.HALTED
            return self._set_state(ConnectionState.FAILED, FailReason.UNSUPPORTED)
        if not self._online:
            self._phase = _Phase.OFFLINE
            return [StateChanged(ConnectionState.DISCONNECTED, None)]
        return self._begin_attempt(now, loud=True)

    def stop(self, now: float) -> List[Action]:
        """Purposeful close (AC-10, SPEC decision 4): code 1000, never a reconnect."""
        if self._phase is _Phase.STOPPED:
            return []
        actions: List[Action] = []
        if self._socket_id is not None:
            actions.append(CloseSocket(self._socket_id, CLOSE_NORMAL, "client closed"))
        self._socket_id = None
        self._clear_timers()
        self._restart.end()
        self._phase = _Phase.STOPPED
        actions.append(Log("debug", f"conversation {self.conversation_id}: socket machine stopped"))
        return actions

    def token_ready(self, token: str, now: float) -> List[Action]:
        if self._phase is not _Phase.AWAIT_TOKEN:
            return []
        if not isinstance(token, str) or not token:
            return self.token_failed(now)
        try:
            url = self._build_url(token)
        except Exception as error:  # an adapter/config bug: back off rather than crash
            return [Log("warning", f"could not build the WebSocket URL ({type(error).__name__})")] + \
                self._connection_lost(now)
        self._last_socket_id += 1
        self._socket_id = self._last_socket_id
        self._phase = _Phase.AWAIT_OPEN
        return [OpenSocket(self._socket_id, url)]

    def token_failed(self, now: float) -> List[Action]:
        if self._phase is not _Phase.AWAIT_TOKEN:
            return []
        if self._forced_now:
            # Edge 1 / error table: "If refresh fails, fall back to polling".
            return [Log("info", "token refresh after 4001 failed")] + self._fail(now, FailReason.AUTH)
        return [Log("info", "could not get an access token")] + self._connection_lost(now)

    def socket_open(self, socket_id: int, now: float) -> List[Action]:
        if self._phase is not _Phase.AWAIT_OPEN or socket_id != self._socket_id:
            return []
        self._phase = _Phase.OPEN
        self._connect_deadline = None
        self._restart.end()
        self._stable_at = now + STABLE_AFTER
        self._beat.start(now)  # AC-7
        actions = self._set_state(ConnectionState.CONNECTED, None)
        if self._attempts_begun > 1:
            actions.append(GapFill())  # edge 7: one refetch for what the gap missed
        return actions

    def socket_message(self, socket_id: Any, text: Any, now: float) -> List[Action]:
        if self._phase is not _Phase.OPEN or socket_id != self._socket_id:
            return []
        event, why = self._classify(text)
        if event is None:
            return [Log("debug", f"ignored a WebSocket frame: {why}")]  # edge 11
        if isinstance(event, Pong):
            self._beat.pong()  # AC-7: the link is alive
            return []
        return [Dispatch(event)]

    def socket_closed(self, socket_id: Any, code: Any, now: float) -> List[Action]:
        if self._phase not in (_Phase.AWAIT_OPEN, _Phase.OPEN) or socket_id != self._socket_id:
            return []
        was_open = self._phase is _Phase.OPEN
        self._note_stability(now)
        self._socket_id = None  # already closed: nothing to close
        log = Log("info", f"socket {'closed' if was_open else 'failed to open'} (code {_code_text(code)})")
        if code == CLOSE_FORBIDDEN:
            return [log] + self._fail(now, FailReason.FORBIDDEN)
        if code == CLOSE_AUTH_FAILED:
            return [log] + self._auth_rejected(now)
        if code == CLOSE_SERVICE_RESTART and was_open and self._state is ConnectionState.CONNECTED and \
                self._restart.begin(now):
            return [log] + self._begin_attempt(now, loud=True)
        return [log] + self._connection_lost(now)

    def visibility_changed(self, visible: bool, now: float) -> List[Action]:
        was_visible, self._visible = self._visible, bool(visible)
        if was_visible or not self._visible:
            return []
        # AC-6, edge 3: hidden -> visible.
        if self._phase is _Phase.OPEN:
            if self._beat.pong_overdue(now):
                return self._declare_dead(now, "no pong before the tab was hidden")
            return self._probe(now)  # an OPEN-looking socket may be dead after sleep
        if not self._online:
            return []  # the network will say when it is back
        return self._reconnect_now(now)

    def network_changed(self, online: bool, now: float) -> List[Action]:
        was_online, self._online = self._online, bool(online)
        if was_online == self._online or self._phase in (_Phase.IDLE, _Phase.STOPPED):
            return []
        if self._online:
            return self._reconnect_now(now)
        # Offline: probe a live link; otherwise stop burning retries until the network is back.
        if self._phase is _Phase.OPEN:
            return self._probe(now)
        if self._phase is _Phase.HALTED or self._reason is FailReason.AUTH:
            return []
        actions: List[Action] = []
        if self._socket_id is not None:
            actions.append(CloseSocket(self._socket_id, CLOSE_NORMAL, "network offline"))
            self._socket_id = None
        self._clear_timers()
        self._phase = _Phase.OFFLINE
        return actions + self._set_state(ConnectionState.DISCONNECTED, None)

    def tick(self, now: float) -> List[Action]:
        phase = self._phase
        if phase in (_Phase.AWAIT_TOKEN, _Phase.AWAIT_OPEN):
            if self._connect_deadline is not None and now >= self._connect_deadline:
                actions: List[Action] = [Log("info", "handshake timed out")]
                if self._socket_id is not None:
                    actions.append(CloseSocket(self._socket_id, CLOSE_CLIENT_TIMEOUT, "handshake timed out"))
                    self._socket_id = None
                return actions + self._connection_lost(now)
            return []
        if phase is _Phase.OPEN:
            self._note_stability(now)
            return self._heartbeat(now)
        if phase in (_Phase.WAIT_RETRY, _Phase.WAIT_QUIET):
            if self._retry_at is not None and now >= self._retry_at:
                return self._begin_attempt(now, loud=phase is _Phase.WAIT_RETRY)
        return []

    def send_typing(self, is_typing: bool, now: float) -> List[Action]:
        """AC-16..AC-19: a typing frame, only when there is a live link to carry it."""
        return self.send_frame(typing_frame(bool(is_typing)))

    def send_frame(self, text: str) -> List[Action]:
        """A client frame on the live link; nothing when there is none (it is not queued)."""
        if self._phase is not _Phase.OPEN or self._socket_id is None:
            return []
        return [SendFrame(self._socket_id, text)]

    # ------------------------------------------------------------------ internals

    def _set_state(self, state: ConnectionState, reason: Optional[FailReason]) -> List[Action]:
        if (state, reason) == (self._state, self._reason):
            return []
        check_transition(self._state, state)
        self._state, self._reason = state, reason
        return [StateChanged(state, reason)]

    def _clear_timers(self) -> None:
        self._retry_at = self._connect_deadline = self._stable_at = None
        self._beat.stop()

    def _begin_attempt(self, now: float, loud: bool) -> List[Action]:
        """Ask for a token; a quiet attempt (inside FAILED) keeps the state, so no banner flicker."""
        self._clear_timers()
        self._phase = _Phase.AWAIT_TOKEN
        self._attempts_begun += 1
        self._connect_deadline = now + CONNECT_TIMEOUT
        self._forced_now, self._force_next = self._force_next, False
        # CONNECTING(RESTART) while a planned restart's grace lasts: no banner.
        reason = FailReason.RESTART if self._restart.active(now) else None
        actions = self._set_state(ConnectionState.CONNECTING, reason) if loud else []
        actions.append(RequestToken(force_refresh=self._forced_now))
        return actions

    def _note_stability(self, now: float) -> None:
        # Backoff resets only after the link stayed open STABLE_AFTER seconds (see docstring).
        if self._phase is _Phase.OPEN and self._stable_at is not None and now >= self._stable_at:
            self._stable_at = None
            self._attempt = 0
            self._forced_now = False

    def _connection_lost(self, now: float) -> List[Action]:
        """A link or an attempt ended without our asking: back off (AC-5), or wait (offline)."""
        self._socket_id = None
        self._clear_timers()
        if self._state is ConnectionState.FAILED:
            # A quiet try failed: stay FAILED, try again in a minute.
            self._phase = _Phase.WAIT_QUIET
            self._retry_at = now + FAILED_RETRY_INTERVAL
            self._force_next = self._reason is FailReason.AUTH
            return []
        if not self._online:
            self._phase = _Phase.OFFLINE
            return self._set_state(ConnectionState.DISCONNECTED, None)
        if self._restart.active(now):
            # The new server is not listening yet: try again soon, no backoff attempt spent.
            self._phase = _Phase.WAIT_RETRY
            self._retry_at = now + RESTART_RETRY_DELAY
            return self._set_state(ConnectionState.DISCONNECTED, FailReason.RESTART)
        if self._attempt >= MAX_ATTEMPTS:
            return [Log("warning", "real-time updates unavailable; falling back to polling")] + \
                self._fail(now, FailReason.EXHAUSTED)
        self._attempt += 1
        delay = reconnect_delay(self._attempt)
        self._phase = _Phase.WAIT_RETRY
        self._retry_at = now + delay
        return self._set_state(ConnectionState.DISCONNECTED, None) + \
            [Log("info", f"reconnect attempt {self._attempt} of {MAX_ATTEMPTS} in {delay:g} s")]

    def _fail(self, now: float, reason: FailReason) -> List[Action]:
        self._socket_id = None
        self._clear_timers()
        if reason in (FailReason.EXHAUSTED, FailReason.AUTH):
            self._phase = _Phase.WAIT_QUIET
            self._retry_at = now + FAILED_RETRY_INTERVAL
            self._force_next = reason is FailReason.AUTH
        else:
            self._phase = _Phase.HALTED  # 4003: no retries, ever
        return self._set_state(ConnectionState.FAILED, reason)

    def _auth_rejected(self, now: float) -> List[Action]:
        """Edge 1: 4001 -> refresh the token and reconnect, but only once in a row."""
        if self._forced_now:
            return self._fail(now, FailReason.AUTH)
        self._force_next = True
        return self._begin_attempt(now, loud=self._state is not ConnectionState.FAILED)

    def _reconnect_now(self, now: float) -> List[Action]:
        """AC-6 / network back: reconnect at once with the backoff reset, if we are waiting."""
        waiting_quietly = self._phase is _Phase.WAIT_QUIET and self._reason is FailReason.EXHAUSTED
        if self._phase in (_Phase.WAIT_RETRY, _Phase.OFFLINE) or waiting_quietly:
            self._attempt = 0
            return self._begin_attempt(now, loud=True)
        if self._phase in (_Phase.AWAIT_TOKEN, _Phase.AWAIT_OPEN) and self._reason is FailReason.EXHAUSTED:
            # A quiet try is already under way: let it run, but as a loud one with a fresh backoff.
            self._attempt = 0
            return self._set_state(ConnectionState.CONNECTING, None)
        return []

    def _heartbeat(self, now: float) -> List[Action]:
        """AC-7, judged by the wall clock (ticks may come late; see core/heartbeat.py)."""
        why = self._beat.dead_because(now, self._visible)
        if why is not None:
            return self._declare_dead(now, why)
        return self._ping(now) if self._beat.ping_due(now) else []

    def _ping(self, now: float) -> List[Action]:
        assert self._socket_id is not None
        self._beat.sent(now)
        return [SendFrame(self._socket_id, PING_FRAME)]

    def _probe(self, now: float) -> List[Action]:
        """Ping now unless a ping is already waiting for its pong."""
        return [] if self._beat.awaiting_pong else self._ping(now)

    def _declare_dead(self, now: float, why: str) -> List[Action]:
        assert self._socket_id is not None
        self._note_stability(now)
        close = CloseSocket(self._socket_id, CLOSE_CLIENT_TIMEOUT, why)
        self._socket_id = None
        return [close, Log("info", f"socket declared dead: {why}")] + self._connection_lost(now)


def _code_text(code: Any) -> str:
    return str(code) if isinstance(code, int) and not isinstance(code, bool) else "none"
