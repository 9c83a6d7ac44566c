"""The sending limits, said before they bite (issue 13, point 4; CONTRACT "send").

The server refuses content over 2,000 characters and images over 5 MB or not PNG, JPEG,
GIF or WebP. The composer tells the user before the send instead: a counter appears near
the limit, a message over it is refused in words and kept whole in the box (never cut), and
a file of the wrong kind or size is refused the moment it is picked, with the reason.

    counter_text(1850)                      # "1,850 / 2,000"
    text_refusal("x" * 2001)                # "2,001 characters: the limit is 2,000. ..."
    attachment_refusal("a.txt", "text/plain", 10)   # "a.txt is not an image ..."

Characters are counted as the server counts them: code points (a Python str's len).
"""
from __future__ import annotations

from typing import Optional

MAX_CONTENT = 2000
COUNTER_FROM = 1800  # the counter shows from here (90 % of the limit)
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
ACCEPT = ",".join(IMAGE_TYPES)  # the file picker's accept attribute


def counter_text(length: int) -> Optional[str]:
    """"1,850 / 2,000" near or over the limit, else None (no counter)."""
    if length < COUNTER_FROM:
        return None
    return f"{length:,} / {MAX_CONTENT:,}"


def is_over(length: int) -> bool:
    return length > MAX_CONTENT


def text_refusal(text: str) -> Optional[str]:
    """Why this text cannot be sent, or None when it can."""
    length = len(text)
    if length <= MAX_CONTENT:
        return None
    over = length - MAX_CONTENT
    unit = "character" if over == 1 else "characters"
    return (f"Not sent: the message is {length:,} characters and the limit is {MAX_CONTENT:,}. "
            f"Remove {over:,} {unit} and send again.")


def attachment_refusal(name: str, mime: str, size: int) -> Optional[str]:
    """Why this file cannot be attached, or None when it can."""
    label = name or "This file"
    if (mime or "").lower() not in IMAGE_TYPES:
        return f"{label} is not an image the chat accepts. Choose a PNG, JPEG, GIF or WebP image."
    if size > MAX_IMAGE_BYTES:
        return (f"{label} is {size / (1024 * 1024):.1f} MB; images can be at most "
                f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB.")
    return None
