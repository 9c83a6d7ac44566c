"""Images for the upload tests: `picture()` makes real ones of each accepted format with
Pillow; the others are built by hand, byte by byte, to be exactly as broken or hostile as a
test needs (a header declaring 40000x40000, HTML after the trailer...)."""

from __future__ import annotations

import io
import struct
import zlib

_PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}


def picture(extension: str, width: int = 16, height: int = 9, **save_options) -> bytes:
    """A well-formed image: red, with a blue left quarter (to tell a rotation apart)."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (0, 0, max(1, width // 4), height))
    out = io.BytesIO()
    image.save(out, _PILLOW_FORMATS[extension], **save_options)
    return out.getvalue()


def png(width: int = 1, height: int = 1, *, pixels: bytes | None = None, trailer: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    if pixels is None:
        pixels = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9))
            + chunk(b"IEND", b"") + trailer)


def jpeg(width: int = 1, height: int = 1) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + sof + sos + b"\x12\xff\x00\x34" + b"\xff\xd9"


def gif(width: int = 1, height: int = 1, *, comment: bytes = b"", trailer: bytes = b"") -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    extension = (b"\x21\xfe" + bytes([len(comment)]) + comment + b"\x00") if comment else b""
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return screen + extension + frame + b"\x3b" + trailer


def webp(width: int = 1, height: int = 1) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + bits.to_bytes(4, "little")
    chunk = b"VP8L" + struct.pack("<I", len(body)) + body + b"\x00"  # padded to even
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
