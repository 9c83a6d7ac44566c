"""Which parts of a message's text become links (issue 14, point 3).

The view renders a message's text as a list of segments: plain text goes in with
``textContent``, a link becomes an ``<a>`` built with ``createElement`` whose
``href`` is exactly the text shown. This module only decides where the links are.

Rules, strict on purpose (a link is a promise that clicking it is safe):

* Only ``http://`` and ``https://`` (any letter case) start a link. Nothing else
  does: ``javascript:``, ``data:``, ``vbscript:``, ``file:``, look-alikes such as
  ``https;//`` or ``hxxp://``, and a scheme glued to a word (``xhttps://``,
  ``javascript:https://``) stay plain text.
* A link runs to the first whitespace, control or format character (zero-width
  and bidi marks end it, so what is shown is what is linked) or to one of
  ``<>"`\\{}|^``; text that looks like HTML (``<a href=...>``) is never parsed.
* Trailing punctuation that reads as the sentence's, not the URL's, is left out:
  ``.,:;!?'"*`` and a closing bracket with no opening partner inside the URL.
* What remains must pass ``safe_url``'s absolute-URL check (a plain host, no user
  info, a valid port) and be at most ``MAX_URL_LEN`` long, else it stays text.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

from core.safe_url import MAX_URL_LEN, absolute_http_origin, is_refused_char

# A scheme at the start of the text or after a character that cannot be part of a
# word or of another scheme (so "xhttps://" and "javascript:https://" do not match).
_START = re.compile(r"(?<![\w+.\-:/@])https?://", re.IGNORECASE)
_TRAILING = ".,:;!?'\"*"
_PAIRS = {")": "(", "]": "[", "}": "{"}


class Segment(NamedTuple):
    text: str
    href: Optional[str] = None  # the link target (equal to text) or None for plain text


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _PAIRS and url.count(_PAIRS[last]) < url.count(last):
            url = url[:-1]
        else:
            break
    return url


def split_links(text: str) -> list[Segment]:
    """The text as segments in order; joined, their texts give back ``text``."""
    if not isinstance(text, str) or not text:
        return []
    segments: list[Segment] = []
    plain_from = 0
    pos = 0
    while True:
        match = _START.search(text, pos)
        if match is None:
            break
        end = match.end()
        while end < len(text) and not is_refused_char(text[end]):
            end += 1
        url = _trim(text[match.start():end])
        if len(url) > len(match.group(0)) and len(url) <= MAX_URL_LEN and absolute_http_origin(url):
            if match.start() > plain_from:
                segments.append(Segment(text[plain_from:match.start()]))
            segments.append(Segment(url, url))
            plain_from = match.start() + len(url)
            pos = plain_from
        else:
            pos = match.end()
    if plain_from < len(text):
        segments.append(Segment(text[plain_from:]))
    return segments
