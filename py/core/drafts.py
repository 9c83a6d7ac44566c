"""Unsent composer text kept per user and conversation (issue 14, point 1).

The composer's text stays with its conversation across switches and reloads. The
store is any mapping-like storage with ``get_item``/``set_item``/``remove_item``/
``keys`` (``localStorage`` in the page, a dict in tests); this module owns the rules:

* one entry per (user, conversation), named ``coachline.draft.<user>.<conversation>``;
* blank text removes the entry; text longer than ``MAX_DRAFT_CHARS`` is kept whole up
  to that many characters (a draft is never silently cut below what the composer
  may send, and a runaway paste cannot fill the origin's storage quota);
* a stored value that is not a string (another app, a hand edit) reads as no draft;
* sending removes the conversation's draft; logging out removes every draft of that
  user and no one else's;
* storage that refuses (quota, private mode) never breaks typing: the draft is then
  simply not kept.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Protocol

PREFIX = "coachline.draft."
MAX_DRAFT_CHARS = 20_000


class Storage(Protocol):
    def get_item(self, key: str) -> Optional[str]: ...
    def set_item(self, key: str, value: str) -> None: ...
    def remove_item(self, key: str) -> None: ...
    def keys(self) -> Iterable[str]: ...


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def draft_key(user_id: int, conversation_id: int) -> Optional[str]:
    if not (_valid_id(user_id) and _valid_id(conversation_id)):
        return None
    return f"{PREFIX}{user_id}.{conversation_id}"


class Drafts:
    """Drafts of one signed-in user."""

    def __init__(self, storage: Storage, user_id: int) -> None:
        self._storage = storage
        self._user_id = user_id

    def load(self, conversation_id: int) -> str:
        key = draft_key(self._user_id, conversation_id)
        if key is None:
            return ""
        try:
            value = self._storage.get_item(key)
        except Exception:  # storage off or refusing: no draft
            return ""
        return value[:MAX_DRAFT_CHARS] if isinstance(value, str) else ""

    def save(self, conversation_id: int, text: Any) -> None:
        key = draft_key(self._user_id, conversation_id)
        if key is None:
            return
        text = text if isinstance(text, str) else ""
        try:
            if text.strip():
                self._storage.set_item(key, text[:MAX_DRAFT_CHARS])
            else:
                self._storage.remove_item(key)
        except Exception:  # quota exceeded or storage off: typing goes on, unsaved
            pass

    def clear(self, conversation_id: int) -> None:
        self.save(conversation_id, "")

    def clear_all(self) -> None:
        """Forget every draft of this user (logout); other users' drafts stay."""
        own = f"{PREFIX}{self._user_id}."
        try:
            keys = [key for key in list(self._storage.keys()) if isinstance(key, str) and key.startswith(own)]
            for key in keys:
                self._storage.remove_item(key)
        except Exception:
            pass
