"""Issue 11 item 10: uploads are decoded by a bounded decoder before they are stored, and
media are served with unguessable names and private caching."""

import struct
import zlib

import image_samples
import pytest
from server_harness import bearer, login

from server import image_framing, images

SEND = "/api/messaging/conversations/2/send/"


def send_image(client, coach, data):
    return client.post(SEND, data={"content": ""}, files={"image": ("x", data, "application/octet-stream")},
                       headers=bearer(coach))


@pytest.fixture
def coach(client):
    return login(client)


def stored_files(client):
    media = client.app.state.ctx.media_dir
    return sorted(media.iterdir()) if media.exists() else []


@pytest.mark.parametrize("data,ext", [(image_samples.png(4, 3), "png"), (image_samples.picture("jpg", 640, 480), "jpg"),
                                      (image_samples.picture("gif", 2, 2), "gif"),
                                      (image_samples.picture("webp", 16, 9), "webp")])
def test_well_formed_images_of_each_format_are_accepted(client, coach, data, ext):
    response = send_image(client, coach, data)
    assert response.status_code == 201, response.text
    assert response.json()["image"].endswith("." + ext)


def _lying_png(width, height):
    """A small PNG whose header declares a huge picture (the pixel data is tiny)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 12_000)) + chunk(b"IEND", b""))


HOSTILE = {
    "8-byte PNG (signature only)": b"\x89PNG\r\n\x1a\n",
    "PNG declaring 50000x50000": _lying_png(50000, 50000),
    "PNG declaring 8193x1": _lying_png(8193, 1),
    "PNG with its pixel data cut short": image_samples.png(64, 64, pixels=b"\x00" * 10),
    "PNG with a bad CRC": image_samples.png()[:-5] + b"\x00" + image_samples.png()[-4:],
    "PNG + HTML after IEND": image_samples.png(trailer=b"<html><script>alert(1)</script></html>"),
    "GIF/HTML polyglot (HTML after the trailer)": image_samples.gif(trailer=b"<script>alert(1)</script>"),
    "GIF whose size bytes spell '/*' (a classic polyglot)": b"GIF89a/*\x00\x00" + b"\x00" * 3 + b"*/=1;alert(1)",
    "GIF declaring 60000x60000": image_samples.gif(60000, 60000),
    "GIF without its trailer": image_samples.gif()[:-1],
    "JPEG with bytes after EOI": image_samples.jpeg() + b"<html>",
    "JPEG declaring 40000x40000": image_samples.jpeg(40000, 40000),
    "JPEG without EOI": image_samples.jpeg()[:-2],
    "WebP whose RIFF size lies": image_samples.webp()[:4] + b"\xff\x00\x00\x00" + image_samples.webp()[8:],
    "WebP declaring 16384x16384": image_samples.webp(16384, 16384),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_malformed_oversized_and_polyglot_images_are_400_and_not_stored(client, coach, name):
    response = send_image(client, coach, HOSTILE[name])
    assert response.status_code == 400, name
    assert set(response.json()) == {"detail"}
    assert stored_files(client) == []


def test_the_decoder_never_inflates_more_than_the_header_promises():
    # 64x64 RGB needs 64 * (1 + 192) bytes; a zip bomb of 50 MB of zeros must stop early.
    bomb = image_samples.png(64, 64, pixels=b"\x00" * (50 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(images.BadImage, match="larger than the declared size"):
        image_framing.check_framing(bomb)


def test_media_is_cached_privately_under_an_unguessable_name(client, coach):
    url = send_image(client, coach, image_samples.png()).json()["image"]
    name = url.rsplit("/", 1)[1].split(".")[0]
    assert len(name) >= 24  # 18 random bytes, url-safe base64: 144 bits
    served = client.get(url)
    assert served.status_code == 200
    assert served.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert served.headers["referrer-policy"] == "no-referrer"  # the name does not leak to other sites
    assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"
