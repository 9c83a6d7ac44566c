"""Where an uploaded image ends: the checks Pillow does not make.

Pillow decodes the pixels (`server.images`), but it stops reading where the picture is
complete and ignores what follows: a GIF with HTML after its trailer, a JPEG with an archive
after EOI, a PNG whose IDAT inflates to more than its header declares. `check_framing()`
walks each container's framing (PNG chunks with their CRCs and the exact inflated size, JPEG
segments up to the scan and then its EOI, GIF blocks up to the trailer, WebP RIFF chunks) and
refuses anything after the format's end, so a polyglot is refused as a whole.

Every walk is bounded: loops step over chunks, segments or sub-blocks (never single bytes,
which took ~1 s for a 5 MB JPEG of stuffed 0xFF bytes), and their count is capped, so the
worst 5 MB file costs a few milliseconds of Python. Searches run in C (`bytes.find`,
`re`, `zlib`). Nothing here allocates a pixel buffer.
"""

from __future__ import annotations

import re
import struct
import zlib

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
MAX_GIF_FRAMES = 2000
# Chunks, segments or sub-blocks walked in one file. A 5 MB file from any honest encoder
# has at most ~21,000 (GIF's 255-byte sub-blocks); 1-byte blocks would be 2.6 million.
MAX_BLOCKS = 60_000


class BadImage(ValueError):
    """Not a well-formed PNG, JPEG, GIF or WebP within the limits; the message says why."""


def too_large() -> BadImage:
    return BadImage(f"Image must be at most {MAX_SIDE}x{MAX_SIDE} pixels ({MAX_PIXELS:,} in all).")


FORMAT_NAMES = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WebP"}


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


def check_framing(data: bytes) -> str:
    """The extension of `data`; BadImage unless its container is complete, ends where the
    file ends, and stays within the block budget."""
    extension = sniff_image(data)
    if extension is None:
        raise BadImage("Image must be a PNG, JPEG, GIF or WebP file.")
    try:
        end = _WALKERS[extension](data)
    except (IndexError, struct.error, zlib.error) as exc:
        raise BadImage(f"The {FORMAT_NAMES[extension]} file is truncated or corrupt.") from exc
    if end != len(data):
        raise _bad(f"bytes after the end of the {FORMAT_NAMES[extension]} data")
    return extension


def fits(width: int, height: int) -> bool:
    return 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS


def _bad(why: str) -> BadImage:
    return BadImage(f"Image is not well formed: {why}.")


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_BLOCKS

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _bad("too many chunks or blocks")


# --- PNG -------------------------------------------------------------------------------------

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_INFLATE_STEP = 1 << 20


def _png(data: bytes) -> int:
    """The offset just after IEND. The pixel data must inflate to exactly the size the
    header implies: Pillow would skip the excess of a zip bomb, but it is not a PNG."""
    view = memoryview(data)
    budget = _Budget()
    pos = 8
    idat = zlib.decompressobj()
    inflated = expected = 0
    header = None
    while True:
        budget.take()
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data) or struct.unpack_from(">I", data, end - 4)[0] != zlib.crc32(view[pos + 4:end - 4]):
            raise _bad("a chunk is cut short or its CRC is wrong")
        body = view[pos + 8:end - 4]
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise _bad("IHDR must come first")
            width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
            if depth not in _PNG_DEPTHS.get(color, ()) or compression or filtering or interlace > 1:
                raise _bad("unknown colour type, depth or method")
            if not fits(width, height):
                raise too_large()  # before a single pixel is inflated
            header = (width, height)
            expected = _png_raw_size(width, height, _PNG_CHANNELS[color] * depth, interlace)
        elif kind == b"IDAT":
            inflated += _inflate_count(idat, body, expected - inflated)
        elif kind == b"IEND":
            if not idat.eof or inflated != expected:
                raise _bad("the pixel data does not match the declared size")
            return end
        pos = end


def _png_raw_size(width: int, height: int, bits_per_pixel: int, interlace: int) -> int:
    def rows(w: int, h: int) -> int:
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits_per_pixel + 7) // 8)
    if not interlace:
        return rows(width, height)
    return sum(rows((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy) for x0, y0, dx, dy in _ADAM7)


def _inflate_count(inflater, chunk, room: int) -> int:
    """Inflate `chunk` in 1 MiB steps, keeping nothing; more than `room` bytes is an error."""
    total = 0
    pending = chunk
    while True:
        out = inflater.decompress(pending, _INFLATE_STEP)
        total += len(out)
        if total > room:
            raise _bad("the pixel data is larger than the declared size")
        pending = inflater.unconsumed_tail
        if not pending:
            return total


# --- JPEG ------------------------------------------------------------------------------------

_FILL = re.compile(rb"\xff+")


def _jpeg(data: bytes) -> int:
    """The offset just after EOI. Segments are walked by their lengths up to the first scan;
    from there the first FF D9 is the end: inside entropy-coded data every FF is followed
    by 00 or a restart marker, and the tables between progressive scans never hold FF D9."""
    budget = _Budget()
    pos = 2
    while True:
        budget.take()
        fill = _FILL.match(data, pos)
        if fill is None:
            raise _bad("a JPEG marker was expected")
        pos = fill.end()
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            raise _bad("no image data before EOI")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise _bad("a JPEG segment is cut short")
        pos += length
        if marker == 0xDA:  # start of scan
            eoi = data.find(b"\xff\xd9", pos)
            if eoi < 0:
                raise _bad("the JPEG ends inside a scan")
            return eoi + 2


# --- GIF -------------------------------------------------------------------------------------

def _gif(data: bytes) -> int:
    """The offset just after the trailer (0x3B)."""
    budget = _Budget()
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    pos = 13
    if packed & 0x80:
        pos += 3 * (2 << (packed & 7))
    frames = 0
    while True:
        budget.take()
        block = data[pos]
        pos += 1
        if block == 0x3B:
            if frames == 0:
                raise _bad("no image in the GIF")
            return pos
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _gif_sub_blocks(data, pos + 1, budget)
        elif block == 0x2C:  # image descriptor
            frames += 1
            if frames > MAX_GIF_FRAMES:
                raise _bad("too many frames")
            left, top, w, h, local = struct.unpack_from("<HHHHB", data, pos)
            if w == 0 or h == 0 or left + w > max(width, MAX_SIDE) or top + h > max(height, MAX_SIDE):
                raise _bad("a frame lies outside the picture")
            pos += 9
            if local & 0x80:
                pos += 3 * (2 << (local & 7))
            if not 1 < data[pos] <= 12:
                raise _bad("bad LZW code size")
            pos = _gif_sub_blocks(data, pos + 1, budget)
        else:
            raise _bad("unknown GIF block")


def _gif_sub_blocks(data: bytes, pos: int, budget: _Budget) -> int:
    while True:
        budget.take()
        size = data[pos]
        pos += 1 + size
        if pos > len(data):
            raise IndexError
        if size == 0:
            return pos


# --- WebP ------------------------------------------------------------------------------------

def _webp(data: bytes) -> int:
    """The offset after the last RIFF chunk; the RIFF size must be the file's."""
    if struct.unpack_from("<I", data, 4)[0] + 8 != len(data):
        raise _bad("the RIFF size does not match the file")
    budget = _Budget()
    pos = 12
    while pos < len(data):
        budget.take()
        kind, length = struct.unpack_from("<4sI", data, pos)
        if pos == 12 and kind not in (b"VP8 ", b"VP8L", b"VP8X"):
            raise _bad("the first WebP chunk must be VP8, VP8L or VP8X")
        pos += 8 + length + (length & 1)
        if pos > len(data):
            raise _bad("a WebP chunk is cut short")
    return pos


_WALKERS = {"png": _png, "jpg": _jpeg, "gif": _gif, "webp": _webp}
