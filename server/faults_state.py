"""The switches behind the `/__faults/` controls. All off unless a test turns one on.

Kept apart from the routes in `server.faults` because the API and the WebSocket read them
whether or not the controls are mounted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FaultState:
    refuse_handshakes: bool = False
    silent: bool = False
    refresh_fails: bool = False
    lost_answers_left: int = 0
    lost_answers_broadcast: bool = True

    def take_lost_answer(self) -> bool | None:
        """For one send: None to answer normally, else whether the lost send still broadcasts."""
        if self.lost_answers_left <= 0:
            return None
        self.lost_answers_left -= 1
        return self.lost_answers_broadcast

    def reset(self) -> None:
        self.refuse_handshakes = False
        self.silent = False
        self.refresh_fails = False
        self.lost_answers_left = 0
        self.lost_answers_broadcast = True
