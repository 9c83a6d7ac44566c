"""The in-process group registry: conversation id -> open sockets, like a Channels group.

Each `Connection` owns an outbox and one writer task, so a broadcast only queues text and
returns: a slow or dead socket never holds up the others. A socket whose backlog of events
overflows is dropped (aborted) rather than allowed to grow without bound; the client fills
the gap from the REST history when it reconnects.

Typing indicators never enter that backlog: each connection keeps at most one pending
indicator per typer (a newer one replaces it) and sends them after the queued events, so a
typing flood can neither fill the outbox nor push a message out of it.

Inbox connections (CONTRACT "Inbox socket", `conversation_id` None) are registered per
user rather than per conversation: `notify_inboxes` sends a conversation's events to the
inboxes of its participants, so a page's conversation list can be live.

An event is encoded at most once (`Outgoing`): a new message goes to its conversation's
sockets and to its participants' inboxes as the same frame text (CONTRACT: the same
`{"type": "new_message", "message": ...}` on both), so `messaging.deliver` hands both the
same `Outgoing` and json.dumps runs once per message, not once per audience; not at all when
no socket is there to take it.

`silent` connections model a half-open link (the `silent` fault): nothing more is sent on
them, not even a close frame, until the peer gives up or the server shuts down.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Protocol

MAX_BACKLOG = 256


class SocketLike(Protocol):
    async def send_text(self, data: str) -> None: ...
    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Outgoing:
    """One event to send, encoded on first use and then shared by every socket it goes to."""

    __slots__ = ("event", "_text")

    def __init__(self, event: dict) -> None:
        self.event = event
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = json.dumps(self.event)
        return self._text


def _text(value: str | Outgoing) -> str:
    return value if isinstance(value, str) else value.text


def _outgoing(event: dict | Outgoing) -> Outgoing:
    return event if isinstance(event, Outgoing) else Outgoing(event)


@dataclass(frozen=True)
class _Close:
    code: int


ABNORMAL_CLOSURE = 1006  # not a code one can send: it means "the TCP link ended without a close frame"


class Connection:
    def __init__(self, socket: SocketLike, conversation_id: int | None, user_id: int, *, silent: bool = False,
                 session_id: str | None = None, socket_id: str | None = None) -> None:
        self.socket = socket
        self.socket_id = socket_id  # its name in the per-user socket count (`ctx.shared`)
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.session_id = session_id
        self.silent = silent
        # An inbox socket's page holds this conversation's own socket (its `focus` frame): the
        # conversation's events are left out of this inbox, so a burst reaches the page once.
        self.focus: int | None = None
        self.aborted = False
        self.closing = False  # a close frame is queued; what the peer sends now is moot
        # Set when the socket's handler should return: closed, aborted, or the peer went away.
        self.finished = asyncio.Event()
        self._outbox: deque[str | _Close] = deque()
        self._typing: dict[int, str] = {}  # typer's user id -> the latest indicator, not yet sent
        self._wakeup = asyncio.Event()

    def backlog(self) -> int:
        return len(self._outbox)

    def send_text(self, text: str) -> None:
        if not self.silent:
            self._enqueue(text)

    def send_typing(self, typer_id: int, text: str) -> None:
        """Coalesced: only the typer's latest indicator waits to be sent."""
        if not self.silent and not self.finished.is_set() and not self.closing:
            self._typing[typer_id] = text
            self._wakeup.set()

    def send_json(self, event: dict) -> None:
        self.send_text(json.dumps(event))

    def close(self, code: int, *, even_if_silent: bool = False) -> bool:
        """Queue a close frame after what is already queued; 1006 drops the link with none.

        A silent connection sends no close frame (unless `even_if_silent`), but can still be
        dropped. Returns whether anything was done.
        """
        if code == ABNORMAL_CLOSURE:
            self.abort()
            return True
        if self.silent and not even_if_silent:
            return False
        self.closing = True
        self._enqueue(_Close(code))
        return True

    def abort(self) -> None:
        """End the connection without a close frame; the peer sees 1006."""
        self.aborted = True
        self.finished.set()

    def _enqueue(self, item: str | _Close) -> None:
        if self.finished.is_set():
            return
        if len(self._outbox) >= MAX_BACKLOG:
            self.abort()
            return
        self._outbox.append(item)
        self._wakeup.set()

    def _next(self) -> str | _Close | None:
        if self._outbox:
            return self._outbox.popleft()
        if self._typing and not self.closing:
            typer = next(iter(self._typing))
            return self._typing.pop(typer)
        return None

    async def run_writer(self) -> None:
        """Carry the outbox to the socket, in order, until a close is sent or the socket fails."""
        try:
            while True:
                item = self._next()
                if item is None:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                if isinstance(item, _Close):
                    await self.socket.close(item.code)
                    return
                await self.socket.send_text(item)
        except Exception:  # the peer is gone; nothing left to deliver
            pass
        finally:
            self.finished.set()


class Hub:
    def __init__(self) -> None:
        self._groups: dict[int, set[Connection]] = {}
        self._inboxes: dict[int, set[Connection]] = {}  # user id -> that user's inbox sockets
        self._per_user: dict[int, int] = {}

    def _registry(self, conn: Connection) -> tuple[dict[int, set[Connection]], int]:
        if conn.conversation_id is None:
            return self._inboxes, conn.user_id
        return self._groups, conn.conversation_id

    def join(self, conn: Connection) -> None:
        registry, key = self._registry(conn)
        registry.setdefault(key, set()).add(conn)
        self._per_user[conn.user_id] = self._per_user.get(conn.user_id, 0) + 1

    def user_count(self, user_id: int) -> int:
        """How many sockets `user_id` has open, over all conversations."""
        return self._per_user.get(user_id, 0)

    def leave(self, conn: Connection) -> None:
        registry, key = self._registry(conn)
        group = registry.get(key)
        if group is not None and conn in group:
            group.discard(conn)
            if not group:
                del registry[key]
            left = self._per_user[conn.user_id] - 1
            if left:
                self._per_user[conn.user_id] = left
            else:
                del self._per_user[conn.user_id]

    def connections(self, conversation_id: int | None = None) -> list[Connection]:
        if conversation_id is not None:
            return list(self._groups.get(conversation_id, ()))
        return [conn for registry in (self._groups, self._inboxes) for group in registry.values() for conn in group]

    def broadcast(self, conversation_id: int, event: dict | Outgoing, *, except_user: int | None = None) -> None:
        outgoing = _outgoing(event)
        for conn in self.connections(conversation_id):
            if conn.user_id != except_user:
                conn.send_text(outgoing.text)

    def broadcast_text(self, conversation_id: int, text: str | Outgoing) -> None:
        """A frame to the conversation's sockets (what the fan-out delivers); an `Outgoing`
        is encoded only when a socket is there to take it."""
        group = self._groups.get(conversation_id)
        if group:
            text = _text(text)
            for conn in list(group):
                conn.send_text(text)

    def notify_inboxes(self, user_ids: tuple[int, ...], event: dict | Outgoing,
                       conversation_id: int | None = None) -> None:
        """A conversation's event to its participants' inbox sockets (all their tabs)."""
        self.notify_inboxes_text(user_ids, _outgoing(event).text, conversation_id)

    def notify_inboxes_text(self, user_ids: tuple[int, ...], text: str | Outgoing,
                            conversation_id: int | None = None) -> None:
        """... except the inboxes whose page holds `conversation_id`'s own socket (`focus`)."""
        for user_id in set(user_ids):
            for conn in list(self._inboxes.get(user_id, ())):
                if conversation_id is None or conn.focus != conversation_id:
                    conn.send_text(_text(text))

    def inbox_count(self) -> int:
        return sum(len(group) for group in self._inboxes.values())

    def typing(self, conversation_id: int, typer_id: int, event: dict) -> None:
        """A typing indicator to the conversation's other participants' sockets, coalesced."""
        self.typing_text(conversation_id, typer_id, json.dumps(event))

    def typing_text(self, conversation_id: int, typer_id: int, text: str) -> None:
        for conn in self.connections(conversation_id):
            if conn.user_id != typer_id:
                conn.send_typing(typer_id, text)

    def close_session(self, session_id: str, code: int) -> int:
        """Close the sockets opened with that session's tokens (it was revoked)."""
        return sum(conn.close(code) for conn in self.connections() if conn.session_id == session_id)

    def open_counts(self) -> dict[int, int]:
        return {cid: len(group) for cid, group in self._groups.items()}

    def close(self, conversation_id: int | None, code: int, *, even_if_silent: bool = False) -> int:
        """Close those sockets with `code`; return how many were closed or dropped."""
        return sum(conn.close(code, even_if_silent=even_if_silent) for conn in self.connections(conversation_id))

    async def close_all(self, code: int, timeout: float = 2.0) -> None:
        """Close every socket with `code` and wait (bounded) until the close frames are out."""
        conns = self.connections()
        for conn in conns:
            conn.close(code, even_if_silent=True)
        if not conns:
            return
        waiters = [asyncio.ensure_future(conn.finished.wait()) for conn in conns]
        _, pending = await asyncio.wait(waiters, timeout=timeout)
        for waiter in pending:
            waiter.cancel()
