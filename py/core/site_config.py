"""config.json (CONTRACT.md "config.json"): where the backend is. Empty means this page's origin.

static/early.js fetches the file once per page load and hands its text to Python
(web/site_config_load.py); the rules for what the text means are here, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SiteConfig:
    api_base: str = ""  # no trailing slash; "" = same origin
    ws_base: str = ""


def _base(data: dict, name: str) -> str:
    value = data.get(name)
    return value.rstrip("/") if isinstance(value, str) else ""


def parse_config(text: Any) -> SiteConfig:
    """The config a text says; anything unreadable is the empty config (same origin)."""
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        data = None
    if not isinstance(data, dict):
        return SiteConfig()
    return SiteConfig(_base(data, "api_base"), _base(data, "ws_base"))
