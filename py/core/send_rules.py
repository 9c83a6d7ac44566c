"""How a send's failure is judged, and where an outbox is stored: one rule for both owners.

An outbox belongs to the open chat (core/send_pipeline.py) while its conversation is open and
to core/held_sends.py otherwise; both settle a failed send here, so a send is held or refused
the same way whoever posted it.
"""
from __future__ import annotations

from typing import Any, Optional

from core.api_client import ApiError, error_text
from core.outbox import Outbox, PendingMessage

NOT_SENT = "Not sent"
UNREADABLE_ANSWER = "The server's answer could not be read."
# Answers that say "not now" rather than "no": the send waits and goes again.
# Not 429: serve.py answers it for a per-user upload quota (24 h), where waiting is no answer;
# its detail says why, and the outbox sends one at a time, far under the send rate.
RETRYABLE_STATUSES = frozenset({408, 425})


def send_is_held(error: BaseException) -> bool:
    """True when a failed send should wait for the link, False when the server refused it.

    A refusal is a 4xx answer about the message (its `detail` says why). Everything that is
    not an answer about the message holds: no network, a timeout, a 5xx, 408/425, and an
    ended session (SessionExpired: the user logs in again and the outbox is still there).
    """
    if isinstance(error, ApiError):
        status = error.status
        return not (400 <= status < 500) or status in RETRYABLE_STATUSES
    return not isinstance(error, (ValueError, TypeError))


def outbox_storage_key(my_user_id: Any, conversation_id: Any) -> str:
    """Where the adapter keeps this conversation's unconfirmed sends (per user)."""
    return f"outbox:{my_user_id}:{conversation_id}"


def settle_failed_send(outbox: Outbox, client_message_id: str, error: BaseException,
                       now: float) -> Optional[PendingMessage]:
    """A send raised `error`: hold it for the link or mark it refused with the server's reason.

    The one rule for both owners of an outbox (the open chat and core/held_sends.py).
    None when the entry was confirmed meanwhile.
    """
    if send_is_held(error):
        return outbox.hold(client_message_id, now)
    return outbox.mark_failed(client_message_id, error_text(error, None) or NOT_SENT)

