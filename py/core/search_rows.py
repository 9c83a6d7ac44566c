"""What one search result shows: the conversation, the time, and the text with the match marked.

    row = result_row(message, conversations, me_id, "run", now_iso, tz_offset)
    row.title, row.when            # "Alex Rivera", "14:05" (the list's time format)
    row.before, row.match, row.after   # "…we could ", "run", " on Monday…"

The adapter puts `before` and `after` in text nodes and `match` in a <mark>: the text is
never markup. The match is found the way search compares (NFKC and case folding,
core/search.py), so "STRASSE" marks "Straße"; each folded character remembers which
character of the text it came from, and the mark covers those.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

from core import formatting
from core.conversation_ops import other_party
from core.search import fold

CONTEXT_BEFORE = 30  # characters of text kept before the match
CONTEXT_AFTER = 90   # ... and after it
ELLIPSIS = "…"


@dataclass(frozen=True)
class ResultRow:
    message_id: int
    conversation_id: int
    title: str
    when: str
    full_when: str
    before: str
    match: str
    after: str


def _folded_with_origin(text: str) -> Tuple[str, List[int]]:
    """The folded text, and for each of its characters the index in `text` it came from."""
    parts, origin = [], []
    for index, char in enumerate(text):
        folded = fold(char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return "".join(parts), origin


def mark_match(text: str, q: str) -> Tuple[str, str, str]:
    """(before, match, after) of `text` around the first match of `q`, shortened with "…"
    to the context around it; no match found: (the start of the text, "", "")."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))  # one line; é as one character
    folded, origin = _folded_with_origin(text)
    key = fold(q.strip())
    at = folded.find(key) if key else -1
    if at < 0:
        return _shorten_end(text, CONTEXT_BEFORE + CONTEXT_AFTER), "", ""
    start, end = origin[at], origin[at + len(key) - 1] + 1
    before = text[:start]
    if len(before) > CONTEXT_BEFORE:
        before = ELLIPSIS + before[len(before) - CONTEXT_BEFORE:].lstrip()
    return before, text[start:end], _shorten_end(text[end:], CONTEXT_AFTER)


def _shorten_end(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + ELLIPSIS


def conversation_title(conversation: Optional[Dict[str, Any]], me_id: Any) -> str:
    """The other party's name, as the list shows it."""
    if not isinstance(conversation, dict):
        return "Conversation"
    return formatting.display_name(other_party(conversation, me_id)) or "Conversation"


def result_row(message: Dict[str, Any], conversations: Dict[int, Dict[str, Any]], me_id: Any, q: str,
               now_iso: str, tz_offset: float = 0) -> ResultRow:
    before, match, after = mark_match(message.get("content") or "", q)
    created = message.get("created_at")
    return ResultRow(
        message_id=message["id"], conversation_id=message["conversation_id"],
        title=conversation_title(conversations.get(message["conversation_id"]), me_id),
        when=formatting.format_list_time(created, now_iso, tz_offset),
        full_when=formatting.full_date_time(created, tz_offset),
        before=before, match=match, after=after)


def result_rows(messages: Iterable[Dict[str, Any]], conversations: Iterable[Dict[str, Any]], me_id: Any,
                q: str, now_iso: str, tz_offset: float = 0) -> List[ResultRow]:
    by_id = {c["id"]: c for c in conversations if isinstance(c, dict) and "id" in c}
    return [result_row(m, by_id, me_id, q, now_iso, tz_offset) for m in messages]
