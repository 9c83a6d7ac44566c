"""Small display rules of the message list (issue 14): groups, the unread line, the tab.

* **Groups.** Consecutive messages from one sender within ``GROUP_GAP_S`` of each
  other, on the same local day, form a group: the view draws them closer together
  and shows one time stamp, on the group's last message. Every message still carries
  its own full date and time (``<time datetime>`` with a tooltip).
* **The unread line.** When a conversation opens, the first message from the other
  party that the trainer has not read gets a "New messages" divider above it. It is
  decided once, when the conversation opens, and stays put while it stays open.
* **The tab.** While anything is unread the document title starts with the count.
* **Watching for "seen"** (issue 13). Only an unread message from the other party can
  hold a mark-read back until it has been on screen: the view watches those, and lets
  one go once it is read (a watched node costs the browser work on every frame).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, NamedTuple, Optional

from core.formatting import day_key, parse_iso

GROUP_GAP_S = 5 * 60
BASE_TITLE = "Messages · Coachline"  # before sign-in, and for a trainee (issue 22.7: both roles)
TRAINER_TITLE = "Messages · Trainer dashboard"
MAX_SHOWN_COUNT = 99


def _sender(message: Mapping[str, Any]) -> Any:
    sender = message.get("sender")
    return sender.get("id") if isinstance(sender, Mapping) else None


class GroupKey(NamedTuple):
    """What grouping compares of one message, read once: a view keeps one per message
    instead of parsing both neighbours' times again for every message it inserts."""
    sender: Any
    at: datetime  # UTC
    day: str      # the local calendar day


def group_key(message: Optional[Mapping[str, Any]], tz_offset_minutes: float = 0) -> Optional[GroupKey]:
    """The message's key, or None when it cannot join a group (no sender, unreadable time)."""
    if message is None:
        return None
    sender = _sender(message)
    at = parse_iso(message.get("created_at"))
    if sender is None or at is None:
        return None
    return GroupKey(sender, at, day_key(at, tz_offset_minutes))  # parsed above: no re-parse


def key_continues(previous: Optional[GroupKey], key: Optional[GroupKey]) -> bool:
    """True when the message keyed ``key`` joins the group of the one keyed ``previous``
    (the message just before it): same sender, within ``GROUP_GAP_S``, same local day."""
    if previous is None or key is None or key.sender != previous.sender:
        return False
    gap = (key.at - previous.at).total_seconds()
    return 0 <= gap <= GROUP_GAP_S and key.day == previous.day


def watch_until_seen(message: Optional[Mapping[str, Any]], my_id: Any) -> bool:
    """True while ``message`` is one whose appearance on screen can matter: from the other
    party and not read."""
    if message is None or message.get("is_read"):
        return False
    return _sender(message) not in (None, my_id)


def first_unread_id(messages: Iterable[Mapping[str, Any]], my_id: Any) -> Optional[int]:
    """The id of the oldest unread message from the other party, or None (no line)."""
    for message in messages:
        if not message.get("is_read") and _sender(message) not in (None, my_id):
            return message.get("id")
    return None


def base_title(role: Any) -> str:
    """The tab's words for the signed-in role (users/me's ``role``): a trainer's dashboard,
    everyone else's messages."""
    return TRAINER_TITLE if role == "TRAINER" else BASE_TITLE


def tab_title(unread_total: Any, base: str = BASE_TITLE) -> str:
    """``(3) Messages · Coachline`` while anything is unread, else ``base``."""
    if isinstance(unread_total, bool) or not isinstance(unread_total, int) or unread_total <= 0:
        return base
    shown = f"{MAX_SHOWN_COUNT}+" if unread_total > MAX_SHOWN_COUNT else str(unread_total)
    return f"({shown}) {base}"
