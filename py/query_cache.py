"""The design card's name for the query cache: a thin re-export, nothing of its own.

The cache lives in core/query_cache.py (logic under core/ imports only downward, so
core/session.py, core/polling.py and core/open_conversation.py import it from there). This
module keeps the card's `import query_cache` working; new code imports core.query_cache.
"""
from core.query_cache import (  # noqa: F401 - re-exported
    CONVERSATIONS_KEY,
    ME_KEY,
    UNREAD_COUNT_KEY,
    Listener,
    QueryCache,
    QueryKey,
    messages_key,
)

__all__ = ["CONVERSATIONS_KEY", "ME_KEY", "UNREAD_COUNT_KEY", "Listener", "QueryCache", "QueryKey",
           "messages_key"]
