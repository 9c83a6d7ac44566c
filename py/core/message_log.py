"""One conversation's confirmed messages, kept in id order, with a change journal.

Theory of operation. The log is the value under ``("messages", cid)`` in the
query cache. It is changed in place (so appending one message never copies
5,000) and every change that does something bumps ``revision`` by one and
records what it did in a bounded journal. A view remembers the revision it
last rendered and asks ``changes_since(that)``: it gets the ids to add (in id
order) and the ids to update in place, never a diff of the whole list
(STYLE 6: render by key, append by key).

    log = MessageLog(conversation_id=7)
    log.merge(page["results"], has_more_before=page["has_more"])
    seen = 0
    changes = log.changes_since(seen)     # reset / added_ids / updated_ids
    seen = changes.revision

Write through the cache with the updaters at the bottom of this file
(``with_messages``, ``with_read_receipt``, ``with_read_from``, ``with_changed``,
``with_deleted``) so that
subscribers are notified.

Messages not yet confirmed by the server are not here: see outbox.py.
"""
from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, Iterable, Iterator, List, Optional, Set, Tuple

Message = Dict[str, Any]

DEFAULT_JOURNAL_LIMIT = 256


@dataclass(frozen=True)
class Changes:
    """What a view must do to catch up from a revision to ``revision``.

    reset:       the asked-for revision is too old (or foreign); rebuild from
                 scratch. ``added_ids`` then holds every id in the log.
    added_ids:   ids new since then, ascending. Pure appends can be appended in
                 this order; in general walk them in reverse and insert each
                 before the node of ``log.id_after(id)`` (at the end when None).
    updated_ids: ids already rendered whose message changed (read state), ascending.
    prepended:   older history was loaded before the then-oldest message; keep the
                 scroll position instead of following the bottom.
    """

    revision: int
    added_ids: Tuple[int, ...] = ()
    updated_ids: Tuple[int, ...] = ()
    prepended: bool = False
    reset: bool = False


@dataclass(frozen=True)
class _Entry:
    added: Tuple[int, ...]
    updated: Tuple[int, ...]
    prepended: bool


def _sender_id(message: Message) -> Any:
    sender = message.get("sender")
    return sender.get("id") if isinstance(sender, dict) else None


class MessageLog:
    """Messages of one conversation by id, ascending, deduplicated by id (AC-12)."""

    def __init__(
        self,
        messages: Iterable[Message] = (),
        *,
        conversation_id: Optional[int] = None,
        has_more_before: bool = False,
        journal_limit: int = DEFAULT_JOURNAL_LIMIT,
    ) -> None:
        if journal_limit < 1:
            raise ValueError("journal_limit must be at least 1")
        self.conversation_id = conversation_id
        self._by_id: Dict[int, Message] = {}
        self._ids: List[int] = []  # ascending; only ever appended to or spliced
        self._unread: Set[int] = set()  # ids whose is_read is False
        # sender id -> that sender's newest unread id, kept as messages arrive (O(1) each);
        # a sender whose newest was read is in _stale and found again on the next ask.
        self._newest_unread: Dict[Any, int] = {}
        self._stale: Set[Any] = set()
        self._has_more_before = bool(has_more_before)
        self.revision = 0
        self._journal: Deque[_Entry] = deque(maxlen=journal_limit)
        messages = list(messages)
        if messages:
            self.merge(messages)

    # -- reading -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._by_id

    def __iter__(self) -> Iterator[Message]:
        """The messages, oldest first."""
        return (self._by_id[i] for i in self._ids)

    def get(self, message_id: int) -> Optional[Message]:
        """The stored message (treat as read-only), or None."""
        return self._by_id.get(message_id)

    def ids(self) -> Tuple[int, ...]:
        """Every id, ascending (a copy: O(n), meant for a full render)."""
        return tuple(self._ids)

    @property
    def first_id(self) -> Optional[int]:
        """The oldest id held: the ``before=`` cursor for loading older history."""
        return self._ids[0] if self._ids else None

    @property
    def last_id(self) -> Optional[int]:
        """The newest id held: the ``after=`` cursor for catching up (edge 7)."""
        return self._ids[-1] if self._ids else None

    def id_after(self, message_id: int) -> Optional[int]:
        """The id that follows ``message_id`` in the log (None if it is the newest)."""
        at = bisect.bisect_right(self._ids, message_id)
        return self._ids[at] if at < len(self._ids) else None

    @property
    def has_more_before(self) -> bool:
        """Whether the server holds messages older than ``first_id``."""
        return self._has_more_before

    def unread_ids(self) -> Tuple[int, ...]:
        """Ids of messages whose is_read is False, ascending."""
        return tuple(sorted(self._unread))

    def newest_unread(self, *, other_than: Any) -> Optional[int]:
        """The newest unread id sent by anyone but ``other_than`` (the other party's, for
        a trainer passing their own id), or None.

        Asked after every batch of arrivals: O(1) while messages only arrive. After a
        read (the newest of a sender read), that sender's unread are walked once.
        """
        newest = None
        for sender in list(self._newest_unread):
            if sender == other_than:
                continue
            if sender in self._stale:
                self._stale.discard(sender)
                found = max((i for i in self._unread if _sender_id(self._by_id[i]) == sender), default=None)
                if found is None:
                    del self._newest_unread[sender]
                    continue
                self._newest_unread[sender] = found
            top = self._newest_unread[sender]
            if newest is None or top > newest:
                newest = top
        return newest

    # -- changing ------------------------------------------------------------

    def merge(
        self, messages: Iterable[Message], *, has_more_before: Optional[bool] = None
    ) -> Tuple[List[int], List[int]]:
        """Add new messages and refresh known ones; returns (added ids, updated ids).

        AC-12 / edge 6: an id already held with equal content is a no-op, so the
        send answer and the socket delivering the same message show it once.
        Read state only moves forward: a stale page saying is_read False does
        not undo a read receipt already applied.
        Messages of another conversation (when conversation_id is set) are ignored.
        """
        previous_first = self.first_id
        previous_last = self.last_id
        added: List[int] = []
        updated: List[int] = []
        for message in messages:
            message_id = message["id"]
            if self.conversation_id is not None and message.get("conversation_id") != self.conversation_id:
                continue
            existing = self._by_id.get(message_id)
            if existing is None:
                stored = dict(message)
                self._by_id[message_id] = stored
                self._track_read(message_id, stored, new=True)
                added.append(message_id)
                continue
            incoming = dict(message)
            if existing.get("deleted") and not incoming.get("deleted"):
                continue  # a page fetched before the delete: deleted stays deleted
            if existing.get("is_read") and not incoming.get("is_read"):
                incoming["is_read"] = True
                incoming["read_at"] = existing.get("read_at")
            if incoming == existing:
                continue
            self._by_id[message_id] = incoming
            self._track_read(message_id, incoming)
            updated.append(message_id)

        prepended = False
        if added:
            prepended = self._place(added, previous_first, previous_last)
            if len(added) > 1:
                added.sort()  # the batch only, never the whole log
        if len(updated) > 1:
            updated = sorted(set(updated))
        more_changed = has_more_before is not None and bool(has_more_before) != self._has_more_before
        if more_changed:
            self._has_more_before = bool(has_more_before)
        if added or updated or more_changed:
            self._record(tuple(added), tuple(updated), prepended)
        return added, updated

    def change_held(self, message: Message) -> bool:
        """An edit (`message_updated`, an edit's answer): only a message already held changes;
        one not loaded yet is left for its page to bring. True when it changed."""
        held = self._by_id.get(message.get("id"))
        if held is None or (held.get("deleted") and not message.get("deleted")):
            return False
        incoming = dict(message, is_read=held.get("is_read") or message.get("is_read"),
                        read_at=held.get("read_at") if held.get("is_read") else message.get("read_at"))
        if incoming == held:
            return False
        self._by_id[incoming["id"]] = incoming
        self._track_read(incoming["id"], incoming)
        self._record((), (incoming["id"],), False)
        return True

    def mark_deleted(self, message_id: Any) -> bool:
        """`message_deleted` (or our DELETE's 204): the held message keeps its place, its
        sender and times, and loses its text and image. True when it changed."""
        held = self._by_id.get(message_id)
        if held is None or held.get("deleted"):
            return False
        self._by_id[message_id] = dict(held, content="", image=None, deleted=True)
        self._record((), (message_id,), False)
        return True

    def apply_read_receipt(self, reader_id: Any, read_at: Optional[str]) -> List[int]:
        """AC-24: every message not sent by ``reader_id`` is now read. Returns changed ids.

        Messages already read keep their read_at. Costs O(unread), not O(history).
        """
        return self._mark_read(lambda sender: sender != reader_id, read_at)

    def mark_read_from(self, other_user_id: Any, read_at: Optional[str] = None, *,
                       up_to: Optional[int] = None) -> List[int]:
        """After our own mark-read call (AC-28): the other party's messages are read.

        ``up_to``: only those with an id up to it (what the call covered); None: all.
        """
        return self._mark_read(lambda sender: sender == other_user_id, read_at, up_to)

    def _mark_read(self, sent_by: Callable[[Any], bool], read_at: Optional[str],
                   up_to: Optional[int] = None) -> List[int]:
        changed = sorted(i for i in self._unread
                         if (up_to is None or i <= up_to) and sent_by(_sender_id(self._by_id[i])))
        for message_id in changed:
            message = dict(self._by_id[message_id])
            message["is_read"] = True
            message["read_at"] = read_at
            self._by_id[message_id] = message
            self._drop_unread(message_id)
        if changed:
            self._record((), tuple(changed), False)
        return changed

    def _track_read(self, message_id: int, message: Message, new: bool = False) -> None:
        if message.get("is_read"):
            self._drop_unread(message_id)
            return
        sender = _sender_id(message)
        if not new:
            for other, top in self._newest_unread.items():
                if top == message_id and other != sender:
                    self._stale.add(other)  # the same id, now from another sender: found again
        self._unread.add(message_id)
        top = self._newest_unread.get(sender)
        if top is None or message_id > top:
            self._newest_unread[sender] = message_id

    def _drop_unread(self, message_id: int) -> None:
        if message_id not in self._unread:
            return
        self._unread.discard(message_id)
        for sender, top in self._newest_unread.items():
            if top == message_id:
                self._stale.add(sender)

    def _place(self, added: List[int], previous_first: Optional[int], previous_last: Optional[int]) -> bool:
        """Put new ids in order; returns whether any landed before the old first id."""
        ids = self._ids
        if len(added) == 1:
            message_id = added[0]
            if previous_last is None or message_id > previous_last:
                ids.append(message_id)  # the common case: O(1), one comparison
                return False
            bisect.insort(ids, message_id)
            return message_id < previous_first  # type: ignore[operator]
        batch = sorted(added)
        if previous_last is None or batch[0] > previous_last:
            ids.extend(batch)
            return False
        if batch[-1] < previous_first:  # type: ignore[operator]
            ids[:0] = batch  # older history: one splice
            return True
        for message_id in batch:
            bisect.insort(ids, message_id)
        return batch[0] < previous_first  # type: ignore[operator]

    def _record(self, added: Tuple[int, ...], updated: Tuple[int, ...], prepended: bool) -> None:
        self.revision += 1
        self._journal.append(_Entry(added, updated, prepended))

    # -- telling views what changed --------------------------------------------

    def changes_since(self, revision: int) -> Changes:
        """What changed after ``revision`` (a value of ``self.revision`` seen earlier).

        A revision older than the bounded journal, or not one this log ever had,
        yields ``reset=True`` with every id in ``added_ids``.
        """
        behind = self.revision - revision
        if behind < 0 or behind > len(self._journal):
            return Changes(revision=self.revision, added_ids=self.ids(), reset=True)
        added: Set[int] = set()
        updated: Set[int] = set()
        prepended = False
        for back in range(behind, 0, -1):
            entry = self._journal[-back]
            added.update(entry.added)
            updated.update(entry.updated)
            prepended = prepended or entry.prepended
        updated -= added
        return Changes(
            revision=self.revision,
            added_ids=tuple(sorted(added)),
            updated_ids=tuple(sorted(updated)),
            prepended=prepended,
        )


# -- updaters for QueryCache.set_query_data(("messages", cid), ...) -------------


def with_messages(
    messages: Iterable[Message],
    *,
    conversation_id: Optional[int] = None,
    has_more_before: Optional[bool] = None,
) -> Callable[[Optional[MessageLog]], MessageLog]:
    """An updater merging ``messages`` into the cached log (creating it if absent)."""
    batch = list(messages)

    def update(log: Optional[MessageLog]) -> MessageLog:
        if log is None:
            log = MessageLog(conversation_id=conversation_id)
        log.merge(batch, has_more_before=has_more_before)
        return log

    return update


def with_changed(message: Message) -> Callable[[Optional[MessageLog]], Optional[MessageLog]]:
    """An updater applying an edit to a held message; a missing log stays missing."""

    def update(log: Optional[MessageLog]) -> Optional[MessageLog]:
        if log is not None:
            log.change_held(message)
        return log

    return update


def with_deleted(message_id: Any) -> Callable[[Optional[MessageLog]], Optional[MessageLog]]:
    """An updater blanking a deleted message; a missing log stays missing."""

    def update(log: Optional[MessageLog]) -> Optional[MessageLog]:
        if log is not None:
            log.mark_deleted(message_id)
        return log

    return update


def with_read_receipt(reader_id: Any, read_at: Optional[str]) -> Callable[[Optional[MessageLog]], Optional[MessageLog]]:
    """An updater applying a socket ``read_receipt`` (AC-24); a missing log stays missing."""

    def update(log: Optional[MessageLog]) -> Optional[MessageLog]:
        if log is not None:
            log.apply_read_receipt(reader_id, read_at)
        return log

    return update


def with_read_from(other_user_id: Any, read_at: Optional[str] = None, *,
                   up_to: Optional[int] = None) -> Callable[[Optional[MessageLog]], Optional[MessageLog]]:
    """An updater marking the other party's messages (up to ``up_to``) read after our mark-read call."""

    def update(log: Optional[MessageLog]) -> Optional[MessageLog]:
        if log is not None:
            log.mark_read_from(other_user_id, read_at, up_to=up_to)
        return log

    return update
