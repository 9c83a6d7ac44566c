"""Loads config.json for the app: the text static/early.js already fetched (one request per
page load), else (early.js did not run) a fetch of its own. core/site_config.py reads it."""

import js

from core.page_names import CONFIG_PATH
from core.site_config import parse_config
from web.web_early import take_config


async def _fetch_text():
    try:
        response = await js.fetch(CONFIG_PATH, js.Object.fromEntries([["cache", "no-cache"]]))
        return await response.text() if response.ok else ""
    except Exception:
        return ""


async def load_config():
    """The SiteConfig: where the backend is (CONTRACT.md "config.json")."""
    early = take_config()
    text = await early if early is not None else await _fetch_text()
    return parse_config(text)
