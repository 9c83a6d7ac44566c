"""Optimistic sends: messages shown at once, before the server has confirmed them.

Theory of operation. A sent message enters the outbox as PENDING with a
client_message_id (a UUID made once per message). It leaves the outbox when
the server's copy turns up, by the send answer or by the socket's
``new_message``, whichever comes first (``resolve``); the server's copy then
lives in the MessageLog, so the view shows the message exactly once. A later
arrival of the same server message is a no-op. A send that fails stays as
FAILED with a retry that reuses the same client_message_id, so a backend that
honours it cannot store it twice.

    box = Outbox(conversation_id=7)
    entry = box.add("See you at 6", cmid, now, after_id=log.last_id)
    ... POST send/ with entry.client_message_id ...
    box.resolve(server_message, my_user_id)   # answer or socket, in any order
    box.mark_failed(cmid, "network")           # the POST failed
    again = box.retry(cmid)                    # None: nothing to resend

Across a reload (``to_json`` / ``from_json``, kept in localStorage by the
adapter) every entry comes back FAILED, "not sent, tap to retry": it is never
dropped silently and never sent again without the user asking. After the
reload's first fetch, ``reconcile(messages, me)`` drops the entries the server
had stored after all.

One outbox per open conversation, owned by core/open_conversation.py.
"""
from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Deque, Dict, Iterable, List, Optional, Set

RESOLVED_MEMORY = 500
NOT_SENT_AFTER_RELOAD = "not sent (page was reloaded)"


class SendStatus(str, Enum):
    PENDING = "pending"  # on its way; nothing to do
    FAILED = "failed"  # shown as "not sent, tap to retry"


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
            )
        )

    def mark_failed(self, client_message_id: str, detail: Optional[str] = None) -> Optional[PendingMessage]:
        """The send failed. A message already confirmed (socket came first) is left alone."""
        entry = self._entries.get(client_message_id)
        if entry is None:
            return None
        if entry.status is SendStatus.FAILED and entry.error == detail:
            return entry
        return self._put(replace(entry, status=SendStatus.FAILED, error=detail))

    def retry(self, client_message_id: str) -> Optional[PendingMessage]:
        """Send a failed message again, with the same client_message_id.

        Returns the entry to send, or None when there is nothing to send: already
        confirmed, unknown, or still on its way (a double tap must not send twice).
        """
        entry = self._entries.get(client_message_id)
        if entry is None or entry.status is not SendStatus.FAILED:
            return None
        return self._put(replace(entry, status=SendStatus.PENDING, error=None, attempts=entry.attempts + 1))

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
        """Unconfirmed messages from before a reload, every one FAILED ("not sent").

        Raises ValueError when the stored text is not an outbox.
        """
        try:
            data = json.loads(text)
            box = cls(data["conversation_id"])
            for raw in data["entries"]:
                after_id = raw.get("after_id")
                entry = PendingMessage(
                    client_message_id=str(raw["client_message_id"]),
                    conversation_id=box.conversation_id,
                    content=str(raw["content"]),
                    created_at=float(raw["created_at"]),
                    status=SendStatus.FAILED,
                    image_name=raw.get("image_name"),
                    error=NOT_SENT_AFTER_RELOAD,
                    attempts=int(raw.get("attempts", 1)),
                    after_id=int(after_id) if after_id is not None else None,
                    restored=True,
                )
                box._entries[entry.client_message_id] = entry
        except (TypeError, KeyError, AttributeError, ValueError) as error:
            raise ValueError(f"not a stored outbox: {error}") from None
        return box
