"""Typing in the open chat both ways (AC-16..AC-21), as effects.

Our keystrokes become debounced typing frames and a send stops them (TypingSender); the other
party's indicator shows their first name and hides after 4 s of silence or when their message
arrives (TypingDisplay). Both rules are core/typing_signals.py's; this wires them to the chat's
effects and to who the other party is.

    typing = ChatTyping(me_id, other)
    typing.keystroke(now)         # -> [SendTyping(True)] at most every 3 s
    typing.indicator(event, now)  # -> [ShowTyping(("Alex",))]
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from core.chat_effects import Effect, SendTyping, ShowTyping
from core.typing_signals import TypingDisplay, TypingSender
from core.ws_events import TypingIndicator


class ChatTyping:
    """The open chat's typing frames out and the other party's indicator in."""

    def __init__(self, me_id: Any, other: Dict[str, Any]) -> None:
        self.me_id, self.other = me_id, other
        self.sender = TypingSender()
        self.display = TypingDisplay()

    def next_wakeups(self) -> Tuple[Optional[float], Optional[float]]:
        return self.sender.next_wakeup(), self.display.next_wakeup()

    def keystroke(self, now: float) -> List[Effect]:
        """A keystroke in the composer (AC-16, AC-17)."""
        return [SendTyping(value) for value in self.sender.on_input(now)]

    def message_sent(self, now: float) -> List[Effect]:
        """AC-19: typing stops the moment a message is sent."""
        return [SendTyping(value) for value in self.sender.on_message_sent(now)]

    def indicator(self, event: TypingIndicator, now: float) -> List[Effect]:
        # AC-20: only the other party's typing is shown.
        if event.user_id != self.me_id and self.display.on_indicator(event.user_id, event.is_typing, now):
            return [self._shown()]
        return []

    def messages_from(self, sender_ids: List[Any]) -> List[Effect]:
        """Their message arrived: their indicator hides (every sender is told, not just the first)."""
        if any([self.display.on_message_from(uid) for uid in sender_ids]):
            return [self._shown()]
        return []

    def tick(self, now: float) -> List[Effect]:
        effects: List[Effect] = [SendTyping(value) for value in self.sender.tick(now)]
        if self.display.tick(now):
            effects.append(self._shown())  # AC-21: 4 s of silence
        return effects

    def _shown(self) -> ShowTyping:
        other_id = self.other.get("id")
        names = tuple((self.other.get("first_name") or "Someone") if uid == other_id else "Someone"
                      for uid in self.display.typing_user_ids())
        return ShowTyping(names)
