"""Security headers, and the one place the page's Content-Security-Policy is built.

Both the live server (`SecurityHeadersMiddleware`) and `serve.py export` (`meta_tag` for
the exported index.html, `headers_file` for hosts that read a `_headers` file) build the
policy with `content_security_policy()`, so the static site is as strict as the served one.

`'wasm-unsafe-eval'` is what Pyodide needs to compile its WebAssembly; no inline script is
allowed and the only inline style is index.html's skeleton <style>, admitted by its sha256
(SKELETON_STYLE_HASH; tests/server/test_inline_style.py fails when the two differ).

`connect-src` names only the page's own origin and the backend config.json points at
(`api_base`, `ws_base`, and the ws:/wss: twin of an http(s) `api_base`): a script that got
into the page could not open a socket or a request to any other host. CSP Level 3 lets
'self' match the page's own ws:/wss: origin, but Safari does not, so the live server also
names `ws://<Host>` and `wss://<Host>` for the Host it was asked for (already checked by
the Host allow-list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# sha256 of the exact text inside index.html's <style>: change both together.
SKELETON_STYLE_HASH = "'sha256-x6JzeR6pyhikNuFzj5romtetIVEeCQtrDgwpV9Bgp3Q='"
_TWIN = {"http": "ws", "https": "wss", "ws": "http", "wss": "https"}
_DEFAULT_PORT = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def backend_origins(config: Mapping[str, object]) -> list[str]:
    """The origins config.json's api_base and ws_base point at (empty: none, the page's own)."""
    origins: list[str] = []
    for name in ("api_base", "ws_base"):
        origin = _origin(config.get(name))
        if origin is None:
            continue
        scheme, rest = origin.split("://", 1)
        for candidate in (origin, f"{_TWIN[scheme]}://{rest}") if name == "api_base" else (origin,):
            if candidate not in origins:
                origins.append(candidate)
    return origins


def _origin(url: object) -> str | None:
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _TWIN or not host or any(c in host for c in " ;,'\""):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORT[scheme] else "")


def read_config(site_root: Path) -> dict:
    """The site's config.json, or {} when it is missing or not a JSON object."""
    try:
        data = json.loads((site_root / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def content_security_policy(connect: Iterable[str] = (), *, for_meta: bool = False) -> str:
    """The page's policy; `connect` adds origins to connect-src after 'self'. A <meta> policy
    leaves out frame-ancestors (browsers ignore it there; the headers file carries it)."""
    connect_src = " ".join(["'self'", *dict.fromkeys(connect)])
    directives = [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        f"style-src 'self' {SKELETON_STYLE_HASH}",
        "img-src 'self' data: blob:",
        f"connect-src {connect_src}",
        "font-src 'self'",
        # The service worker (static/sw.js, served at /sw.js) and the web manifest (issue 22).
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
    if not for_meta:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


OTHER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
}


def meta_tag(config: Mapping[str, object]) -> str:
    """The <meta http-equiv> CSP for an exported index.html."""
    policy = content_security_policy(backend_origins(config), for_meta=True)
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


def with_meta_csp(html: bytes, config: Mapping[str, object]) -> bytes:
    """index.html with the CSP <meta> early in <head>, before anything it governs."""
    text = html.decode("utf-8")
    # After <meta charset> (which must come first), else <head ...>, else the doctype (the
    # head is then implied), else at the very start: always before any script or style.
    match = (re.search(r"<meta\s+charset[^>]*>", text, re.IGNORECASE)
             or re.search(r"<head(\s[^>]*)?>", text, re.IGNORECASE)
             or re.match(r"\s*<!doctype[^>]*>", text, re.IGNORECASE))
    at = match.end() if match else 0
    return (text[:at] + "\n    " + meta_tag(config) + text[at:]).encode("utf-8")


def headers_file(config: Mapping[str, object]) -> str:
    """A `_headers` file (Netlify / Cloudflare Pages format) with the served header set."""
    lines = ["# Security headers for the exported site (written by `serve.py export`).", "/*"]
    lines.append(f"  Content-Security-Policy: {content_security_policy(backend_origins(config))}")
    lines += [f"  {name}: {value}" for name, value in OTHER_HEADERS.items()]
    return "\n".join(lines) + "\n"


class SecurityHeadersMiddleware:
    """Adds the security headers to each HTTP response, keeping any a handler set itself
    (the media endpoint sets a stricter CSP of its own)."""

    def __init__(self, app: ASGIApp, backends: Iterable[str] = ()) -> None:
        self.app = app
        self.backends = list(backends)
        self._policies: dict[str, str] = {}

    def policy_for(self, host: str | None) -> str:
        host = (host or "").strip().lower()
        policy = self._policies.get(host)
        if policy is None:
            own = [f"ws://{host}", f"wss://{host}"] if host and _origin(f"http://{host}") else []
            policy = content_security_policy([*own, *self.backends])
            if len(self._policies) < 64:  # hosts are allow-listed in front of us; bound it anyway
                self._policies[host] = policy
        return policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = self.policy_for(Headers(scope=scope).get("host"))
                for name, value in OTHER_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The base policy (no configured backend, no Host): what tests and docs compare against.
CONTENT_SECURITY_POLICY = content_security_policy()


HEADERS_FILE = "_headers"


def secure_export(dest: Path) -> list[str]:
    """After `serve.py export` wrote `dest`: put the CSP <meta> into its index.html and write
    the `_headers` file, both from the exported config.json. Returns the URL paths added."""
    config = read_config(dest)
    index = dest / "index.html"
    if index.is_file():
        index.write_bytes(with_meta_csp(index.read_bytes(), config))
    (dest / HEADERS_FILE).write_text(headers_file(config), encoding="utf-8")
    return ["/" + HEADERS_FILE]
