"""Typing indicators: when to tell the other party, and when to show theirs.

Both classes are Sans-I/O: they take ``now`` (seconds, any monotonic clock)
and never read a clock or set a timer. Each call returns what to do, and
``next_wakeup()`` says when ``tick(now)`` must be called next (None: never).

Outgoing (``TypingSender``), as lists of ``is_typing`` values to send:

    sender = TypingSender()
    sender.on_input(0.0)        -> [True]    AC-16
    sender.on_input(1.0)        -> []        AC-17: at most once every 3 s
    sender.on_input(3.0)        -> [True]    still typing: say it again
    sender.tick(6.0)            -> [False]   AC-18: 3 s without input
    sender.on_input(7.0)        -> [True]
    sender.on_message_sent(8.0) -> [False]   AC-19

Incoming (``TypingDisplay``): who is typing, each hidden 4 s after their last
update (AC-21, edge case 12) or when their message arrives.
"""

from __future__ import annotations

from typing import Any, Optional

TYPING_DEBOUNCE_S = 3.0  # AC-17
TYPING_IDLE_S = 3.0  # AC-18
TYPING_DISPLAY_TIMEOUT_S = 4.0  # AC-21


class TypingSender:
    """Turns keystrokes into debounced ``typing`` frames (AC-16..AC-19)."""

    def __init__(self, debounce: float = TYPING_DEBOUNCE_S, idle: float = TYPING_IDLE_S) -> None:
        self.debounce = debounce
        self.idle = idle
        self.reset()

    def reset(self) -> None:
        """Forget everything (conversation switch). Sends nothing."""
        self._typing = False  # we have said True and not yet False
        self._last_true_at: Optional[float] = None
        self._last_input_at: Optional[float] = None

    @property
    def is_typing(self) -> bool:
        """True while the other party has been told we are typing."""
        return self._typing

    def on_input(self, now: float) -> list:
        """The user changed the draft. Returns ``[True]`` or ``[]``."""
        idle_expired = (
            self._typing
            and self._last_input_at is not None
            and now - self._last_input_at >= self.idle
        )
        self._last_input_at = now
        if (
            not self._typing
            or idle_expired
            or self._last_true_at is None
            or now - self._last_true_at >= self.debounce
        ):
            # AC-16, AC-17: repeated every `debounce` s while typing goes on,
            # which also keeps the other side's 4 s safety timeout from firing.
            self._typing = True
            self._last_true_at = now
            return [True]
        return []

    def on_message_sent(self, now: float) -> list:
        """A message went out: ``[False]`` at once if we had said True (AC-19).

        The next keystroke starts a new typing episode and says True again
        straight away: the other side's indicator was hidden by the message.
        """
        if not self._typing:
            return []
        self._typing = False
        self._last_input_at = None
        return [False]

    def tick(self, now: float) -> list:
        """``[False]`` once the user has not typed for ``idle`` s (AC-18)."""
        if (
            self._typing
            and self._last_input_at is not None
            and now - self._last_input_at >= self.idle
        ):
            self._typing = False
            return [False]
        return []

    def next_wakeup(self) -> Optional[float]:
        """When ``tick`` may next have something to send, or None."""
        if self._typing and self._last_input_at is not None:
            return self._last_input_at + self.idle
        return None


class TypingDisplay:
    """Who of the other party is typing right now (AC-20, AC-21, edge 12).

    Every call returns True when the set of shown typers changed, so the
    adapter knows to re-render the indicator (and apply AC-23's scroll rule).
    ``self_user_id``, when given, is never shown (our own other tabs).
    """

    def __init__(
        self, timeout: float = TYPING_DISPLAY_TIMEOUT_S, self_user_id: Optional[int] = None
    ) -> None:
        self.timeout = timeout
        self.self_user_id = self_user_id
        self._last_update: dict = {}  # user_id -> last typing update; insertion = display order

    def on_indicator(self, user_id: Any, is_typing: Any, now: float) -> bool:
        """A ``typing_indicator`` event arrived."""
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            return False
        if user_id == self.self_user_id or not isinstance(is_typing, bool):
            return False
        if is_typing:
            shown_before = user_id in self._last_update
            self._last_update[user_id] = now
            return not shown_before
        return self._last_update.pop(user_id, None) is not None

    def on_message_from(self, user_id: Any) -> bool:
        """Their message arrived: they are done typing it."""
        return self._last_update.pop(user_id, None) is not None

    def tick(self, now: float) -> bool:
        """Hide everyone silent for ``timeout`` s (AC-21)."""
        stale = [uid for uid, t in self._last_update.items() if now - t >= self.timeout]
        for uid in stale:
            del self._last_update[uid]
        return bool(stale)

    def reset(self) -> bool:
        """Hide everyone (conversation switch, socket closed)."""
        changed = bool(self._last_update)
        self._last_update.clear()
        return changed

    def typing_user_ids(self) -> list:
        """The shown typers, in the order they started typing."""
        return list(self._last_update)

    @property
    def visible(self) -> bool:
        return bool(self._last_update)

    def next_wakeup(self) -> Optional[float]:
        """When the next typer would time out, or None."""
        if not self._last_update:
            return None
        return min(self._last_update.values()) + self.timeout
