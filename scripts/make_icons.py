"""Write the web manifest's PNG icons (static/icon-192.png, static/icon-512.png) from the
shape of static/icon.svg: the brand's teal square with the white speech bubble.

    python3 scripts/make_icons.py          # writes both; tests/server checks they match

Only zlib and struct: no image library is needed at set-up. The square has no rounded
corners so that the 512 px icon also serves as a maskable one (the bubble lies inside the
safe circle)."""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (192, 512)
TEAL = (0x0F, 0x76, 0x6E)
WHITE = (0xFF, 0xFF, 0xFF)
# static/icon.svg's bubble, in its 32-unit view box.
BUBBLE = ((8, 11), (24, 11), (24, 20), (14, 20), (9, 24), (9, 20), (8, 20))


def inside(x: float, y: float, polygon=BUBBLE) -> bool:
    """Even-odd rule: whether the point lies inside the polygon."""
    hit = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def pixels(size: int) -> bytes:
    rows = []
    scale = 32 / size
    for py in range(size):
        row = bytearray([0])  # filter type 0 for each scanline
        for px in range(size):
            row += bytes(WHITE if inside((px + 0.5) * scale, (py + 0.5) * scale) else TEAL)
        rows.append(bytes(row))
    return b"".join(rows)


def png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(pixels(size), 9)) + chunk(b"IEND", b""))


def main(root: Path = ROOT) -> list[Path]:
    written = []
    for size in SIZES:
        path = root / "static" / f"icon-{size}.png"
        path.write_bytes(png(size))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
