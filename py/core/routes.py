"""Each conversation has its own URL (issue 14): ``#/conversations/<id>``.

The hash, not the path: the static host serves one page, so a reload of any URL
still finds it. Anything else in the hash means the list.
"""

from __future__ import annotations

import re
from typing import Any, Optional

_CONVERSATION = re.compile(r"#/conversations/([1-9][0-9]{0,17})")


def conversation_from_hash(hash_text: Any) -> Optional[int]:
    """The conversation a URL's hash names, or None (the list)."""
    if not isinstance(hash_text, str):
        return None
    match = _CONVERSATION.fullmatch(hash_text)
    return int(match.group(1)) if match else None


def hash_for(conversation_id: Optional[int]) -> str:
    """The hash of a conversation's URL; "" for the list."""
    if isinstance(conversation_id, int) and not isinstance(conversation_id, bool) and conversation_id > 0:
        return f"#/conversations/{conversation_id}"
    return ""
