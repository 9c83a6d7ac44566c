"""Image attachments: the type is decided by the bytes, never by the file name or the client.

Files are stored under the media directory with a random name and served back with the
detected type, `nosniff` and a sandboxing CSP, so an upload can never run as a page.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

MAX_IMAGE_BYTES = 5 * 1024 * 1024

_KINDS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
MEDIA_NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(png|jpg|gif|webp)$")
MEDIA_CSP = "sandbox; default-src 'none'"


def sniff_image(data: bytes) -> str | None:
    """The extension for PNG, JPEG, GIF or WebP content, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def save_image(media_dir: Path, data: bytes, extension: str) -> str:
    """Store the bytes under a fresh random name; return the root-relative URL."""
    media_dir.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{extension}"
    (media_dir / name).write_bytes(data)
    return f"/media/{name}"


def media_type(name: str) -> str | None:
    """The MIME type to serve a stored name with, or None when the name is not one we made."""
    match = MEDIA_NAME.match(name)
    return _KINDS[match.group(1)] if match else None
