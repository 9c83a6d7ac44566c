"""Bring one message of the open conversation into view (a search result was chosen).

The message may be older than the pages loaded so far: older pages are asked for, one at a
time, until its id is in the log, at most `MAX_PAGES` of them (then, or when the conversation
has no older history, it is not there: the page says so calmly).

    jump = MessageJump(message_id)
    jump.step(log, ready=True, loading_older=False)   # -> JumpStep.LOAD_OLDER, .WAIT, .FOUND, .MISSING

`log` is the conversation's MessageLog (core/message_log.py): `in`, `first_id`, `has_more_before`.
"""
from __future__ import annotations

import enum
from typing import Any

MAX_PAGES = 30  # 30 pages of 50: the 1,500 messages before the newest page


class JumpStep(enum.Enum):
    WAIT = "wait"              # the first page or an older one is on its way
    LOAD_OLDER = "load_older"  # ask for the page before the first loaded message
    FOUND = "found"            # the message is in the log: scroll to it
    MISSING = "missing"        # not in this conversation's history (deleted, or too far back)


class MessageJump:
    def __init__(self, message_id: int, max_pages: int = MAX_PAGES) -> None:
        self.message_id = message_id
        self.max_pages = max_pages
        self.pages = 0  # older pages asked for so far

    def step(self, log: Any, *, ready: bool, loading_older: bool) -> JumpStep:
        if log is not None and self.message_id in log:
            return JumpStep.FOUND
        if not ready or loading_older:
            return JumpStep.WAIT
        first = log.first_id if log is not None else None
        older_exists = first is not None and log.has_more_before and self.message_id < first
        if not older_exists or self.pages >= self.max_pages:
            return JumpStep.MISSING
        self.pages += 1
        return JumpStep.LOAD_OLDER
