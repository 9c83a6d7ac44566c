"""Issue 22, item 4: a thumbnail keeps the photo's ratio within a maximum box."""

import math

import pytest

from core.photo_fit import DESKTOP_BOX, MIN_SIDE, PHONE_BOX, RESERVED, Box, thumbnail_size


def test_a_portrait_photo_is_as_tall_as_the_box_and_keeps_its_ratio():
    assert thumbnail_size(300, 600) == (160, 320)


def test_a_landscape_photo_is_as_wide_as_the_box_and_keeps_its_ratio():
    assert thumbnail_size(4000, 3000) == (280, 210)


def test_a_square_photo_fills_the_shorter_side_of_the_box():
    assert thumbnail_size(1000, 1000) == (280, 280)
    assert thumbnail_size(1000, 1000, PHONE_BOX) == (220, 220)


def test_a_small_photo_is_scaled_up_to_the_box():
    assert thumbnail_size(4, 4) == (280, 280)
    assert thumbnail_size(64, 48) == (280, 210)


def test_a_phone_gets_the_smaller_box():
    assert thumbnail_size(300, 600, PHONE_BOX) == (130, 260)
    assert thumbnail_size(600, 300, PHONE_BOX) == (220, 110)


def test_odd_sizes_round_to_whole_pixels_within_the_box():
    width, height = thumbnail_size(333, 777)
    assert (width, height) == (137, 320)
    assert abs(width / height - 333 / 777) < 0.01


@pytest.mark.parametrize("size", [(10_000, 10), (10, 10_000), (10**12, 1), (1, 10**12)])
def test_a_very_thin_photo_is_never_thinner_than_the_minimum(size):
    width, height = thumbnail_size(*size)
    assert MIN_SIDE <= width <= DESKTOP_BOX.width and MIN_SIDE <= height <= DESKTOP_BOX.height
    assert max(width, height) in (DESKTOP_BOX.width, DESKTOP_BOX.height)


def test_huge_photos_fit_the_box():
    assert thumbnail_size(10**9, 2 * 10**9) == (160, 320)
    assert thumbnail_size(1e300, 1e300) == (280, 280)


@pytest.mark.parametrize("width,height", [
    (0, 0), (0, 600), (600, 0), (-300, 600), (300, -600), (None, 600), ("300", "600"),
    (True, True), (math.nan, 600), (math.inf, 600), (300, math.inf), (object(), 1),
])
def test_an_unknown_or_broken_size_gets_the_reserved_box(width, height):
    assert thumbnail_size(width, height) == RESERVED


def test_the_reserved_box_itself_fits_a_smaller_box():
    assert thumbnail_size(0, 0, Box(200, 100)) == (200, 100)
    assert thumbnail_size(0, 0, PHONE_BOX) == (220, 180)


def test_a_box_smaller_than_the_minimum_is_kept():
    assert thumbnail_size(10_000, 10, Box(20, 20)) == (20, 20)
