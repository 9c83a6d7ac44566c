"""Optimistic sends held until the server answers: the outbox.

Theory of operation. A sent message enters the outbox with a client_message_id (a
UUID made once per message) and is shown at once. It leaves the outbox when the
server's copy turns up, by the send answer or by the socket's ``new_message``,
whichever comes first (``resolve``); the server's copy then lives in the MessageLog,
so the view shows the message exactly once. A later arrival of the same server
message is a no-op.

Sends go out ONE AT A TIME, in the order written (``take_next``): the next is posted
when the one in flight is answered. Three states for an entry:

    PENDING  "Sending…": in flight, or next in line while the link works
    HELD     "Sending…" with a clock mark: the link is down (the request got no
             answer, or a 5xx / 408 / timeout); it waits, it is not failed
    FAILED   "Not sent: <the server's reason>. Retry": the server refused it (4xx)

A send that gets no answer (``hold``) puts the whole outbox on hold: every waiting
entry becomes HELD, and one probe (the oldest entry, same client_message_id) goes out
at ``retry_at`` on a growing backoff (2, 4, 8, 16, 30, 30 … s), or as soon as the
adapter sees the server answer again (``link_up``: the socket connected, a fetch
succeeded). The first answer ends the hold and the rest follow in order. A refusal
(``mark_failed``) is also an answer: the next entry goes out. Because a retry always
reuses the client_message_id, a send cut mid-way is stored once (CONTRACT).

    box = Outbox(conversation_id=7)
    box.add("See you at 6", cmid, now, after_id=log.last_id)
    entry = box.take_next(now)                # PostMessage(entry) if not None
    box.resolve(server_message, my_user_id)   # answer or socket, in any order
    box.hold(cmid, now)                       # no answer: wait for the link
    box.mark_failed(cmid, "File too large.")  # the server said no
    again = box.retry(cmid)                   # the user pressed Retry

Across a reload (``to_json`` / ``from_json``, kept in localStorage per user by the
adapter) text entries come back HELD and go out by themselves once the server answers;
an entry with an image comes back FAILED (its bytes did not survive) and says so.
After the reload's first fetch, ``reconcile(messages, me)`` drops the entries the
server had stored after all; the client_message_id covers any the page did not show.

One outbox per open conversation, owned by core/open_conversation.py.
"""
from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Deque, Dict, Iterable, List, Optional, Set

RESOLVED_MEMORY = 500
IMAGE_LOST_ON_RELOAD = "The image was not kept when the page reloaded. Attach it again."
HOLD_DELAYS = (2.0, 4.0, 8.0, 16.0, 30.0)  # seconds between probes while held; then 30 s


class SendStatus(str, Enum):
    PENDING = "pending"  # in flight, or next in line while the link works
    HELD = "held"  # waiting for the link: "sending" with a clock mark
    FAILED = "failed"  # refused by the server: its reason and a Retry


@dataclass(frozen=True)
class PendingMessage:
    client_message_id: str
    conversation_id: Any
    content: str
    created_at: float  # the client's clock, for display order only
    status: SendStatus = SendStatus.PENDING
    image_name: Optional[str] = None
    error: Optional[str] = None
    attempts: int = 1
    # newest confirmed id when it was written: its server copy has a larger id
    after_id: Optional[int] = None
    # restored from storage: an attached image's bytes did not survive the reload
    restored: bool = False
    held_since: Optional[float] = None  # when it started waiting for the link

    def to_dict(self) -> Dict[str, Any]:
        return {
            "client_message_id": self.client_message_id,
            "conversation_id": self.conversation_id,
            "content": self.content,
            "created_at": self.created_at,
            "status": self.status.value,
            "image_name": self.image_name,
            "error": self.error,
            "attempts": self.attempts,
            "after_id": self.after_id,
            "restored": self.restored,
            "held_since": self.held_since,
        }


def _sender_id(message: Dict[str, Any]) -> Any:
    sender = message.get("sender")
    return sender.get("id") if isinstance(sender, dict) else None


class Outbox:
    """One conversation's unconfirmed messages, oldest first."""

    def __init__(self, conversation_id: Any) -> None:
        self.conversation_id = conversation_id
        self._entries: Dict[str, PendingMessage] = {}  # insertion order = send order
        self._resolved_ids: Set[Any] = set()
        self._resolved_order: Deque[Any] = deque()
        self._resolved_cmids: Set[str] = set()
        self.in_flight: Optional[str] = None  # the one send posted and not yet answered
        self.holding = False  # the link is down: nothing goes out until retry_at or link_up
        self.retry_at: Optional[float] = None
        self._probes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, client_message_id: str) -> Optional[PendingMessage]:
        return self._entries.get(client_message_id)

    def pending(self) -> List[PendingMessage]:
        """Every unconfirmed message (pending and failed), in the order written."""
        return list(self._entries.values())

    def _put(self, entry: PendingMessage) -> PendingMessage:
        self._entries[entry.client_message_id] = entry
        return entry

    def add(
        self,
        content: str,
        client_message_id: str,
        now: float,
        image_name: Optional[str] = None,
        *,
        after_id: Optional[int] = None,
    ) -> PendingMessage:
        """A message the user just sent: shown at once as pending."""
        if client_message_id in self._entries or client_message_id in self._resolved_cmids:
            raise ValueError("client_message_id already used")
        return self._put(
            PendingMessage(
                client_message_id=client_message_id,
                conversation_id=self.conversation_id,
                content=content,
                created_at=now,
                image_name=image_name,
                after_id=after_id,
                status=SendStatus.HELD if self.holding else SendStatus.PENDING,
                held_since=now if self.holding else None,
            )
        )

    # -- one at a time, in order ---------------------------------------------------

    def take_next(self, now: float) -> Optional[PendingMessage]:
        """The entry to post now, or None: one in flight at a time, oldest first.

        While held, only a probe due at ``retry_at`` goes out (the oldest held entry).
        """
        if self.in_flight is not None:
            return None
        if self.holding:
            if self.retry_at is None or now < self.retry_at:
                return None
            wanted = SendStatus.HELD
        else:
            wanted = SendStatus.PENDING
        for entry in self._entries.values():
            if entry.status is wanted:
                self.in_flight = entry.client_message_id
                if wanted is SendStatus.HELD:
                    self.retry_at = None  # this probe is the try; its outcome sets the next
                return self._put(replace(entry, status=SendStatus.PENDING))
        return None

    def hold(self, client_message_id: str, now: float) -> Optional[PendingMessage]:
        """The send got no answer (no network, 5xx, timeout): wait for the link, then resend."""
        if self.in_flight == client_message_id:
            self.in_flight = None
        entry = self._entries.get(client_message_id)
        if entry is None:
            return None  # confirmed meanwhile (socket first)
        self._probes += 1
        self.retry_at = now + HOLD_DELAYS[min(self._probes, len(HOLD_DELAYS)) - 1]
        self.holding = True
        for cmid, other in list(self._entries.items()):
            if other.status is SendStatus.PENDING:
                self._put(replace(other, status=SendStatus.HELD,
                                  held_since=other.held_since if other.held_since is not None else now))
        return self._entries[client_message_id]

    def link_up(self, now: float) -> bool:
        """The server answers again: held entries are due at once. True if any were held."""
        if not self.holding:
            return False
        self.retry_at = now
        return any(e.status is SendStatus.HELD for e in self._entries.values())

    def _answered(self, client_message_id: str) -> None:
        """The server answered a send: the link works, every held entry goes out in turn."""
        if self.in_flight == client_message_id:
            self.in_flight = None
        if self.holding:
            self.holding = False
            self.retry_at = None
            self._probes = 0
            for cmid, other in list(self._entries.items()):
                if other.status is SendStatus.HELD:
                    self._put(replace(other, status=SendStatus.PENDING, held_since=None))

    def next_wakeup(self) -> Optional[float]:
        return self.retry_at if self.holding and self.in_flight is None else None

    def mark_failed(self, client_message_id: str, detail: Optional[str] = None) -> Optional[PendingMessage]:
        """The send failed. A message already confirmed (socket came first) is left alone."""
        entry = self._entries.get(client_message_id)
        if entry is None:
            return None
        self._answered(client_message_id)
        if entry.status is SendStatus.FAILED and entry.error == detail:
            return entry
        return self._put(replace(entry, status=SendStatus.FAILED, error=detail, held_since=None))

    def retry(self, client_message_id: str) -> Optional[PendingMessage]:
        """Send a failed message again, with the same client_message_id.

        Returns the entry to send, or None when there is nothing to send: already
        confirmed, unknown, or still on its way (a double tap must not send twice).
        """
        entry = self._entries.get(client_message_id)
        if entry is None or entry.status is not SendStatus.FAILED:
            return None
        status = SendStatus.HELD if self.holding else SendStatus.PENDING
        return self._put(replace(entry, status=status, error=None, attempts=entry.attempts + 1))

    def discard(self, client_message_id: str) -> Optional[PendingMessage]:
        """The user gave up on a failed message. A pending one cannot be recalled."""
        entry = self._entries.get(client_message_id)
        if entry is None or entry.status is not SendStatus.FAILED:
            return None
        del self._entries[client_message_id]
        return entry

    def resolve(
        self,
        server_message: Dict[str, Any],
        my_user_id: Any,
        *,
        client_message_id: Optional[str] = None,
    ) -> Optional[str]:
        """The server's copy of a message arrived; returns the client_message_id it confirms.

        Matched by the message's own ``client_message_id`` field when the server
        echoes it, else by ``client_message_id=`` (the send answer's caller knows
        it; only for a message sent by me), else as the oldest entry with the same content and image-ness sent
        by me after its ``after_id``. A server id seen before is a no-op (edge 6).
        """
        server_id = server_message.get("id")
        if server_id in self._resolved_ids:
            return None
        echoed = server_message.get("client_message_id")
        entry: Optional[PendingMessage] = None
        if echoed:
            entry = self._entries.get(echoed)
        elif _sender_id(server_message) != my_user_id:
            return None  # the other party's message confirms none of ours
        elif client_message_id:
            entry = self._entries.get(client_message_id)
        else:
            entry = self._oldest_with_same_content(server_message)
        if entry is None:
            return None
        del self._entries[entry.client_message_id]
        self._answered(entry.client_message_id)
        self._remember(server_id, entry.client_message_id)
        return entry.client_message_id

    def reconcile(self, messages: Iterable[Dict[str, Any]], my_user_id: Any) -> List[str]:
        """Resolve against a fetched page (after a reload); returns the confirmed ids."""
        confirmed = []
        for message in messages:
            cmid = self.resolve(message, my_user_id)
            if cmid is not None:
                confirmed.append(cmid)
        return confirmed

    def _oldest_with_same_content(self, message: Dict[str, Any]) -> Optional[PendingMessage]:
        has_image = bool(message.get("image"))
        server_id = message.get("id")
        for entry in self._entries.values():
            # a server may trim surrounding whitespace; that is still our message
            if entry.content.strip() != (message.get("content") or "").strip():
                continue
            if (entry.image_name is not None) != has_image:
                continue
            if entry.after_id is not None and isinstance(server_id, int) and server_id <= entry.after_id:
                continue  # an older message that merely says the same thing
            return entry
        return None

    def _remember(self, server_id: Any, client_message_id: str) -> None:
        self._resolved_cmids.add(client_message_id)
        if server_id is None:
            return
        self._resolved_ids.add(server_id)
        self._resolved_order.append(server_id)
        if len(self._resolved_order) > RESOLVED_MEMORY:
            self._resolved_ids.discard(self._resolved_order.popleft())

    # -- surviving a reload --------------------------------------------------------

    def to_json(self) -> str:
        """The unconfirmed messages, for localStorage."""
        return json.dumps(
            {"conversation_id": self.conversation_id, "entries": [e.to_dict() for e in self._entries.values()]}
        )

    @classmethod
    def from_json(cls, text: str) -> "Outbox":
        """Unconfirmed messages from before a reload: text ones HELD (they go out once the
        server answers), ones with an image FAILED (the file is gone) with the reason.

        Raises ValueError when the stored text is not an outbox.
        """
        try:
            data = json.loads(text)
            box = cls(data["conversation_id"])
            for raw in data["entries"]:
                after_id = raw.get("after_id")
                image_name = raw.get("image_name")
                image_name = str(image_name) if image_name is not None else None
                refused = raw.get("status") == SendStatus.FAILED.value
                error = raw.get("error") if refused else None
                if image_name is not None:
                    status, error = SendStatus.FAILED, IMAGE_LOST_ON_RELOAD
                elif refused:
                    status, error = SendStatus.FAILED, str(error) if error else None
                else:
                    status = SendStatus.HELD
                held_since = raw.get("held_since")
                entry = PendingMessage(
                    client_message_id=str(raw["client_message_id"]),
                    conversation_id=box.conversation_id,
                    content=str(raw["content"]),
                    created_at=float(raw["created_at"]),
                    status=status,
                    image_name=image_name,
                    error=error,
                    attempts=int(raw.get("attempts", 1)),
                    after_id=int(after_id) if after_id is not None else None,
                    restored=True,
                    held_since=float(held_since) if status is SendStatus.HELD and held_since is not None else None,
                )
                box._entries[entry.client_message_id] = entry
                box.holding = box.holding or status is SendStatus.HELD
        except (TypeError, KeyError, AttributeError, ValueError) as error:
            raise ValueError(f"not a stored outbox: {error}") from None
        return box
