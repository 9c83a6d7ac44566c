"""Image attachments: checked, then re-encoded from their pixels, so no uploaded byte is stored.

Theory of operation. `clean_image(data)` runs on a worker thread (`server.work_pool`):

1. `image_framing.check_framing` decides the type by the bytes (never the name or the
   client's type) and refuses polyglots and truncated containers, with bounded work.
2. Pillow reads the header only; a picture over MAX_SIDE x MAX_SIDE or MAX_PIXELS is
   refused before any pixel is decoded (a small file can declare 50000x50000).
3. Pillow decodes the first frame (GIL released), ImageOps.exif_transpose turns it upright,
   an ICC profile is applied (pixels converted to sRGB), and the picture is encoded again in
   the same format family with no metadata at all: no EXIF (GPS, camera, serial), XMP,
   comments, text chunks or ICC profile.

An animated GIF, PNG or WebP keeps its first frame only: the work is then bounded by one
frame of at most 40 MP like any still image (2,000 frames of 40 MP would be minutes of
CPU), there is no per-frame timing or disposal to carry over, and the chat shows pictures,
not clips.

Files are stored under the media directory with an unguessable random name (144 bits) and
served back with the type of their extension, `nosniff`, a sandboxing CSP and `Cache-Control:
private`: see docs/RELIABILITY.md ("Media access") for why names rather than a participant
check. A file is written under a hidden `.part` name first and renamed to its served name
only once its message row is inserted (`server.messaging.deliver`).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from server.image_framing import (FORMAT_NAMES, MAX_IMAGE_BYTES, MAX_PIXELS, MAX_SIDE, BadImage, check_framing, fits,
                                  sniff_image, too_large)

__all__ = ["MAX_IMAGE_BYTES", "MAX_PIXELS", "MAX_SIDE", "BadImage", "CleanImage", "PendingImage", "clean_image",
           "delete_image", "media_type", "remove_stale_parts", "sniff_image"]

# Pillow's own bomb guard, process-wide: open() raises past 2 x MAX_PIXELS. Between 1x and
# 2x it only warns; `fits()` refuses those before loading, so the warning says nothing new.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("ignore", Image.DecompressionBombWarning)

_KINDS = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
_PILLOW_FORMATS = {"png": ("PNG",), "jpg": ("JPEG",), "gif": ("GIF",), "webp": ("WEBP",)}
MEDIA_NAME = re.compile(r"^[A-Za-z0-9_-]{16,64}\.(png|jpg|gif|webp)$")
MEDIA_CSP = "sandbox; default-src 'none'"
# Only the browser that fetched it keeps a copy (no shared cache); the name never changes content.
MEDIA_CACHE_CONTROL = "private, max-age=31536000, immutable"
JPEG_QUALITY = 90  # visually lossless for photos; 95+ roughly doubles the size for nothing seen
WEBP_QUALITY = 90
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class CleanImage:
    extension: str
    data: bytes  # the re-encoded file: what is stored and counted against the quota
    width: int
    height: int


def clean_image(data: bytes) -> CleanImage:
    """Check `data` and re-encode it without metadata; BadImage says why it was refused."""
    if len(data) > MAX_IMAGE_BYTES:
        raise BadImage("Image is larger than 5 MB.")
    extension = check_framing(data)
    try:
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[extension]) as picture:
            if not fits(*picture.size):
                raise too_large()
            picture.load()
            upright = _upright(picture)
            encoded = _encode(upright, extension)
    except BadImage:
        raise
    except Image.DecompressionBombError:
        raise too_large() from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):  # what Pillow raises for a bad file
        raise BadImage(f"The {FORMAT_NAMES[extension]} file could not be decoded.") from None
    return CleanImage(extension, encoded, *upright.size)


def _upright(picture: Image.Image) -> Image.Image:
    """The first frame, turned by its EXIF orientation, in sRGB, with every metadata key gone."""
    icc = picture.info.get("icc_profile")
    try:
        ImageOps.exif_transpose(picture, in_place=True)  # in place: no second copy of 40 MP
    except (SyntaxError, ValueError, TypeError, KeyError, OSError):
        pass  # unreadable EXIF: the pixels as stored (the EXIF is dropped anyway)
    upright = picture
    if upright.mode == "CMYK":
        upright = _to_srgb(upright, icc, "RGB")
    elif icc and upright.mode in ("RGB", "RGBA"):
        upright = _to_srgb(upright, icc, upright.mode)
    transparency = upright.info.get("transparency")
    upright.info = {} if transparency is None else {"transparency": transparency}
    return upright


def _to_srgb(picture: Image.Image, icc: bytes | None, mode: str) -> Image.Image:
    """Apply the picture's own profile (a phone's Display P3 looks washed out read as sRGB)
    and drop it. A profile that cannot be read is ignored: the pixels stay as they are."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(picture, source, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass
    return picture.convert(mode)


def _encode(picture: Image.Image, extension: str) -> bytes:
    out = io.BytesIO()
    extra = {k: v for k, v in picture.info.items() if k == "transparency"}
    if extension == "jpg":
        if picture.mode not in ("L", "RGB"):
            picture = picture.convert("RGB")
        picture.save(out, "JPEG", quality=JPEG_QUALITY)
    elif extension == "png":
        picture.save(out, "PNG", **extra)
    elif extension == "gif":
        picture.save(out, "GIF", **extra)
    else:
        if picture.mode not in ("RGB", "RGBA"):
            picture = picture.convert("RGBA" if "A" in picture.mode or extra else "RGB")
        picture.save(out, "WEBP", quality=WEBP_QUALITY)
    return out.getvalue()


# --- storage ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PendingImage:
    """A file on its way into the media directory: written under `part` (a hidden name that
    `/media/` never serves), then renamed to `final` once its row exists."""
    part: Path
    final: Path

    @classmethod
    def named(cls, media_dir: Path, extension: str) -> PendingImage:
        name = f"{secrets.token_urlsafe(18)}.{extension}"
        return cls(media_dir / f".{name}.part", media_dir / name)

    @property
    def url(self) -> str:
        return f"/media/{self.final.name}"

    def write(self, data: bytes) -> None:
        self.part.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.part.write_bytes(data)

    def place(self) -> None:
        os.replace(self.part, self.final)

    def discard(self) -> None:
        """Remove whichever of the two names exists; gone already is fine."""
        self.part.unlink(missing_ok=True)
        self.final.unlink(missing_ok=True)


STALE_PART_SECONDS = 3600.0


def remove_stale_parts(media_dir: Path, now: float) -> int:
    """At start-up: remove the `.part` files a killed process left (a send killed between
    its write and its rename). Only those an hour old: another worker may be writing one."""
    removed = 0
    for path in media_dir.glob(".*.part") if media_dir.is_dir() else ():
        try:
            if path.stat().st_mtime < now - STALE_PART_SECONDS:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # another worker removed it first
    return removed


def delete_image(media_dir: Path, url: str) -> None:
    """Remove a stored file by its URL; gone already is fine."""
    name = url.rsplit("/", 1)[-1]
    if MEDIA_NAME.match(name):
        (media_dir / name).unlink(missing_ok=True)


def media_type(name: str) -> str | None:
    """The MIME type to serve a stored name with, or None when the name is not one we made."""
    match = MEDIA_NAME.match(name)
    return _KINDS[match.group(1)] if match else None
