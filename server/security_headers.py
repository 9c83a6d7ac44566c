"""Security headers on every HTTP response; the page's CSP lives in this one constant.

`'wasm-unsafe-eval'` is what Pyodide needs to compile its WebAssembly; no inline script is
allowed and the only inline style is index.html's skeleton <style>, admitted by its sha256
(SKELETON_STYLE_HASH; tests/server/test_inline_style.py fails when the two differ). `connect-src`
admits our own origin plus WebSockets.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# sha256 of the exact text inside index.html's <style>: change both together.
SKELETON_STYLE_HASH = "'sha256-jD92S9Umu7hop4uVcjok9vGzV3uJSHo56ScOOrELwFc='"
CONTENT_SECURITY_POLICY = (
    f"default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' {SKELETON_STYLE_HASH}; "
    "img-src 'self' data: blob:; connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
}


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS to each HTTP response, keeping any a handler set itself
    (the media endpoint sets a stricter CSP of its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
