"""Text as search compares it: one folding, made in Python, so both engines answer alike.

SQLite's LIKE and lower() fold only ASCII letters; PostgreSQL's lower() depends on the
database's locale. Neither would match "ÉTÉ" to "été" the same way on both engines, so the
app stores `search_key(content)` beside each message (`messages.search_text`) and folds the
query the same way; the database then compares plain strings.
"""

from __future__ import annotations

import unicodedata

LIKE_ESCAPE = "\\"


def search_key(text: str) -> str:
    """NFKC, then casefold: "ÉTÉ", "été" (either composed or not) and "ｅｔｅ" meet; "Straße" finds
    "STRASSE"."""
    return unicodedata.normalize("NFKC", text).casefold()


def contains_pattern(query: str) -> str:
    """A LIKE pattern (with `ESCAPE '\\'`) that matches text containing `search_key(query)`:
    the query's own `%`, `_` and `\\` stand for themselves."""
    key = search_key(query)
    for special in (LIKE_ESCAPE, "%", "_"):
        key = key.replace(special, LIKE_ESCAPE + special)
    return f"%{key}%"
