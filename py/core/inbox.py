"""The inbox socket's lifecycle (CONTRACT "Inbox socket"), as a Sans-I/O machine.

Theory of operation
-------------------
The inbox is an optional user-level socket that carries the events of all the user's
conversations, so that the conversation list is live. `InboxLink` wraps one
`ConnectionMachine` (core/connection_machine.py: token, 4001 refresh-once, ping/pong, backoff, hidden tab,
offline: exactly as the conversation socket does) and adds the one rule the contract adds:
a backend may have no inbox at all, and the page must then keep the spec's polling with no
banner and no retry storm.

It has the ConnectionMachine's inputs and actions, so the browser's `SocketAdapter` runs it
unchanged; the app only hears whether the link is live:

    link = InboxLink(build_url=lambda token: ws_inbox_url(token, ...))
    run(link.start(now))                 # RequestToken, then OpenSocket ... as a conversation socket
    link.realtime                        # True while the inbox is connected
    # StateChanged(CONNECTED) when it goes live, StateChanged(DISCONNECTED) when it stops being live

The rules:
- PROBE first: before a token is ever put in the inbox's URL, the link opens it WITHOUT one
  (`build_url(None)`). A backend with the inbox accepts and closes 4001 (bad token): the
  link then goes on as the conversation socket does. A backend without it fails that
  handshake (1006) or closes 4004: ABSENT. So a refused handshake never shows a token in
  the browser's console ("WebSocket connection to '...' failed" names the URL), and a
  backend without the inbox costs no token refresh. Each try after ABSENT probes again.
- ABSENT: the probe fails as above or does not answer within CONNECT_TIMEOUT; or the first
  link fails before it ever opened (a close before open, e.g. the 1006 of
  a refused handshake, or a handshake timeout), or the server closes with 4004 at any time,
  or a 4001 comes back after the forced refresh (the machine's FAILED(AUTH)), or 4003. The
  backend is then taken to have no inbox: no socket, no timer but one, and the next try is
  INBOX_ABSENT_RETRY (10 min) later, with a fresh machine. Tab visibility and the network
  coming back do not shorten that wait (they would be a retry storm against such a backend).
- Once a link has opened in this link's life, the backend is known to offer the inbox: a
  drop reconnects with the conversation socket's backoff (1..16 s, then a quiet try every
  60 s), and a failed handshake on such a retry is a drop like any other, not absence.
- 4001: the token is refreshed once and the link retried (the machine's rule); a second 4001
  in a row is ABSENT (10 min), never a loop.
- While the open chat's own socket is live it carries that conversation's new messages (and
  reports them to the session): `carried_by_chat(cid)` tells the server (a `focus` frame on
  the live link, and again on each new link), which then leaves that chat's events out of the
  inbox, so a burst in the open chat reaches the page once; a server that ignores the frame
  still sends copies, which the link drops unread (ws_events.classify_inbox_frame). `carried_by_chat(None)` as soon as that socket is down:
  the inbox's copies then go to the chat again. A copy dropped just before the chat's socket
  failed is the chat's to recover (its gap fill), as it would be without an inbox.
- Only live/not live is reported (StateChanged CONNECTED / DISCONNECTED): the inbox never
  shows a banner. The machine's GapFill is dropped: the session refetches the list itself
  each time the inbox goes live (core/session.py).
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional

from core.constants import CLOSE_AUTH_FAILED, CLOSE_CLIENT_TIMEOUT, CLOSE_NO_INBOX, CLOSE_NORMAL, CONNECT_TIMEOUT, \
    INBOX_ABSENT_RETRY
from core.models import is_int
from core.ws_events import classify_inbox_frame, focus_frame
from core.connection_machine import (Action, CloseSocket, ConnectionMachine, ConnectionState, FailReason, GapFill, Log,
                                     OpenSocket, StateChanged)

_GONE = (FailReason.AUTH, FailReason.FORBIDDEN, FailReason.UNSUPPORTED)


class InboxLink:
    """The inbox socket's lifecycle; see the module docstring."""

    def __init__(self, build_url: Callable[[Optional[str]], str], websocket_supported: bool = True) -> None:
        self._build_url = build_url
        self._websocket_supported = websocket_supported
        self._machine: Optional[ConnectionMachine] = None
        self._ever_open = False  # the backend has shown it offers the inbox
        self._opening: Optional[int] = None  # the socket whose handshake is under way
        self._absent_until: Optional[float] = None  # ABSENT: when to try again
        self._probe_id: Optional[int] = None  # the tokenless probe under way (ids -1, -2, ...)
        self._probe_deadline: Optional[float] = None
        self._last_probe_id = 0
        self._reported_live = False
        self._visible = True
        self._online = True
        self._stopped = False
        self._carried: Optional[int] = None  # the open chat whose live socket brings its messages

    # ------------------------------------------------------------------ what it shows

    @property
    def realtime(self) -> bool:
        return self._machine is not None and self._machine.realtime

    @property
    def absent(self) -> bool:
        return self._absent_until is not None

    @property
    def stopped(self) -> bool:
        return self._stopped

    def carried_by_chat(self, conversation_id: Optional[int]) -> List[Action]:
        """The conversation whose own live socket brings its new messages, or None; the server
        hears it (a `focus` frame) on the live link, or as soon as the next link opens."""
        carried = conversation_id if is_int(conversation_id) else None
        if carried == self._carried:
            return []
        self._carried = carried
        return self._tell_focus()

    def next_wakeup(self) -> Optional[float]:
        if self._stopped:
            return None
        if self._probe_id is not None:
            return self._probe_deadline
        if self._machine is None:
            return self._absent_until
        return self._machine.next_wakeup()

    # ------------------------------------------------------------------ inputs

    def start(self, now: float) -> List[Action]:
        if self._stopped or self._machine is not None or self._absent_until is not None or self._probe_id is not None:
            return []
        return self._probe(now)

    def stop(self, now: float) -> List[Action]:
        if self._stopped:
            return []
        self._stopped = True
        self._absent_until = None
        if self._probe_id is not None:
            probe, self._probe_id = self._probe_id, None
            return [CloseSocket(probe, CLOSE_NORMAL, "client closed")]
        if self._machine is None:
            return []
        actions = self._machine.stop(now)
        self._machine = None
        return [a for a in actions if not isinstance(a, StateChanged)]

    def token_ready(self, token: str, now: float) -> List[Action]:
        return self._delegate(now, lambda m: m.token_ready(token, now))

    def token_failed(self, now: float) -> List[Action]:
        return self._delegate(now, lambda m: m.token_failed(now))

    def socket_open(self, socket_id: int, now: float) -> List[Action]:
        was_live = self.realtime
        actions = self._delegate(now, lambda m: m.socket_open(socket_id, now))
        if self.realtime:
            self._ever_open = True
            self._opening = None
            if not was_live and self._carried is not None:  # a new link starts with no focus
                actions = actions + self._tell_focus()
        return actions

    def socket_message(self, socket_id: Any, text: Any, now: float) -> List[Action]:
        return self._delegate(now, lambda m: m.socket_message(socket_id, text, now))

    def socket_closed(self, socket_id: Any, code: Any, now: float) -> List[Action]:
        if self._probe_id is not None and socket_id == self._probe_id:
            self._probe_id = self._probe_deadline = None
            if code == CLOSE_AUTH_FAILED:  # the backend has an inbox and wants a token
                return [Log("debug", "inbox socket offered; connecting")] + self._new_machine(now)
            return self._go_absent(now, f"no inbox socket here (code {code}); next try in 10 min")
        machine = self._machine
        if machine is None:
            return []
        handshake_failed = socket_id == self._opening and not self._ever_open and code != CLOSE_AUTH_FAILED
        actions = self._delegate(now, lambda m: m.socket_closed(socket_id, code, now))
        if self._machine is machine and (code == CLOSE_NO_INBOX or handshake_failed) and not actions_ignored(actions):
            return actions + self._go_absent(now, f"no inbox socket here (code {code}); next try in 10 min")
        return actions

    def visibility_changed(self, visible: bool, now: float) -> List[Action]:
        self._visible = bool(visible)
        return self._delegate(now, lambda m: m.visibility_changed(visible, now))

    def network_changed(self, online: bool, now: float) -> List[Action]:
        self._online = bool(online)
        return self._delegate(now, lambda m: m.network_changed(online, now))

    def tick(self, now: float) -> List[Action]:
        if self._stopped:
            return []
        if self._probe_id is not None:
            if self._probe_deadline is not None and now >= self._probe_deadline:
                probe, self._probe_id, self._probe_deadline = self._probe_id, None, None
                return [CloseSocket(probe, CLOSE_CLIENT_TIMEOUT, "inbox probe timed out")] + \
                    self._go_absent(now, "inbox probe timed out; next try in 10 min")
            return []
        if self._machine is None:
            if self._absent_until is not None and now >= self._absent_until:
                self._absent_until = None
                return self._probe(now)
            return []
        opening = self._opening
        actions = self._delegate(now, lambda m: m.tick(now))
        timed_out = opening is not None and any(
            isinstance(a, CloseSocket) and a.socket_id == opening for a in actions)
        if timed_out and not self._ever_open and self._machine is not None:
            return actions + self._go_absent(now, "inbox handshake timed out; next try in 10 min")
        return actions

    def send_typing(self, is_typing: bool, now: float) -> List[Action]:
        return []  # the inbox carries no typing

    # ------------------------------------------------------------------ internals

    def _probe(self, now: float) -> List[Action]:
        if not self._websocket_supported:
            return self._go_absent(now, "no WebSocket in this browser")
        try:
            url = self._build_url(None)
        except Exception as error:  # a config bug: behave as a backend without the inbox
            return self._go_absent(now, f"could not build the inbox URL ({type(error).__name__})")
        self._last_probe_id -= 1
        self._probe_id = self._last_probe_id
        self._probe_deadline = now + CONNECT_TIMEOUT
        return [OpenSocket(self._probe_id, url)]

    def _tell_focus(self) -> List[Action]:
        """CONTRACT "Inbox socket", the optional `focus` frame: a server that knows it leaves the
        carried chat's events out, so a burst reaches the page once (one that does not is
        covered by dropping the copies here, `_classify`)."""
        if self._machine is None or self._stopped:
            return []
        return self._machine.send_frame(focus_frame(self._carried))

    def _classify(self, text: Any) -> Any:
        return classify_inbox_frame(text, self._carried)

    def _new_machine(self, now: float) -> List[Action]:
        self._machine = ConnectionMachine(None, self._build_url, websocket_supported=self._websocket_supported,
                                          classify=self._classify)
        # A fresh machine learns what the old one knew about the tab and the network.
        self._machine.visibility_changed(self._visible, now)
        self._machine.network_changed(self._online, now)
        return self._delegate(now, lambda m: m.start(now))

    def _delegate(self, now: float, step: Callable[[ConnectionMachine], List[Action]]) -> List[Action]:
        if self._stopped or self._machine is None:
            return []
        actions = step(self._machine)
        out: List[Action] = []
        for action in actions:
            if isinstance(action, OpenSocket):
                self._opening = action.socket_id
            if isinstance(action, (StateChanged, GapFill)):
                continue
            out.append(action)
        machine = self._machine
        if machine.state is ConnectionState.FAILED and machine.reason in _GONE:
            return out + self._go_absent(now, f"inbox unavailable ({machine.reason.value}); next try in 10 min")
        return out + self._report()

    def _go_absent(self, now: float, why: str) -> List[Action]:
        actions: List[Action] = []
        if self._machine is not None:
            actions = [a for a in self._machine.stop(now) if isinstance(a, CloseSocket)]
        self._machine = None
        self._opening = None
        self._ever_open = False  # the next try, 10 min on, judges the backend afresh
        self._absent_until = now + INBOX_ABSENT_RETRY
        return actions + [Log("debug", why)] + self._report()

    def _report(self) -> List[Action]:
        live = self.realtime
        if live == self._reported_live:
            return []
        self._reported_live = live
        return [StateChanged(ConnectionState.CONNECTED if live else ConnectionState.DISCONNECTED, None)]


def actions_ignored(actions: List[Action]) -> bool:
    """True when the machine ignored the input (a late event from a socket it forgot)."""
    return not actions
