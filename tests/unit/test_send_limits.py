"""The sending limits said before they bite: counter, text over the limit, file type and size."""

import pytest

from core.send_limits import (ACCEPT, COUNTER_FROM, IMAGE_TYPES, MAX_CONTENT, MAX_IMAGE_BYTES, attachment_refusal,
                              counter_text, is_over, text_refusal)


def test_the_counter_appears_only_near_the_limit_and_counts_past_it():
    assert counter_text(COUNTER_FROM - 1) is None
    assert counter_text(COUNTER_FROM) == "1,800 / 2,000"
    assert counter_text(2001) == "2,001 / 2,000"
    assert is_over(2001) and not is_over(2000)


@pytest.mark.parametrize("length", [0, 1, 1999, MAX_CONTENT])
def test_text_up_to_the_limit_is_sendable(length):
    assert text_refusal("a" * length) is None


def test_text_over_the_limit_is_refused_in_words_with_how_much_to_cut():
    assert text_refusal("a" * 2001) == ("Not sent: the message is 2,001 characters and the limit is 2,000. "
                                        "Remove 1 character and send again.")
    assert "Remove 1,000 characters" in text_refusal("a" * 3000)


def test_characters_are_code_points_not_utf16_units():
    assert text_refusal("😀" * MAX_CONTENT) is None  # 4,000 UTF-16 units, 2,000 characters
    assert text_refusal("😀" * (MAX_CONTENT + 1)) is not None


@pytest.mark.parametrize("mime", IMAGE_TYPES + ("IMAGE/PNG",))
def test_the_four_image_types_are_accepted_up_to_5_mb(mime):
    assert attachment_refusal("p", mime, MAX_IMAGE_BYTES) is None


@pytest.mark.parametrize("mime", ["text/plain", "", "image/svg+xml", "image/bmp", "application/pdf", "image/heic"])
def test_other_types_are_refused_with_the_reason(mime):
    assert attachment_refusal("notes.txt", mime, 10) == (
        "notes.txt is not an image the chat accepts. Choose a PNG, JPEG, GIF or WebP image.")


def test_an_image_over_5_mb_is_refused_with_its_size():
    assert attachment_refusal("big.jpg", "image/jpeg", MAX_IMAGE_BYTES + 1) == (
        "big.jpg is 5.0 MB; images can be at most 5 MB.")
    assert "6.0 MB" in attachment_refusal("big.png", "image/png", 6 * 1024 * 1024)


def test_the_pickers_accept_list_is_exactly_the_contracts_types():
    assert ACCEPT.split(",") == ["image/png", "image/jpeg", "image/gif", "image/webp"]
