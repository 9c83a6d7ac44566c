"""What the open conversation asks of the world: its effects, as frozen values.

core/open_conversation.py returns these from every input; its adapter (web/chat_controller.py)
carries them out in order and answers some with a further input:

    effect              the adapter ...                            and answers with
    FetchPage           GET .../messages/ (limit, before, after)   page_loaded / page_failed
    PostMessage         POST .../send/ (a form when a file)        send_answered / send_failed
    PostMarkRead        POST .../read/                             mark_read_done(ok)
    SendTyping          a typing frame on the socket               -
    StoreOutbox         localStorage[outbox_storage_key] (None: remove it)
    ShowPending, ShowTyping, ShowBanner, ShowConnection, ShowHistoryStatus,
    ShowLoadFailed                                                 the view
    NewMessages, ConversationRead, RealtimeChanged                 the session (session.py)
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Union

from core.outbox import PendingMessage


class Purpose(enum.Enum):
    INITIAL = "initial"  # the newest page, on open
    OLDER = "older"  # the page before the oldest held
    GAP = "gap"  # catching up after a reconnect (edge 7)
    POLL = "poll"  # the newest page, while the socket is down (AC-9)


@dataclass(frozen=True)
class FetchPage:
    purpose: Purpose
    limit: int
    before: Optional[int] = None
    after: Optional[int] = None


@dataclass(frozen=True)
class PostMessage:
    client_message_id: str
    content: str
    attachment: Any = None  # opaque to the core: the adapter's file object, or None


@dataclass(frozen=True)
class PostMarkRead:
    up_to_id: Optional[int]  # the newest message held when it started: what it covers


@dataclass(frozen=True)
class SendTyping:
    is_typing: bool


@dataclass(frozen=True)
class StoreOutbox:
    key: str
    text: Optional[str]  # None: remove the key (nothing is pending)


@dataclass(frozen=True)
class ShowPending:
    pending: Tuple[PendingMessage, ...]


@dataclass(frozen=True)
class ShowTyping:
    names: Tuple[str, ...]


@dataclass(frozen=True)
class ShowBanner:
    kind: Optional[str]  # banner.py: "reconnecting", "failed" or None


@dataclass(frozen=True)
class ShowConnection:
    state: str  # data-ws-state


@dataclass(frozen=True)
class ShowHistoryStatus:
    text: str  # "Loading earlier messages…" or a calm error


@dataclass(frozen=True)
class ShowLoadFailed:
    """The conversation could not load: say so in its pane with a Retry (None: hide it)."""

    text: Optional[str]


@dataclass(frozen=True)
class NewMessages:
    """For the list (AC-15): messages new to this client, and whether the chat was seen."""

    conversation_id: Any
    messages: Tuple[Dict[str, Any], ...]
    chat_visible: bool


@dataclass(frozen=True)
class ConversationRead:
    """Our mark-read call succeeded; `still_unread` arrived after it started."""

    conversation_id: Any
    still_unread: int


@dataclass(frozen=True)
class RealtimeChanged:
    realtime: bool


Effect = Union[FetchPage, PostMessage, PostMarkRead, SendTyping, StoreOutbox, ShowPending, ShowTyping,
               ShowBanner, ShowConnection, ShowHistoryStatus, ShowLoadFailed, NewMessages, ConversationRead,
               RealtimeChanged]
