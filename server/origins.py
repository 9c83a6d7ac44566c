"""Which browser origins may use us (CONTRACT: "its own by default"), and which Host names we serve."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def normalize_origin(origin: str) -> str:
    """`scheme://host[:port]` lower-cased, with a default port dropped."""
    origin = origin.strip().rstrip("/").lower()
    scheme, sep, hostport = origin.partition("://")
    if not sep:
        return origin
    host, colon, port = hostport.rpartition(":")
    if colon and port == _DEFAULT_PORTS.get(scheme) and "]" not in port:
        hostport = host
    return f"{scheme}://{hostport}"


def origin_allowed(origin: str | None, host: str | None, scheme: str, allowed: frozenset[str]) -> bool:
    """No Origin (not a browser) is allowed; otherwise it must be our own origin or listed."""
    if origin is None:
        return True
    origin = normalize_origin(origin)
    if origin in {normalize_origin(a) for a in allowed}:
        return True
    if not host:
        return False
    secure = scheme in ("https", "wss")
    own = normalize_origin(f"{'https' if secure else 'http'}://{host}")
    # Behind a TLS proxy the server may see plain http while the page is https.
    other = normalize_origin(f"{'http' if secure else 'https'}://{host}")
    return origin in (own, other)


def host_allowed(host_header: str | None, names: frozenset[str]) -> bool:
    """Whether a request's Host may be served: an IP literal, `localhost`, or a listed name.

    DNS rebinding points an attacker's name at our address, so the browser sends Host (and
    Origin) with the attacker's name: refusing names we were not told to serve defeats it.
    An IP literal cannot be rebound, so one is always fine.
    """
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):  # [v6]:port
        end = host.find("]")
        rest = host[end + 1:]
        return end > 0 and _is_ip(host[1:end]) and (rest == "" or (rest[:1] == ":" and rest[1:].isdigit()))
    name, colon, port = host.rpartition(":")
    if not colon:
        name = host
    elif not port.isdigit():
        return False
    name = name.rstrip(".")
    return name == "localhost" or _is_ip(name) or name in names


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class HostAllowListMiddleware:
    """400 for an HTTP request, or a refused handshake, whose Host is not allowed (Django's
    ALLOWED_HOSTS answers 400 the same way)."""

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(n.strip().lower().rstrip(".") for n in names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not host_allowed(Headers(scope=scope).get("host"), self.names):
            if scope["type"] == "websocket":
                await receive()  # websocket.connect
                return await send({"type": "websocket.close", "code": 1008})
            body = b'{"detail": "Invalid Host header."}'
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            return await send({"type": "http.response.body", "body": body})
        await self.app(scope, receive, send)
