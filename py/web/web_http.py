"""Browser I/O for the REST client and the token store.

`fetch_transport` is the transport that py/core/api_client.py is written against:
(method, url, headers, body) -> (status, parsed JSON or None). Bodies are read
as text and parsed in Python (core.api_client.json_body): one boundary crossing, no
JsProxy trees.
"""

import js
from pyodide.ffi import to_js

from core.api_client import json_body


class NetworkFailure(Exception):
    """The request never got an HTTP answer (server down, offline, CORS)."""


async def fetch_transport(method, url, headers, body):
    init = {"method": method, "headers": headers, "cache": "no-store", "credentials": "omit"}
    if body is not None:
        init["body"] = body
    try:
        response = await js.fetch(url, to_js(init, dict_converter=js.Object.fromEntries))
        text = await response.text()
    except Exception as exc:  # a JS TypeError: the network failed
        raise NetworkFailure(type(exc).__name__) from None
    return int(response.status), json_body(text)


class LocalStorageStore:
    """Token storage like the dashboard's: localStorage, one key per token."""

    def get(self, name):
        try:
            value = js.localStorage.getItem(name)
        except Exception:
            return None
        return value if isinstance(value, str) else None

    def set(self, name, value):
        try:
            js.localStorage.setItem(name, value)
        except Exception:
            pass  # storage full or blocked: the session just won't survive a reload

    def remove(self, name):
        try:
            js.localStorage.removeItem(name)
        except Exception:
            pass


def multipart_form(content, client_message_id, file):
    """A FormData for an image send; the File object goes through untouched."""
    form = js.FormData.new()
    form.append("content", content)
    form.append("client_message_id", client_message_id)
    form.append("image", file)
    return form
