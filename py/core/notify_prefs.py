"""One user's notification choices, kept in the browser (issue 22, point 1), and which
control the list pane shows.

    prefs = NotifyPrefs(storage, user_id)     # localStorage in the page, a dict in tests
    prefs.on / prefs.sound / prefs.denied / prefs.is_muted(7)
    prefs.set_on(True); prefs.set_sound(True); prefs.set_denied(); prefs.set_muted(7, True)
    controls_for(supported=True, permission="default", prefs=prefs)   # -> Controls.OFFER

The choices live under one key per user (`coachline.notify.<user>`), so one trainer's mutes
never apply to another who signs in on the same browser, and they survive a reload and a
sign-out. Storage that refuses (private mode, quota) or a value that is not ours (a hand
edit) reads as the defaults: notifications off, sound off, nothing muted, no denial; a write
that fails keeps the choice for this page's life.
"""
from __future__ import annotations

import enum
import json
from typing import Any, Dict, Set

from core.models import is_int

PREFIX = "coachline.notify."
MAX_MUTED = 500  # a runaway list cannot fill the origin's storage


class Controls(enum.Enum):
    NONE = "none"  # no Notification in this browser, or the user said no
    OFFER = "offer"  # "Turn on notifications" (the permission is asked only on its click)
    ON = "on"  # notifications on: "Turn off" and the sound toggle


def controls_for(*, supported: bool, permission: Any, prefs: "NotifyPrefs") -> Controls:
    """The browser's permission first; a denial this user gave is remembered while the
    browser asks again ("default": the prompt was dismissed, or a fresh profile)."""
    if not supported or permission == "denied":
        return Controls.NONE
    if permission == "granted":
        return Controls.ON if prefs.on else Controls.OFFER
    return Controls.NONE if prefs.denied else Controls.OFFER


class NotifyPrefs:
    def __init__(self, storage: Any, user_id: Any) -> None:
        self._storage = storage
        self._key = f"{PREFIX}{user_id}" if is_int(user_id) else None
        self._data = self._load()

    @property
    def on(self) -> bool:
        return self._data["on"]

    @property
    def sound(self) -> bool:
        return self._data["sound"]

    @property
    def denied(self) -> bool:
        return self._data["denied"]

    @property
    def muted(self) -> Set[int]:
        return set(self._data["muted"])

    def is_muted(self, conversation_id: Any) -> bool:
        return conversation_id in self._data["muted"]

    def set_on(self, on: bool) -> None:
        self._data["on"] = bool(on)
        if on:
            self._data["denied"] = False
        self._save()

    def set_sound(self, sound: bool) -> None:
        self._data["sound"] = bool(sound)
        self._save()

    def set_denied(self) -> None:
        self._data["denied"], self._data["on"] = True, False
        self._save()

    def set_muted(self, conversation_id: Any, muted: bool) -> None:
        if not is_int(conversation_id):
            return
        ids = [c for c in self._data["muted"] if c != conversation_id]
        if muted:
            ids.append(conversation_id)
        self._data["muted"] = ids[-MAX_MUTED:]
        self._save()

    def _load(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"on": False, "sound": False, "denied": False, "muted": []}
        try:
            raw = self._storage.get_item(self._key) if self._key else None
            stored = json.loads(raw) if isinstance(raw, str) else None
        except Exception:  # storage off, or not JSON: the defaults
            return data
        if not isinstance(stored, dict):
            return data
        for flag in ("on", "sound", "denied"):
            if isinstance(stored.get(flag), bool):
                data[flag] = stored[flag]
        muted = stored.get("muted")
        if isinstance(muted, list):
            data["muted"] = [c for c in muted if is_int(c)][-MAX_MUTED:]
        return data

    def _save(self) -> None:
        if self._key is None:
            return
        try:
            self._storage.set_item(self._key, json.dumps(self._data, separators=(",", ":")))
        except Exception:  # refused: the choice holds for this page only
            pass
