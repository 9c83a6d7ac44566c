"""The design card's name for the open conversation's view: a thin re-export.

The view lives in web/chat_view.py, beside the parts it composes, so that web/ imports
nothing from the top of py/ (web/chat_controller.py imports it from there). This module keeps
the card's `from chat_view import ChatView` working.
"""
from web.chat_view import ChatView  # noqa: F401 - re-exported

__all__ = ["ChatView"]
