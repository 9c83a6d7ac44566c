"""The query cache: the one place the browser app keeps server data.

Theory of operation (SPEC design decision 2, in the spirit of TanStack Query's
queryCache): every piece of server state lives under a tuple key.

    ("conversations",)          list of Conversation dicts, newest first
    ("messages", conversation)  a message_log.MessageLog
    ("unread_count",)           int
    ("me",)                     the signed-in User dict

These keys are defined here and nowhere else.
REST answers, polling and socket events all write through
``set_query_data(key, value_or_updater)``; views ``subscribe`` and re-render
what changed. Nothing else holds a second copy.

    cache = QueryCache()
    unsubscribe = cache.subscribe(lambda key: render(key), CONVERSATIONS_KEY)
    with cache.batch():                      # one notification per key, at the end
        cache.set_query_data(messages_key(7), with_messages([m]))
        cache.set_query_data(CONVERSATIONS_KEY, lambda old: apply_new_message(old, m, ...))

What counts as a change: a new value that is not equal (``==``) to the old one,
or the same mutable object (a MessageLog changed in place by an updater) whose
``revision`` attribute moved since it was last set. Setting an equal value refreshes
``updated_at`` but notifies nobody.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Hashable, Iterator, List, Optional, Tuple

QueryKey = Tuple[Hashable, ...]
Listener = Callable[[QueryKey], None]

CONVERSATIONS_KEY: QueryKey = ("conversations",)
UNREAD_COUNT_KEY: QueryKey = ("unread_count",)
ME_KEY: QueryKey = ("me",)


def messages_key(conversation_id: int) -> QueryKey:
    return ("messages", conversation_id)


_MISSING = object()


def _check_key(key: Any) -> QueryKey:
    # A bare string such as ("conversations") is a classic slip; refuse it loudly.
    if not isinstance(key, tuple) or not key:
        raise TypeError(f"query keys are non-empty tuples, got {key!r}")
    return key


def _same_value(old: Any, new: Any) -> bool:
    try:
        return bool(old == new)
    except Exception:  # an exotic __eq__ must not break a write
        return False


class QueryCache:
    """Keyed server state with change notification (batched inside ``batch()``)."""

    def __init__(self, clock: Optional[Callable[[], float]] = None) -> None:
        self._clock = clock if clock is not None else time.time
        self._data: Dict[QueryKey, Any] = {}
        self._updated_at: Dict[QueryKey, float] = {}
        self._revisions: Dict[QueryKey, Any] = {}
        # token -> (key or None for "every key", listener); dict keeps subscription order
        self._listeners: Dict[int, Tuple[Optional[QueryKey], Listener]] = {}
        self._next_token = 0
        self._batch_depth = 0
        self._pending: Dict[QueryKey, None] = {}  # ordered set of keys changed in the batch

    # -- reading -------------------------------------------------------------

    def get_query_data(self, key: QueryKey) -> Any:
        """The value under ``key``, or None when there is none."""
        return self._data.get(_check_key(key))

    def updated_at(self, key: QueryKey) -> Optional[float]:
        """When ``key`` was last written (even with an equal value), or None."""
        return self._updated_at.get(_check_key(key))

    def has_query(self, key: QueryKey) -> bool:
        return _check_key(key) in self._data

    def keys(self) -> List[QueryKey]:
        return list(self._data)

    # -- writing -------------------------------------------------------------

    def set_query_data(self, key: QueryKey, value_or_updater: Any, *, now: Optional[float] = None) -> Any:
        """Store a value, or ``updater(old)`` when given a callable (old is None if absent).

        Returns the stored value. Listeners hear of it only if it changed.
        None written to an absent key is a no-op (the key stays absent).
        """
        _check_key(key)
        old = self._data.get(key, _MISSING)
        if callable(value_or_updater):
            new = value_or_updater(None if old is _MISSING else old)
        else:
            new = value_or_updater
        if old is _MISSING and new is None:
            # Nothing there and nothing to put (an updater that only edits an
            # existing value): stay absent, as TanStack does for `undefined`.
            return None
        changed = self._is_change(key, old, new)
        self._data[key] = new
        self._updated_at[key] = self._clock() if now is None else now
        self._revisions[key] = getattr(new, "revision", None)
        if changed:
            self._changed(key)
        return new

    def remove_query(self, key: QueryKey) -> None:
        """Forget ``key``; its listeners hear of it (the value is now None)."""
        _check_key(key)
        if key not in self._data:
            return
        del self._data[key]
        self._updated_at.pop(key, None)
        self._revisions.pop(key, None)
        self._changed(key)

    def clear(self) -> None:
        """Forget everything (logout). Subscriptions stay; each removed key is notified."""
        with self.batch():
            for key in list(self._data):
                self.remove_query(key)

    def _is_change(self, key: QueryKey, old: Any, new: Any) -> bool:
        if old is _MISSING:
            return True
        if new is old:
            # Mutated in place by the updater: only its revision can tell.
            return getattr(new, "revision", None) != self._revisions.get(key)
        return not _same_value(old, new)

    # -- notification --------------------------------------------------------

    def subscribe(self, listener: Listener, key: Optional[QueryKey] = None) -> Callable[[], None]:
        """Call ``listener(key)`` after each change of ``key`` (of any key if None).

        Returns an idempotent unsubscribe function.
        """
        if key is not None:
            _check_key(key)
        token = self._next_token
        self._next_token += 1
        self._listeners[token] = (key, listener)

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Defer notifications to the end of the outermost batch: one per changed key."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._pending:
                keys = list(self._pending)
                self._pending.clear()
                self._notify(keys)

    def _changed(self, key: QueryKey) -> None:
        if self._batch_depth:
            self._pending[key] = None
        else:
            self._notify([key])

    def _notify(self, keys: List[QueryKey]) -> None:
        # Every listener runs even if one raises (one broken view must not starve
        # the others); the first error is re-raised afterwards.
        first_error: Optional[BaseException] = None
        for key in keys:
            for token, (wanted, listener) in list(self._listeners.items()):
                if token not in self._listeners:  # unsubscribed by an earlier listener
                    continue
                if wanted is not None and wanted != key:
                    continue
                try:
                    listener(key)
                except Exception as error:  # noqa: BLE001 - re-raised below
                    if first_error is None:
                        first_error = error
        if first_error is not None:
            raise first_error
