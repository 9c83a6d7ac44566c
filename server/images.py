"""Image attachments: the type is decided by the bytes, never by the file name or the client.

`inspect_image()` is a bounded decoder of the four container formats: it walks every chunk,
marker or block (PNG chunk CRCs checked and its pixel data inflated in bounded steps to the
exact size the header promises; JPEG segments up to EOI; GIF blocks up to the trailer; the
WebP RIFF chunks), refuses anything after the format's end (a GIF/HTML polyglot, an appended
archive), and refuses a picture larger than MAX_SIDE x MAX_SIDE or MAX_PIXELS (a small file
can declare 50000x50000 and blow up whoever decodes it). It never allocates pixel buffers.

Files are stored under the media directory with an unguessable random name (144 bits) and
served back with the detected type, `nosniff`, a sandboxing CSP and `Cache-Control: private`:
see docs/RELIABILITY.md ("Media access") for why names rather than a participant check.
"""

from __future__ import annotations

import re
import secrets
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
MAX_GIF_FRAMES = 2000

_KINDS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
MEDIA_NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(png|jpg|gif|webp)$")
MEDIA_CSP = "sandbox; default-src 'none'"
# Only the browser that fetched it keeps a copy (no shared cache); the name never changes content.
MEDIA_CACHE_CONTROL = "private, max-age=31536000, immutable"


class BadImage(ValueError):
    """Not a well-formed PNG, JPEG, GIF or WebP within the limits; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    extension: str
    width: int
    height: int


def sniff_image(data: bytes) -> str | None:
    """The extension the first bytes claim (PNG, JPEG, GIF or WebP), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def inspect_image(data: bytes) -> ImageInfo:
    """Decode the structure of `data`; BadImage unless it is a complete image within limits."""
    extension = sniff_image(data)
    if extension is None:
        raise BadImage("Image must be a PNG, JPEG, GIF or WebP file.")
    try:
        width, height = _READERS[extension](data)
    except (IndexError, struct.error, zlib.error) as exc:
        raise BadImage(f"The {extension.upper()} file is truncated or corrupt.") from exc
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise BadImage(f"Image must be at most {MAX_SIDE}x{MAX_SIDE} pixels ({MAX_PIXELS:,} in all).")
    return ImageInfo(extension, width, height)


def _bad(why: str) -> BadImage:
    return BadImage(f"Image is not well formed: {why}.")


# --- PNG -------------------------------------------------------------------------------------

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _png(data: bytes) -> tuple[int, int]:
    pos = 8
    header = None
    idat = zlib.decompressobj()
    inflated = 0
    expected = 0
    seen_idat = ended = False
    while pos < len(data):
        if ended:
            raise _bad("bytes after IEND")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4 or struct.unpack(">I", crc)[0] != zlib.crc32(kind + body):
            raise _bad("a chunk is cut short or its CRC is wrong")
        pos += 12 + length
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise _bad("IHDR must come first")
            width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
            if depth not in _PNG_DEPTHS.get(color, ()) or compression or filtering or interlace > 1:
                raise _bad("unknown colour type, depth or method")
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or width * height > MAX_PIXELS:
                return width, height  # refused by the caller before any pixel is inflated
            header = (width, height)
            expected = _png_raw_size(width, height, _PNG_CHANNELS[color] * depth, interlace)
        elif kind == b"IDAT":
            seen_idat = True
            inflated += _inflate_count(idat, body, expected - inflated)
        elif kind == b"IEND":
            ended = True
    if header is None or not ended or not seen_idat:
        raise _bad("IHDR, IDAT or IEND is missing")
    if not idat.eof or inflated != expected:
        raise _bad("the pixel data does not match the declared size")
    return header


def _png_raw_size(width: int, height: int, bits_per_pixel: int, interlace: int) -> int:
    def rows(w: int, h: int) -> int:
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits_per_pixel + 7) // 8)
    if not interlace:
        return rows(width, height)
    return sum(rows((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy) for x0, y0, dx, dy in _ADAM7)


def _inflate_count(inflater, chunk: bytes, room: int) -> int:
    """Inflate `chunk` in 64 KiB steps, keeping nothing; more than `room` bytes is an error."""
    total = 0
    pending = chunk
    while True:
        out = inflater.decompress(pending, 65536)
        total += len(out)
        if total > room:
            raise _bad("the pixel data is larger than the declared size")
        pending = inflater.unconsumed_tail
        if not pending:
            return total


# --- JPEG ------------------------------------------------------------------------------------

_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> tuple[int, int]:
    pos = 2
    size = None
    while True:
        if data[pos] != 0xFF:
            raise _bad("a JPEG marker was expected")
        while data[pos] == 0xFF:
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            if pos != len(data):
                raise _bad("bytes after the end of the JPEG")
            if size is None:
                raise _bad("no frame header")
            return size
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        length = struct.unpack(">H", data[pos:pos + 2])[0]
        if length < 2 or pos + length > len(data):
            raise _bad("a JPEG segment is cut short")
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            size = (width, height)
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            if size is None:
                raise _bad("scan before the frame header")
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0:
                    raise _bad("the JPEG ends inside a scan")
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos += 1 if following == 0xFF else 2
                    continue
                break


# --- GIF -------------------------------------------------------------------------------------

def _gif(data: bytes) -> tuple[int, int]:
    width, height, packed = struct.unpack("<HHB", data[6:11])
    pos = 13
    if packed & 0x80:
        pos += 3 * (2 << (packed & 7))
    frames = 0
    while True:
        block = data[pos]
        pos += 1
        if block == 0x3B:  # trailer
            if pos != len(data):
                raise _bad("bytes after the GIF trailer")
            if frames == 0:
                raise _bad("no image in the GIF")
            return width, height
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _gif_sub_blocks(data, pos + 1)
        elif block == 0x2C:  # image descriptor
            frames += 1
            if frames > MAX_GIF_FRAMES:
                raise _bad("too many frames")
            left, top, w, h, local = struct.unpack("<HHHHB", data[pos:pos + 9])
            if w == 0 or h == 0 or left + w > max(width, MAX_SIDE) or top + h > max(height, MAX_SIDE):
                raise _bad("a frame lies outside the picture")
            pos += 9
            if local & 0x80:
                pos += 3 * (2 << (local & 7))
            if not 1 < data[pos] <= 12:
                raise _bad("bad LZW code size")
            pos = _gif_sub_blocks(data, pos + 1)
        else:
            raise _bad("unknown GIF block")


def _gif_sub_blocks(data: bytes, pos: int) -> int:
    while True:
        size = data[pos]
        pos += 1 + size
        if pos > len(data):
            raise IndexError
        if size == 0:
            return pos


# --- WebP ------------------------------------------------------------------------------------

def _webp(data: bytes) -> tuple[int, int]:
    if struct.unpack("<I", data[4:8])[0] + 8 != len(data):
        raise _bad("the RIFF size does not match the file")
    pos = 12
    size = None
    first = True
    while pos < len(data):
        kind, length = struct.unpack("<4sI", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise _bad("a WebP chunk is cut short")
        pos += 8 + length + (length & 1)
        if first:
            first = False
            if kind == b"VP8 ":
                if body[3:6] != b"\x9d\x01\x2a":
                    raise _bad("bad VP8 start code")
                w, h = struct.unpack("<HH", body[6:10])
                size = (w & 0x3FFF, h & 0x3FFF)
            elif kind == b"VP8L":
                if body[0] != 0x2F:
                    raise _bad("bad VP8L signature")
                bits = int.from_bytes(body[1:5], "little")
                size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            elif kind == b"VP8X":
                size = (int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1)
            else:
                raise _bad("the first WebP chunk must be VP8, VP8L or VP8X")
    if pos != len(data) or size is None:
        raise _bad("the WebP chunks do not fill the file")
    return size


_READERS = {"png": _png, "jpg": _jpeg, "gif": _gif, "webp": _webp}


def save_image(media_dir: Path, data: bytes, extension: str) -> str:
    """Store the bytes under a fresh random name; return the root-relative URL."""
    media_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{extension}"
    (media_dir / name).write_bytes(data)
    return f"/media/{name}"


def delete_image(media_dir: Path, url: str) -> None:
    """Remove a file `save_image` stored (its message was not kept); gone already is fine."""
    name = url.rsplit("/", 1)[-1]
    if MEDIA_NAME.match(name):
        (media_dir / name).unlink(missing_ok=True)


def media_type(name: str) -> str | None:
    """The MIME type to serve a stored name with, or None when the name is not one we made."""
    match = MEDIA_NAME.match(name)
    return _KINDS[match.group(1)] if match else None
