"""Which browser origins may open a WebSocket (CONTRACT: "its own by default")."""

from __future__ import annotations

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
