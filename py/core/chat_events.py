"""What the open chat (web/chat_controller.py) tells the app, as typed events: its one way out.

The chat takes commands (methods) and says everything else through one callback,
`on_event(event)`, with one of these or one of core/open_conversation.py's session effects
(NewMessages, ConversationRead, RealtimeChanged), which it passes on as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


@dataclass(frozen=True)
class ServerAnswered:
    """One of the chat's calls got an answer: the server is reachable, held sends may go."""


@dataclass(frozen=True)
class LateSendOutcome:
    """A send's answer that came after the chat closed: it belongs to whoever holds that
    conversation's outbox now (core/held_sends.py). `error` None means it was stored."""

    conversation_id: Any
    client_message_id: str
    message: Any
    error: Optional[BaseException]


@dataclass(frozen=True)
class BackAsked:
    """The chat's own back button (phone width): like the browser's Back."""


@dataclass(frozen=True)
class SearchAsked:
    """The chat header's search button: search this conversation (issue 22 item 6)."""

    conversation_id: Any


@dataclass(frozen=True)
class CallFailed:
    """A call failed; the chat's core has decided what follows. Only for the debug log."""

    error: BaseException
