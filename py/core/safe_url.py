"""Which image URLs the page may put into ``<img src>`` (edge case 9).

CONTRACT: "An ``image`` URL is absolute or root-relative; anything else is
not an image." We allow exactly two forms and refuse everything else rather
than try to repair it:

* root-relative ``/media/x.png`` (not ``//host`` and not ``/\\host``, which
  browsers read as another host), resolved against ``api_base``'s origin
  because images live on the backend;
* absolute ``http://`` or ``https://`` with a plain host (no user info).

Any control, format or whitespace character (tabs and newlines that browsers
silently drop from ``java\\tscript:``, zero-width and bidi marks, NBSP), a
backslash, and a few characters no honest URL carries unencoded are refused
outright, so no browser-side normalisation can turn an accepted string into
something else.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Optional
from urllib.parse import urlsplit

MAX_URL_LEN = 2048

_REFUSED_CHARS = frozenset('\\"<>`{}|^')
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_NETLOC = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^\s:/?#\[\]@%]+)(:[0-9]{1,5})?$")
_ALLOWED_SCHEMES = ("http", "https")


def is_refused_char(ch: str) -> bool:
    """True for a character no accepted URL may carry (it also ends a link in text)."""
    # C*: control, format (zero-width, bidi), surrogate, private, unassigned.
    # Z*: every kind of space and line/paragraph separator.
    return ch in _REFUSED_CHARS or unicodedata.category(ch)[0] in "CZ"


def _has_refused_char(text: str) -> bool:
    return any(is_refused_char(ch) for ch in text)


def absolute_http_origin(url: str) -> Optional[str]:
    """``scheme://host[:port]`` of an acceptable absolute http(s) URL, else None."""
    match = _SCHEME.match(url)
    if not match or match.group(1).lower() not in _ALLOWED_SCHEMES:
        return None
    if url[match.end() : match.end() + 2] != "//":
        return None
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError on a port out of range
    except ValueError:
        return None
    netloc = parts.netloc
    if not netloc or not _NETLOC.match(netloc):
        return None
    host = netloc.rsplit(":", 1)[0] if not netloc.startswith("[") else netloc
    if not host.strip("."):
        return None
    return f"{parts.scheme.lower()}://{netloc}"


def _is_root_relative(url: str) -> bool:
    if not url.startswith("/") or url.startswith("//"):
        return False
    # "/%2F/evil" and "/%5C/evil" are harmless to URL parsers but some servers
    # decode them into "//evil"; no real image path starts that way.
    return not url[:4].lower() in ("/%2f", "/%5c")


def safe_image_url(url: Any, api_base: str = "") -> Optional[str]:
    """The URL to load an image from, or None if ``url`` is not an image URL.

    Absolute http(s) URLs come back unchanged. A root-relative path is
    returned as is when ``api_base`` is empty or itself root-relative (same
    origin), else prefixed with ``api_base``'s origin. A non-empty
    ``api_base`` that is neither gives None for root-relative paths.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LEN:
        return None
    if _has_refused_char(url):
        return None
    if _is_root_relative(url):
        base = api_base if isinstance(api_base, str) else ""
        if not base or _is_root_relative(base):
            return url
        if _has_refused_char(base):
            return None
        origin = absolute_http_origin(base)
        return None if origin is None else origin + url
    if absolute_http_origin(url) is not None:
        return url
    return None
