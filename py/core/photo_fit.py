"""How big a photo's thumbnail is drawn in the message list (issue 22, item 4).

A thumbnail keeps the photo's own aspect ratio and fits inside a maximum box (a portrait
photo is tall and narrow, a landscape one wide and low) instead of one fixed 4:3 crop.
Until the photo has loaded its size is unknown, so the list reserves `RESERVED` for it
(the old 240 x 180) and swaps in `thumbnail_size(...)` on load; the list's size watch then
keeps a reader who was at the bottom there.

Sizes come from the browser (naturalWidth/Height): a photo that failed to decode reports 0,
and anything that is not a positive finite number gets the reserved box, calmly. A very
thin photo (a 10,000 x 10 panorama) is scaled into the box but never thinner than
`MIN_SIDE` (the thumbnail then crops, object-fit: cover), so it stays a target to click.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple


class Box(NamedTuple):
    width: int
    height: int


DESKTOP_BOX = Box(280, 320)
PHONE_BOX = Box(220, 260)   # a 390 px phone: the bubble is at most 85 % of the list
RESERVED = Box(240, 180)    # before the photo's size is known
MIN_SIDE = 48


def _usable(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value > 0


def _within(value: float, low: int, high: int) -> int:
    return max(low, min(high, int(round(value))))


def thumbnail_size(width: Any, height: Any, box: Box = DESKTOP_BOX) -> Box:
    """The drawn (width, height) of a width x height photo: its ratio, as large as fits `box`."""
    low_w, low_h = min(MIN_SIDE, box.width), min(MIN_SIDE, box.height)
    if not (_usable(width) and _usable(height)):
        return Box(_within(RESERVED.width, low_w, box.width), _within(RESERVED.height, low_h, box.height))
    scale = min(box.width / width, box.height / height)
    return Box(_within(width * scale, low_w, box.width), _within(height * scale, low_h, box.height))
