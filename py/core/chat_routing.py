"""Which conversation a page shows (issue 14): the routing decisions, apart from the browser.

A boot or a sign-in reopens the conversation the URL names (a deep link, a reload) or, failing
that, the one this tab had open (kept in sessionStorage under OPEN_CONVERSATION_KEY); Back and
Forward open the conversation their URL names, or go back to the list. A conversation the list
does not hold (gone, someone else's, a typo in a link) is never opened.
"""

from __future__ import annotations

import enum
from typing import Any, Callable, Optional

# sessionStorage: the conversation open in this tab, reopened by a reload without a hash.
OPEN_CONVERSATION_KEY = "open_conversation"


def conversation_to_reopen(linked: Optional[int], remembered: Any,
                           in_list: Callable[[int], bool]) -> Optional[int]:
    """At sign-in: the URL's conversation, else the tab's remembered one, if the list has it."""
    if linked is None and isinstance(remembered, str) and remembered.isdigit():
        linked = int(remembered)
    return linked if linked is not None and in_list(linked) else None


class Navigation(enum.Enum):
    OPEN = "open"  # open the conversation the URL names
    TO_LIST = "to-list"  # close the open chat: the URL names the list
    STAY = "stay"  # nothing to change


def after_navigation(linked: Optional[int], in_list: Callable[[int], bool], chat_open: bool) -> Navigation:
    """Back or Forward landed on a URL naming `linked` (None: the list)."""
    if linked is not None and in_list(linked):
        return Navigation.OPEN
    return Navigation.TO_LIST if chat_open else Navigation.STAY
